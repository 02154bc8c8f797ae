"""Routing from an event log, first- or second-order, with a runaway-loop check.

`RoutingFitter().fit(events)` counts, per case ordered by start time, the first activity
and every transition A -> B (and A -> exit). Branch probabilities are the MLE
count(A -> B) / count(A). With `order=2` the chain runs on states "B after A" (B as a
case's first activity: state "B"), so where a case goes next depends on the last two
activities (history-aware: a rework loop's second pass may branch unlike its first);
`pairs_` maps each state to (previous activity or None, activity). For an absorbing
Markov chain estimated this way the expected visits per case equal the observed ones
exactly, so a blow-up (Simod's 1,515 events per case on Production against 14 observed)
can only come from smoothing or merging; the fitter still verifies it, with the
fundamental matrix for the mean and random walks for the tail, and caps any self-loop
whose expected run exceeds the longest observed run.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

EXIT = "exit"


class RoutingFitter:
    def __init__(
        self, walks: int = 4000, random_state: int = 0, blowup_ratio: float = 1.1, order: int = 1
    ) -> None:
        self.walks = walks
        self.random_state = random_state
        self.blowup_ratio = blowup_ratio
        self.order = order

    def fit(self, events: pd.DataFrame, weights: pd.Series | None = None) -> RoutingFitter:
        """`weights`: per case_id, how many cases each stands for (default 1)."""
        traces = (
            events.sort_values(["case_id", "start_time", "end_time"], kind="stable")
            .groupby("case_id", sort=False)["activity"]
            .agg(list)
        )
        if traces.empty:
            raise ValueError("routing: no cases")
        if self.order not in (1, 2):
            raise ValueError(f"routing order must be 1 or 2, not {self.order}")
        self.pairs_: dict[str, tuple[str | None, str]] = {}
        traces = traces.map(self._states)
        self.traces_ = traces  # each case's states, in order
        self.activities_ = sorted({a for t in traces for a in t})
        w = pd.Series(1.0, index=traces.index) if weights is None else weights.reindex(traces.index)
        starts: Counter[str] = Counter()
        counts: dict[str, Counter[str]] = {a: Counter() for a in self.activities_}
        for case, trace in traces.items():
            starts[trace[0]] += w[case]
            for a, b in zip(trace, [*trace[1:], EXIT], strict=True):
                counts[a][b] += w[case]
        self.start_ = normalise(starts)
        self.counts_ = counts
        self.warnings_: list[str] = []
        self.next_ = {a: normalise(c) for a, c in counts.items()}
        self.longest_run_ = _longest_runs(traces)
        self._cap_self_loops()
        lengths = traces.map(len)
        self.observed_events_per_case_ = float(np.average(lengths, weights=w))
        self.observed_p99_ = float(np.quantile(lengths, 0.99))
        self.expected_events_per_case_ = self.expected_visits()
        self.simulated_p99_ = self._walk_p99()
        self._check()
        return self

    def _states(self, trace: list[str]) -> list[str]:
        """The case's activities as chain states (themselves in first order)."""
        out = []
        for i, b in enumerate(trace):
            prev = trace[i - 1] if i and self.order == 2 else None
            state = b if prev is None else f"{b} after {prev}"
            self.pairs_[state] = (prev, b)
            out.append(state)
        return out

    def _cap_self_loops(self) -> None:
        for a, probs in self.next_.items():
            self.next_[a], why = self.capped(a, probs)
            if why:
                self.warnings_.append(why)

    def capped(self, a: str, probs: dict[str, float]) -> tuple[dict[str, float], str | None]:
        """Branches out of `a` with its self-loop capped where its expected run would exceed
        the longest observed (and why, else None)."""
        p = probs.get(a, 0.0)
        longest = self.longest_run_.get(a, 1)
        cap = 1 - 1 / longest if longest > 1 else 0.0
        if p <= cap:
            return probs, None
        rest = 1 - p
        out = {b: (q / rest * (1 - cap) if b != a else cap) for b, q in probs.items()}
        return out, f"{a}: self-loop {p:.3f} capped at {cap:.3f} (longest run {longest})"

    def expected_visits(self) -> float:
        """Mean activities per case of the fitted chain: start · (I - Q)^-1 · 1."""
        index = {a: i for i, a in enumerate(self.activities_)}
        q = np.zeros((len(index), len(index)))
        for a, probs in self.next_.items():
            for b, p in probs.items():
                if b != EXIT:
                    q[index[a], index[b]] = p
        start = np.array([self.start_.get(a, 0.0) for a in self.activities_])
        try:
            visits = np.linalg.solve((np.eye(len(index)) - q).T, start)
        except np.linalg.LinAlgError:
            return float("inf")
        return float(visits.sum())

    def _walk_p99(self) -> float:
        rng = np.random.default_rng(self.random_state)
        limit = int(20 * max(self.observed_p99_, 10))
        lengths = [self._walk(rng, limit) for _ in range(self.walks)]
        return float(np.quantile(lengths, 0.99))

    def _walk(self, rng: np.random.Generator, limit: int) -> int:
        state = _draw(rng, self.start_)
        steps = 0
        while state != EXIT and steps < limit:
            steps += 1
            state = _draw(rng, self.next_[state])
        return steps

    def _check(self) -> None:
        ratio = self.expected_events_per_case_ / self.observed_events_per_case_
        if not 1 / self.blowup_ratio <= ratio <= self.blowup_ratio:
            self.warnings_.append(
                f"expected {self.expected_events_per_case_:.2f} events per case, "
                f"observed {self.observed_events_per_case_:.2f}"
            )
        if self.simulated_p99_ > 2 * self.observed_p99_:
            self.warnings_.append(
                f"p99 events per case {self.simulated_p99_:.0f} in the chain vs "
                f"{self.observed_p99_:.0f} observed: long loops"
            )

    def summary(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "start": self.start_,
            "next": self.next_,
            "transitions": {a: dict(c) for a, c in self.counts_.items()},
            "longest_self_loop_run": self.longest_run_,
            "observed_events_per_case": self.observed_events_per_case_,
            "expected_events_per_case": self.expected_events_per_case_,
            "observed_p99_events_per_case": self.observed_p99_,
            "chain_p99_events_per_case": self.simulated_p99_,
            "warnings": self.warnings_,
        }


def normalise(counter: Counter[str]) -> dict[str, float]:
    total = sum(counter.values())
    return {k: float(v / total) for k, v in sorted(counter.items())}


def _draw(rng: np.random.Generator, probs: dict[str, float]) -> str:
    keys = list(probs)
    return keys[int(rng.choice(len(keys), p=np.array(list(probs.values())) / sum(probs.values())))]


def _longest_runs(traces: pd.Series) -> dict[str, int]:
    longest: dict[str, int] = {}
    for trace in traces:
        run = 1
        for i, a in enumerate(trace):
            run = run + 1 if i and trace[i - 1] == a else 1
            longest[a] = max(longest.get(a, 0), run)
    return longest
