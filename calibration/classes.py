"""Entity classes from a case attribute column of the log (`twin calibrate --classes COLUMN`).

`ClassFitter().fit(table, column, weights)` reads the column per case (its first non-empty
value in the case's order; `varying_` counts the cases where it takes more than one), makes
each value a class (named by `names.slugs`; a case without a value is `unknown`; values of
fewer than `min_share` of the cases or fewer than `min_cases` cases pooled into `other`)
and sets `shares_`, each class's share of the cases weighted like the arrival rate (the
selection weights of `calibration.selection`), with its sampling error `stderr_`.

Per-class durations (`durations`): at each activity, the class seen there most is the
reference, which keeps the activity's duration; each other class with `min_n` or more
observations whose durations differ from those of the activity's other classes
(two-sample Kruskal-Wallis at level `alpha`, Bonferroni over the classes tested) gets its
own fit (DurationFitter), and the activity's duration is then refitted on the classes left.
Per-class routing (`routing`): the same at each routing state (an activity, or "B after A"
in second order, and the start) with `min_n` or more transitions out of it and a G-test of
homogeneity of the branches; a class that differs gets its own row (`class_next`),
weighted like the chain's, and the state's `next` is refitted on the classes left.
Classes with less data, or no difference, share the state's row.

Priorities are not fitted: the log shows who was served when, not the rule that chose, and
a class that happens to wait less is no evidence of a priority (it may need other resources,
or come at quieter hours). `priority` is for the modeller to set.

`candidates(events)` lists the columns that can be classes (2 to `max_values` distinct
values, constant in 95%+ of cases); `evidence(events, column)` scores one cheaply (how far
its classes' durations and branches differ beyond chance) so validation searches the
likeliest only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calibration import names
from calibration.fitters import DurationFitter
from calibration.loaders import COLUMNS, CalibrationDataError
from calibration.routing import EXIT, RoutingFitter, normalise

OTHER, UNKNOWN = "other", "unknown"
NO_CLASSES = "none"  # the option's value for a twin without classes
START = "start"  # the chain's first draw, as a state


def require_column(events: pd.DataFrame, column: str, why: str) -> None:
    if column not in events.columns:
        raise CalibrationDataError(
            f"column '{column}' ({why}) not found in the event table; columns are {list(events.columns)}"
        )


def case_values(events: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    """(first non-empty value per case, '' where none; distinct non-empty values per case)."""
    ordered = events.sort_values(["case_id", "start_time", "end_time"], kind="stable")
    values = ordered[column].astype(str).str.strip().to_numpy()
    present = ordered.assign(_v=values)[values != ""]
    first = present.groupby("case_id")["_v"].first()
    distinct = present.groupby("case_id")["_v"].nunique()
    cases = pd.Index(ordered["case_id"].unique())
    return first.reindex(cases, fill_value=""), distinct.reindex(cases, fill_value=0)


class ClassFitter:
    def __init__(
        self, min_share: float = 0.05, min_cases: int = 30, min_n: int = 30, alpha: float = 0.01
    ) -> None:
        self.min_share = min_share
        self.min_cases = min_cases
        self.min_n = min_n
        self.alpha = alpha

    def fit(self, table: pd.DataFrame, column: str, weights: pd.Series | None = None) -> ClassFitter:
        require_column(table, column, "classes")
        self.column_ = column
        first, distinct = case_values(table, column)
        self.varying_ = int((distinct > 1).sum())
        self.missing_ = int((first == "").sum())
        counts = first.value_counts()
        rare = {v for v, n in counts.items() if n < self.min_cases or n < self.min_share * len(first)}
        kept = [str(v) for v in counts.index if v not in rare]
        labels = names.slugs([v for v in kept if v != ""], reserved=(OTHER, UNKNOWN))
        if "" in kept:
            labels[""] = UNKNOWN
        label = first.map(lambda v: labels.get(v, OTHER))
        self.classes_: pd.Series = label
        self.values_: dict[str, list[str]] = {labels.get(str(v), OTHER): [] for v in counts.index}
        for v in counts.index:
            self.values_[labels.get(str(v), OTHER)].append(str(v) or "(empty)")
        w = pd.Series(1.0, index=label.index) if weights is None else weights.reindex(label.index).fillna(1.0)
        shares = w.groupby(label).sum() / w.sum()
        self.cases_ = {str(k): int(n) for k, n in label.value_counts().items()}
        order = sorted(shares.index, key=lambda k: (-shares[k], k))
        self.shares_: dict[str, float] = {str(k): _r(shares[k]) for k in order}
        _close(self.shares_)
        n = len(label)
        self.stderr_ = {k: float(np.sqrt(p * (1 - p) / n)) for k, p in self.shares_.items()}
        return self

    @property
    def used_(self) -> bool:
        """Whether the twin gets classes (one class would change nothing)."""
        return len(self.shares_) > 1

    def of(self, table: pd.DataFrame) -> pd.Series:
        """Each event's class."""
        return table["case_id"].map(self.classes_)

    def durations(self, table: pd.DataFrame) -> dict[str, dict[str, Any]]:
        """activity -> {"own": {class: DurationFitter}, "rest": DurationFitter of the other
        classes (None when none has its own), "pvalues": {class: p}} for activities where
        some class was tested."""
        out: dict[str, dict[str, Any]] = {}
        classed = table[["activity", "duration"]].assign(_class=self.of(table).to_numpy())
        for activity, group in classed.groupby("activity"):
            by = {str(k): g.to_numpy() for k, g in group.groupby("_class")["duration"]}
            tested = self._tested({k: len(x) for k, x in by.items()})
            if not tested:
                continue
            pvalues = {k: _kruskal(by[k], np.concatenate([x for c, x in by.items() if c != k]))
                       for k in tested}
            own = {k: DurationFitter().fit(by[k]) for k in tested if pvalues[k] < self.alpha / len(tested)}
            rest = [x for c, x in by.items() if c not in own]
            out[str(activity)] = {
                "own": own,
                "rest": DurationFitter().fit(np.concatenate(rest)) if own and rest else None,
                "pvalues": pvalues,
            }
        return out

    def _tested(self, sizes: dict[str, int]) -> list[str]:
        """The classes to test at a step: all but the most seen (the reference), with `min_n`."""
        ranked = sorted(sizes, key=lambda k: (-sizes[k], k))
        return [k for k in ranked[1:] if sizes[k] >= self.min_n]

    def routing(self, chain: RoutingFitter, weights: pd.Series | None = None) -> ClassRouting:
        return ClassRouting(self, chain, weights)

    def summary(self) -> dict[str, Any]:
        return {
            "column": self.column_,
            "shares": self.shares_,
            "share_stderr": self.stderr_,
            "cases": self.cases_,
            "values": self.values_,
            "cases_where_it_varies": self.varying_,
            "cases_without_a_value": self.missing_,
            "rule": (f"a value of fewer than {self.min_share:.0%} of the cases or {self.min_cases} cases "
                     f"is pooled into '{OTHER}'; a case's class is its first non-empty value"),
            "priority": "not fitted: the log shows who was served when, not the rule that chose; "
                        "set `priority` per activity by hand if the process has one",
        }


class ClassRouting:
    """Per-class rows of a fitted chain where a class has enough transitions and differs.

    `start_`/`next_`: the chain's rows refitted on the classes without their own row there
    (the chain's own where nothing changed); `class_start_`/`class_next_`: state -> class ->
    branches."""

    def __init__(self, kinds: ClassFitter, chain: RoutingFitter, weights: pd.Series | None) -> None:
        traces = chain.traces_
        label = kinds.classes_.reindex(traces.index)
        w = pd.Series(1.0, index=traces.index) if weights is None else weights.reindex(traces.index)
        raw: dict[str, dict[str, Counter[str]]] = {}
        weighted: dict[str, dict[str, Counter[str]]] = {}
        for case, trace in traces.items():
            k = label[case]
            for a, b in zip([START, *trace], [*trace, EXIT], strict=True):
                raw.setdefault(a, {}).setdefault(k, Counter())[b] += 1
                weighted.setdefault(a, {}).setdefault(k, Counter())[b] += w[case]
        self.start_, self.next_ = dict(chain.start_), dict(chain.next_)
        self.class_start_: dict[str, dict[str, float]] = {}
        self.class_next_: dict[str, dict[str, dict[str, float]]] = {}
        self.pvalues_: dict[str, dict[str, float]] = {}
        self.warnings_: list[str] = []
        for state, counts in raw.items():
            tested = kinds._tested({k: sum(c.values()) for k, c in counts.items()})
            if not tested:
                continue
            self.pvalues_[state] = {k: _homogeneity(counts[k], _sum(c for j, c in counts.items() if j != k))
                                    for k in tested}
            own = [k for k in tested if self.pvalues_[state][k] < kinds.alpha / len(tested)]
            if not own:
                continue
            rows = {k: self._row(chain, state, weighted[state][k]) for k in own}
            rest = [c for j, c in weighted[state].items() if j not in own]
            if state == START:
                self.class_start_ = rows
                if rest:
                    self.start_ = normalise(_sum(rest))
            else:
                self.class_next_[state] = rows
                if rest:
                    self.next_[state] = self._row(chain, state, _sum(rest))

    def _row(self, chain: RoutingFitter, state: str, counts: Counter[str]) -> dict[str, float]:
        probs = normalise(counts)
        if state == START:
            return probs
        probs, why = chain.capped(state, probs)
        if why:
            self.warnings_.append(why)
        return probs

    def summary(self) -> dict[str, Any]:
        return {
            "start": self.class_start_,
            "next": self.class_next_,
            "rest_start": self.start_ if self.class_start_ else {},
            "rest_next": {s: self.next_[s] for s in self.class_next_},
            "pvalues": self.pvalues_,
            "warnings": self.warnings_,
        }


def _sum(counters: Any) -> Counter[str]:
    total: Counter[str] = Counter()
    for c in counters:
        total.update(c)
    return total


def _kruskal(x: np.ndarray, y: np.ndarray) -> float:
    if len(y) == 0 or np.ptp(np.concatenate([x, y])) == 0:
        return 1.0
    return float(stats.kruskal(x, y).pvalue)


def _homogeneity(a: Counter[str], b: Counter[str]) -> float:
    """p-value of a G-test that two rows of branch counts come from one distribution."""
    keys = sorted(set(a) | set(b))
    if len(keys) < 2 or not b:
        return 1.0
    table = np.array([[a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]], dtype=float)
    return float(stats.chi2_contingency(table, lambda_="log-likelihood").pvalue)


def _r(value: float) -> float:
    return float(f"{value:.6g}")


def _close(shares: dict[str, float]) -> None:
    """Rounded shares summing to 1 exactly enough for the spec (the largest takes the rest)."""
    if shares:
        top = next(iter(shares))
        shares[top] = 1 - sum(v for k, v in shares.items() if k != top)


def candidates(
    events: pd.DataFrame, max_values: int = 8, min_constant: float = 0.95, exclude: tuple[str, ...] = ()
) -> list[str]:
    """Columns that can be classes: 2 to `max_values` distinct values over the cases'
    first values, constant in `min_constant` of cases; never the canonical columns."""
    out = []
    for column in events.columns:
        if column in COLUMNS or column in exclude:
            continue
        first, distinct = case_values(events, column)
        values = first[first != ""].nunique()
        if 2 <= values <= max_values and float((distinct <= 1).mean()) >= min_constant:
            out.append(str(column))
    return out


def evidence(table: pd.DataFrame, column: str, min_n: int = 30) -> float:
    """How far the column's classes differ beyond chance: over activities, the Kruskal-Wallis
    H of their durations less its degrees of freedom, plus over first-order states the
    G statistic of their branches less its degrees of freedom (each about 0 without a
    difference); only classes with `min_n` observations count."""
    kinds = ClassFitter(min_n=min_n).fit(table, column)
    ordered = table.sort_values(["case_id", "start_time", "end_time"], kind="stable")
    classed = ordered.assign(_class=kinds.of(ordered).to_numpy())
    score = 0.0
    for _, group in classed.groupby("activity"):
        by = [g.to_numpy() for _, g in group.groupby("_class")["duration"] if len(g) >= min_n]
        if len(by) > 1 and np.ptp(np.concatenate(by)) > 0:
            score += float(stats.kruskal(*by).statistic) - (len(by) - 1)
    nxt = classed.groupby("case_id")["activity"].shift(-1).fillna(EXIT)
    pairs = pd.DataFrame({"a": classed["activity"], "b": nxt, "k": classed["_class"]})
    for _, group in pairs.groupby("a"):
        counts = pd.crosstab(group["k"], group["b"])
        counts = counts[counts.sum(axis=1) >= min_n]
        counts = counts.loc[:, counts.sum(axis=0) > 0]
        if counts.shape[0] > 1 and counts.shape[1] > 1:
            g = stats.chi2_contingency(counts.to_numpy(), lambda_="log-likelihood", correction=False)
            score += float(g.statistic) - float(g.dof)
    return score
