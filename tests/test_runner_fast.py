"""twin.run with the fast engine: the default, parallel, and the same numbers as SimPy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from twin import load_twin, run
from twin.runner import ENGINES

ROOT = Path(__file__).resolve().parents[1]


def _short(name: str):  # a few weeks of an example: quick, with every feature in play
    twin = load_twin(ROOT / "scenarios" / "examples" / f"{name}.yaml")
    return twin.model_copy(update={"horizon": twin.horizon / 6, "warmup": twin.warmup / 6})


def test_fast_is_the_default_and_matches_simpy() -> None:
    twin = _short("manufacturing")
    fast = run(twin, replications=4, seed=3)
    simpy = run(twin, replications=4, seed=3, engine="simpy")
    assert fast.engine == "fast" and ENGINES == ("simpy", "fast")
    assert fast.records == simpy.records
    assert [r.events for r in fast.replications] == [r.events for r in simpy.replications]
    summary = fast.to_json()
    assert summary["engine"] == "fast" and summary["performance"]["compile_seconds"] >= 0


def test_results_do_not_depend_on_the_number_of_workers() -> None:
    twin = _short("clinic")
    one = run(twin, replications=6, seed=5, workers=1)
    many = run(twin, replications=6, seed=5, workers=2)
    assert one.records == many.records
    assert [r.events for r in one.replications] == [r.events for r in many.replications]
    again = run(twin, replications=2, seed=5)  # replications 0, 1 alone: the same again
    assert again.records == one.records[:2]


def test_trace_and_progress() -> None:
    twin = _short("manufacturing")
    done: list[int] = []
    traced = run(twin, replications=2, seed=1, trace=True, progress=done.append)
    assert done == [1, 2]
    reference = run(twin, replications=2, seed=1, engine="simpy", trace=True)
    assert [r.trace for r in traced.replications] == [r.trace for r in reference.replications]
    counted: list[int] = []
    run(twin, replications=3, seed=1, progress=counted.append)
    assert counted[-1] == 3


def test_cached_kernels_report_no_compile_time() -> None:
    """A fresh process loads the kernels this one compiled or loaded: nothing to compile."""
    run(_short("clinic"), replications=1)  # the kernels are in Numba's cache from here on
    code = "from twin.engine_fast import prepare; print(prepare())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=300)
    assert float(out.stdout) == 0.0
