"""Forecast from the current state, judged on the shared logs' test splits against two baselines.

    .venv/bin/python bench/forecast.py [DATASET ...] [--cuts 20] [--replications 100] [--runs 4]
                                       [--recent 0] [--pace 0 [--pace-services]] [--out artifacts/forecast]

For each dataset of bench/scorecard.py: calibrate a twin on train as the scorecard does (cached
as OUT/NAME.yaml), cut the test log at `--cuts` moments spread over its test period (skipping its
first and last week), take the state there (calibration.state.state_from_log, from the test log's
cases begun by then: a case between steps may be in one of the twin's `wait_` steps; arrivals
going on at the twin's level, or with `--recent DAYS` at the level of the cases begun in those
days before the cut) and
forecast one week ahead from it (twin.forecast, fast engine). Judged against what the test log shows happened:
each open case's remaining time (its last end minus the cut) and the number of case completions
(of every case, arrivals after the cut included) in the next day and the next week.

Three methods, each giving a sample per open case and per window, judged by the same rules:
- *from state*: the forecast's replications;
- *empty + warm-up*: the same twin started empty, run `--runs` replications of a long horizon
  after a warm-up: remaining times from its trace (time from an entity's start of a step, in
  service, or end of a step, between steps, to its leaving), per step and state, conditioned on
  the time already spent there; counts of leavings in windows at the same time of the week;
- *historical*: the same, read off the TRAIN log (remaining time from each event's start or end to
  its case's last end; completions in train windows at the same time of the week).
Remaining times are capped at the horizon (one week): a forecast sample not done by then is
"beyond the horizon", and so is an actual remaining time past it; the point is the median of the
capped sample (a case not done by `until` in most replications: the horizon), an interval covers a
case that finished after `until` when its upper end is beyond `until`, and CRPS is that of the
capped remaining time. The test logs hold only cases that ended inside them (see their SOURCE.md),
so a case open at a cut that ends after the test log's end is missing from it. A case at a step
the twin lacks (its train log never showed it) is left out of every method's judgement, and
counted. Results: OUT/NAME.forecast.json; the table of docs/forecast.md is the last one printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.append(str(Path(__file__).resolve().parent))  # bench/ is no package (last: its service.py)

from scorecard import DATA, DATASETS

from calibration.cli import calibrate_files, twin_zone
from calibration.loaders import load_events
from calibration.simlog import read_header
from calibration.state import _Steps, state_from_log
from twin.calendar import UNITS_PER_HOUR
from twin.loader import load_twin
from twin.spec import Twin
from twin.state import State

WEEK_HOURS = 168.0
WINDOWS = {"day": 24.0, "week": WEEK_HOURS}  # completion windows, hours
LEVELS = (0.8, 0.95)
METHODS = ("from state", "empty+warm-up", "historical")
MIN_CONDITIONED = 5  # fewer past samples than this beyond the elapsed time: use them all, floored at 0


# -- metrics (tests/test_forecast_bench.py) ------------------------------------------------
def crps(sample: np.ndarray, y: float) -> float:
    """Empirical CRPS of `sample` at `y`: mean|X - y| - 0.5 mean|X - X'| (over all pairs)."""
    x = np.sort(np.asarray(sample, float))
    m = len(x)
    pairs = 2.0 * float(np.dot(x, 2 * np.arange(m) - m + 1)) / (m * m)
    return float(np.mean(np.abs(x - y))) - 0.5 * pairs


def interval(sample: np.ndarray, level: float) -> tuple[float, float]:
    """The central `level` interval of `sample` (empirical quantiles)."""
    tail = (1 - level) / 2
    lo, hi = np.quantile(sample, [tail, 1 - tail], method="inverted_cdf")
    return float(lo), float(hi)


def covered(sample: np.ndarray, y: float, level: float, cap: float = np.inf) -> bool:
    """Whether `y` lies in the central `level` interval of `sample`, both capped at `cap`
    (so a `y` beyond `cap` is covered when the interval's upper end is beyond it too)."""
    lo, hi = interval(np.minimum(sample, cap), level)
    return lo <= min(y, cap) <= hi


def point(sample: np.ndarray, cap: float = np.inf) -> float:
    """The point forecast: the median of `sample` capped at `cap` (at most `cap`)."""
    return float(np.median(np.minimum(sample, cap)))


@dataclass
class Scores:
    """Per-case (or per-window) errors of one method, pooled over cuts."""

    abs_capped: list[float] = field(default_factory=list)
    abs_raw: list[float] = field(default_factory=list)
    crps: list[float] = field(default_factory=list)
    hits: dict[float, list[bool]] = field(default_factory=lambda: {q: [] for q in LEVELS})
    hits_done: dict[float, list[bool]] = field(default_factory=lambda: {q: [] for q in LEVELS})  # y <= cap

    def add(self, sample: np.ndarray, y: float, cap: float = np.inf) -> None:
        capped = np.minimum(sample, cap)
        guess = point(sample, cap)
        self.abs_capped.append(abs(guess - min(y, cap)))
        self.abs_raw.append(abs(guess - y))
        self.crps.append(crps(capped, min(y, cap)))
        for q in LEVELS:
            self.hits[q].append(covered(sample, y, q, cap))
            if y <= cap:
                self.hits_done[q].append(self.hits[q][-1])

    def summary(self) -> dict[str, float]:
        out = {"mae": _mean(self.abs_capped), "mae_raw": _mean(self.abs_raw), "crps": _mean(self.crps)}
        out |= {f"cover{round(q * 100)}": _mean(self.hits[q]) for q in LEVELS}
        out |= {f"cover{round(q * 100)}_done": _mean(self.hits_done[q]) for q in LEVELS}
        return out | {"n": len(self.crps)}


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


# -- what happened, and the past as a sample ---------------------------------------------
def case_ends(log: pd.DataFrame) -> pd.DataFrame:
    """Per case: its first start and last end."""
    return log.groupby("case_id").agg(first=("start_time", "min"), last=("end_time", "max"))


def wall(t: pd.Timestamp) -> pd.Timestamp:
    """A time on the site's wall clock, naive (as a twin's `start` and a state's clock are)."""
    return t.tz_localize(None) if t.tz is not None else t


def completions(ends: pd.Series, cut: pd.Timestamp, hours: float) -> int:
    """Cases whose last end falls in (cut, cut + hours]."""
    return int(((ends > cut) & (ends <= cut + pd.Timedelta(hours=hours))).sum())


def remaining_table(rows: Iterable[tuple[str, str, float]]) -> dict[tuple[str, str], np.ndarray]:
    """(step, state, time to leave from there) rows -> sorted sample per (step, state)."""
    table: dict[tuple[str, str], list[float]] = defaultdict(list)
    for step, state, left in rows:
        table[(step, state)].append(left)
    return {key: np.sort(np.asarray(v)) for key, v in table.items()}


def conditioned(table: dict[tuple[str, str], np.ndarray], step: str, state: str, elapsed: float,
                everything: np.ndarray) -> np.ndarray:
    """Time left of one there for `elapsed`: past times from there beyond `elapsed`, minus it
    (too few: all of them minus it, floored at 0; a step never seen: every step's)."""
    past = table.get((step, state), everything)
    beyond = past[past > elapsed]
    if len(beyond) >= MIN_CONDITIONED:
        return beyond - elapsed
    return np.maximum(past - elapsed, 0.0)


def with_steps(log: pd.DataFrame, steps: Callable[[str, str | None], str]) -> pd.DataFrame:
    """The log with each event's twin `step`: steps(activity, the case's previous activity)."""
    log = log.sort_values(["case_id", "start_time", "end_time"], kind="stable")
    previous = log.groupby("case_id", sort=False)["activity"].shift(1)
    prev = [None if pd.isna(a) else str(a) for a in previous]
    return log.assign(step=[steps(b, a) for b, a in zip(log["activity"], prev, strict=True)])


def history_rows(log: pd.DataFrame, per_hour: float) -> list[tuple[str, str, float]]:
    """From a log with steps: per event, time from its start (in service) and its end (between)
    to its case's end."""
    last = log.groupby("case_id")["end_time"].transform("max")
    step = log["step"]
    serving = (last - log["start_time"]).dt.total_seconds() / 3600 * per_hour
    between = (last - log["end_time"]).dt.total_seconds() / 3600 * per_hour
    return [(s, "in_service", a) for s, a in zip(step, serving, strict=True)] + [
        (s, "between", b) for s, b in zip(step, between, strict=True)]


def phase_counts(leaves: np.ndarray, origin: float, phase: float, hours: float, end: float) -> np.ndarray:
    """Leavings (times in hours) in windows [origin + phase + k week, + hours) inside [origin, end]."""
    starts = np.arange(origin + phase, end - hours + 1e-9, WEEK_HOURS)
    left = np.sort(leaves)
    inside = np.searchsorted(left, starts + hours, "left") - np.searchsorted(left, starts, "left")
    return inside.astype(float)


# -- the three methods --------------------------------------------------------------------
@dataclass
class Past:
    """A sample source: remaining times per (step, state) and leaving times (hours from `origin`)."""

    table: dict[tuple[str, str], np.ndarray]
    leaves: np.ndarray
    origin: float
    end: float
    clock0: pd.Timestamp  # the calendar time of hour 0

    def __post_init__(self) -> None:
        self.everything = np.sort(np.concatenate(list(self.table.values())))

    def remaining(self, state: State) -> list[np.ndarray]:
        return [conditioned(self.table, e.activity or e.after or "", e.state, state.time - e.since,
                            self.everything) for e in state.entities]

    def counts(self, cut: pd.Timestamp, hours: float) -> np.ndarray:
        phase = ((wall(cut) - self.clock0).total_seconds() / 3600 - self.origin) % WEEK_HOURS
        return phase_counts(self.leaves, self.origin, phase, hours, self.end)


def historical(train: pd.DataFrame, twin: Twin, labels: dict[str, str]) -> Past:
    """The train log as a sample: remaining times per step and state, completions per week phase."""
    per_hour = UNITS_PER_HOUR[twin.time_unit]
    train = with_steps(train, _Steps(train["activity"].unique(), twin, labels))
    clock0 = wall(train["start_time"].min())
    last = (case_ends(train)["last"].dt.tz_localize(None) - clock0).dt.total_seconds().to_numpy() / 3600
    end = (wall(train["end_time"].max()) - clock0).total_seconds() / 3600
    return Past(remaining_table(history_rows(train, per_hour)), last, 0.0, end, clock0)


def steady(twin: Twin, runs: int, seed: int, warmup_weeks: float = 6, weeks: float = 10) -> Past:
    """The twin started empty: `runs` replications of `weeks` after a warm-up, traced."""
    from twin.engine_fast import Packed, simulate_fast

    hour = UNITS_PER_HOUR[twin.time_unit]
    warm, horizon = warmup_weeks * WEEK_HOURS * hour, (warmup_weeks + weeks) * WEEK_HOURS * hour
    long = twin.model_copy(update={"horizon": horizon, "warmup": warm})
    packed = Packed(long)
    rows: list[tuple[str, str, float]] = []
    leaves = []
    for r in range(runs):
        trace = simulate_fast(long, seed, r, True, packed).trace or []
        left = {s: t for t, kind, s, _ in trace if kind == "leave"}
        leaves.append(np.asarray([t + r * horizon for t in left.values() if t >= warm]))
        for t, kind, s, name in trace:
            if kind in ("start", "end") and t >= warm and s in left:
                rows.append((name, "in_service" if kind == "start" else "between", left[s] - t))
    clock0 = pd.Timestamp(twin.start)
    # replications laid end to end (each `horizon` long, so the week phase is kept when it is whole weeks)
    counts = np.concatenate(leaves) / hour
    return _Steady(remaining_table(rows), counts, warm / hour, horizon / hour, clock0, runs)


class _Steady(Past):
    """Past of replications laid end to end: windows are counted in each replication's measured part."""

    def __init__(self, table: dict[tuple[str, str], np.ndarray], leaves: np.ndarray, warm: float,
                 horizon: float, clock0: pd.Timestamp, runs: int) -> None:
        super().__init__(table, leaves, warm, horizon, clock0)
        self.runs = runs

    def counts(self, cut: pd.Timestamp, hours: float) -> np.ndarray:
        phase = ((wall(cut) - self.clock0).total_seconds() / 3600 - self.origin) % WEEK_HOURS
        return np.concatenate([phase_counts(self.leaves, r * self.end + self.origin, phase, hours,
                                            (r + 1) * self.end) for r in range(self.runs)])


def from_state(twin: Twin, state: State, replications: int,
               seed: int) -> tuple[list[np.ndarray], dict[str, np.ndarray], float]:
    """The forecast's samples: per entity its leaving times, per window the completions; seconds."""
    from twin.forecast import forecast

    hour = UNITS_PER_HOUR[twin.time_unit]
    began = time.perf_counter()
    f = forecast(twin, state, state.time + WEEK_HOURS * hour, replications, seed, "fast",
                 points=int(WEEK_HOURS))
    seconds = time.perf_counter() - began
    counts = {w: f.done[:, int(np.searchsorted(f.times, h * hour - 1e-9))] for w, h in WINDOWS.items()}
    return [f.finish[:, k] / hour for k in range(f.finish.shape[1])], counts, seconds


# -- one log ---------------------------------------------------------------------------------
def cuts(log: pd.DataFrame, n: int) -> list[pd.Timestamp]:
    """`n` moments spread evenly over the log, its first and last week left out."""
    first = log["start_time"].min() + pd.Timedelta(days=7)
    last = log["end_time"].max() - pd.Timedelta(days=7)
    return list(pd.date_range(first, last, periods=n).floor("min"))


def open_cases(log: pd.DataFrame, ends: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    """The events of the cases open at `cut` (begun by then, an event ending after it)."""
    live = ends.index[(ends["first"] <= cut) & (ends["last"] > cut)]
    return log[log["case_id"].isin(live)]


def placeable(state: State, twin: Twin) -> tuple[State, int]:
    """The state without the cases at a step the twin lacks (the train log never showed it), and
    how many those were: the twin cannot place them, so no method is judged on them."""
    known = {a.name for a in twin.activities}
    kept = [e for e in state.entities if (e.activity or e.after) in known]
    return state.model_copy(update={"entities": kept}), len(state.entities) - len(kept)


def evaluate(twin: Twin, labels: dict[str, str], train: pd.DataFrame, test: pd.DataFrame, n_cuts: int,
             replications: int, runs: int, seed: int, recent: float = 0.0, pace: float = 0.0,
             pace_services: bool = False) -> dict:
    """The three methods' scores on `test` cut `n_cuts` times (remaining times and counts in hours)."""
    hour = UNITS_PER_HOUR[twin.time_unit]
    past = {"empty+warm-up": steady(twin, runs, seed), "historical": historical(train, twin, labels)}
    ends = case_ends(test)
    last = {str(case): t for case, t in ends["last"].items()}
    remaining = {m: Scores() for m in METHODS}
    counts = {(m, w): Scores() for m in METHODS for w in WINDOWS}
    seconds, beyond, cases, unplaced, at_once = [], 0, 0, 0, 0.0
    paces: dict[bool, list[float]] = {True: [], False: []}  # per cut: the delays', the others' median pace
    for cut in cuts(test, n_cuts):
        if open_cases(test, ends, cut).empty:
            continue
        known = test[test["case_id"].isin(ends.index[ends["first"] <= cut])]  # begun by the cut
        state, missed = placeable(state_from_log(known, cut, twin=twin, labels=labels, recent=recent or None,
                                                 pace=pace or None, pace_services=pace_services), twin)
        unplaced += missed
        for waits in paces:
            mine = [f for step, f in state.pace.items() if (step in state.delays) == waits]
            paces[waits] += [statistics.median(mine)] if mine else []
        actual = [(last[str(e.case)] - cut).total_seconds() / 3600 for e in state.entities]
        samples, done, took = from_state(twin, state, replications, seed)
        seconds.append(took)
        at_once += sum(float(np.mean(x <= 1e-9)) for x in samples)  # open, yet leaving at once
        per_method = {"from state": samples} | {m: p.remaining(state) for m, p in past.items()}
        for method, rows in per_method.items():
            for sample, y in zip(rows, actual, strict=True):
                remaining[method].add(sample / (hour if method != "from state" else 1.0), y, WEEK_HOURS)
        cases += len(actual)
        beyond += sum(y > WEEK_HOURS for y in actual)
        for w, h in WINDOWS.items():
            y = completions(ends["last"], cut, h)
            counts[("from state", w)].add(done[w], y)
            for m, p in past.items():
                counts[(m, w)].add(p.counts(cut, h), y)
    return {"remaining": {m: s.summary() for m, s in remaining.items()},
            "counts": {f"{m}|{w}": s.summary() for (m, w), s in counts.items()},
            "cuts": len(seconds), "cases": cases, "beyond_week": beyond, "unplaced": unplaced,
            "left_at_once": at_once / max(cases, 1),
            "median_seconds": statistics.median(seconds) if seconds else float("nan"),
            "replications": replications, "runs": runs, "seed": seed, "recent": recent,
            "pace": pace, "pace_services": pace_services, "pace_delays": _quartiles(paces[True]),
            "pace_steps": _quartiles(paces[False])}


def _quartiles(values: list[float]) -> list[float]:
    """The quartiles of `values` (empty: none)."""
    return [round(float(q), 3) for q in np.quantile(values, [0.25, 0.5, 0.75])] if values else []


# -- tables ---------------------------------------------------------------------------------
ROWS = (  # (label, part, key)
    ("remaining MAE, h (capped at 1 week)", "remaining", "mae"),
    ("remaining MAE, h (actual uncapped)", "remaining", "mae_raw"),
    ("remaining CRPS, h (capped)", "remaining", "crps"),
    ("remaining 80% coverage", "remaining", "cover80"),
    ("remaining 95% coverage", "remaining", "cover95"),
    ("remaining 80% coverage, done in the week", "remaining", "cover80_done"),
    ("remaining 95% coverage, done in the week", "remaining", "cover95_done"),
    ("completions next day: abs error", "day", "mae"),
    ("completions next day: CRPS", "day", "crps"),
    ("completions next day: 80% coverage", "day", "cover80"),
    ("completions next day: 95% coverage", "day", "cover95"),
    ("completions next week: abs error", "week", "mae"),
    ("completions next week: CRPS", "week", "crps"),
    ("completions next week: 80% coverage", "week", "cover80"),
    ("completions next week: 95% coverage", "week", "cover95"),
)


def cell(result: dict, method: str, part: str, key: str) -> float:
    side = result["remaining"][method] if part == "remaining" else result["counts"][f"{method}|{part}"]
    return float(side[key])


def table(result: dict) -> str:
    lines = [f"{'metric':42s}" + "".join(f"{m:>15s}" for m in METHODS)]
    for label, part, key in ROWS:
        lines.append(f"{label:42s}" + "".join(f"{cell(result, m, part, key):15.3g}" for m in METHODS))
    return "\n".join(lines)


def markdown(name: str, result: dict) -> str:
    lines = [f"*{name}* ({result['cuts']} cuts, {result['cases']} open cases, "
             f"{result['beyond_week']} of them open a week later, {result['unplaced']} more at steps the "
             f"twin lacks left out; the forecast closes {result['left_at_once']:.0%} of them at once; "
             f"{result['replications']} replications, "
             f"median {result['median_seconds']:.2g} s a forecast)", "",
             "| metric | " + " | ".join(METHODS) + " |", "|---" * (1 + len(METHODS)) + "|"]
    for label, part, key in ROWS:
        cells = [f"{cell(result, m, part, key):.3g}" for m in METHODS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def combined(results: dict[str, dict]) -> str:
    """One table of docs/forecast.md: a column per log and method (S: from state, E: empty + warm-up,
    H: historical)."""
    short = dict(zip(METHODS, "SEH", strict=True))
    head = "| metric | " + " | ".join(f"{n} {short[m]}" for n in results for m in METHODS) + " |"
    lines = [head, "|---" * (1 + len(results) * len(METHODS)) + "|"]
    for label, part, key in ROWS:
        cells = [f"{cell(r, m, part, key):.3g}" for r in results.values() for m in METHODS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- main -----------------------------------------------------------------------------------
def calibrated(name: str, out: Path) -> Path:
    """The twin calibrated on the train split as bench/scorecard.py does (cached in `out`)."""
    path = out / f"{name}.yaml"
    if not path.exists():
        train = DATA / DATASETS[name][0]
        began = time.perf_counter()
        calibrate_files(train, None, None, {}, path, out / f"{name}.json", validate=True)
        print(f"calibrated {name} in {time.perf_counter() - began:.0f} s", flush=True)
    return path


def load(name: str, out: Path) -> tuple[Twin, dict[str, str], pd.DataFrame, pd.DataFrame]:
    """The twin, its steps' labels, and the train and test logs read in its clock (as `twin
    score` reads them)."""
    path = calibrated(name, out)
    header, twin = read_header(path), load_twin(path)
    zone = twin_zone(twin, header)
    train, test = (load_events(DATA / f, timezone=zone)[0] for f in DATASETS[name])
    return twin, header.get("labels", {}), train, test


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--cuts", type=int, default=20)
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--runs", type=int, default=4, help="replications of the empty twin (baseline 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--recent", type=float, default=0.0,
                        help="days before a cut whose arrivals set the forecast's level (0: the twin's)")
    parser.add_argument("--pace", type=float, default=0.0,
                        help="days before a cut whose steps' times set the forecast's pace (0: the twin's)")
    parser.add_argument("--pace-services", action="store_true",
                        help="with --pace: the steps with units at their recent pace too (else delays only)")
    parser.add_argument("--out", type=Path, default=Path("artifacts/forecast"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.datasets:
        twin, labels, train, test = load(name, args.out)
        result = evaluate(twin, labels, train, test, args.cuts, args.replications, args.runs, args.seed,
                          args.recent, args.pace, args.pace_services)
        (args.out / f"{name}.forecast.json").write_text(json.dumps(result, indent=1))
        results[name] = result
        print(f"## {name} (pace of the delays {result['pace_delays']}, of the steps {result['pace_steps']})"
              f"\n{table(result)}\n", flush=True)
    for name in DATASETS:  # the other logs' last results, for the combined table
        saved = args.out / f"{name}.forecast.json"
        if name not in results and saved.exists():
            results[name] = json.loads(saved.read_text())
    results = {name: results[name] for name in DATASETS if name in results}
    for name, result in results.items():
        print(markdown(name, result) + "\n")
    print(combined(results))


if __name__ == "__main__":
    main()
