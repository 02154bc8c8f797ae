"""Instant start: light commands import no engine, one kernel specialisation loaded by type,
threads and processes give the numbers of one replication at a time (timings: bench/start.py)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from scenarios import executors
from scenarios.executors import Processes
from scenarios.loader import load_study
from scenarios.runner import run_study, settings_for
from twin import load_twin
from twin.cli import ENGINES
from twin.engine_simpy import simulate

ROOT = Path(__file__).resolve().parents[1]
CLINIC = ROOT / "scenarios" / "examples" / "clinic.yaml"
HEAVY = ("numba", "scipy", "plotly", "llvmlite", "pandas", "distributed")
IMPORTED = """
import sys
import time
from twin.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print(" ".join(sorted(sys.modules)))
"""


def _imported(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", IMPORTED, *args], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("args", [("--help",), ("validate", str(CLINIC)), ("run", "--help")])
def test_light_commands_import_no_engine(args: tuple[str, ...]) -> None:
    assert not {m.split(".")[0] for m in _imported(*args)} & set(HEAVY)


def test_a_fast_run_loads_neither_simpy_nor_scipy_special() -> None:
    modules = _imported("run", str(CLINIC), "--json", "--replications", "2")
    assert "numba" in modules and not modules & {"simpy", "pandas", "plotly", "scipy.special"}


EXITING = """
import atexit, sys, threading
from twin.cli import main
atexit.register(lambda: print("exit handlers ran", file=sys.stderr))
if sys.argv[1] == "--with-thread":  # a thread still running: the interpreter's own exit waits for it
    sys.argv.pop(1)
    gate = threading.Event()
    threading.Thread(target=lambda: (gate.wait(), print("thread done", file=sys.stderr))).start()
    threading.Timer(0.2, gate.set).start()
sys.argv[0] = "twin"
main()
"""


def _exiting(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", EXITING, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_the_command_exits_at_once_with_its_code_its_output_and_its_exit_handlers(tmp_path: Path) -> None:
    ran = _exiting("run", str(CLINIC), "--json", "--replications", "3")
    assert ran.returncode == 0 and "exit handlers ran" in ran.stderr
    assert json.loads(ran.stdout)["replications"] == 3  # flushed whole before the process ended
    (tmp_path / "bad.yaml").write_text("name: x\nhorizon: -1\n")
    refused = _exiting("validate", str(tmp_path / "bad.yaml"))
    assert refused.returncode == 2 and "horizon" in refused.stderr and "exit handlers ran" in refused.stderr


def test_a_thread_still_running_gets_the_interpreters_own_exit() -> None:
    waited = _exiting("--with-thread", "--help")
    assert waited.returncode == 0 and "thread done" in waited.stderr and "exit handlers ran" in waited.stderr


def test_the_cli_knows_the_runners_engines() -> None:
    from twin.runner import ENGINES as RUNNER

    assert ENGINES == RUNNER


def test_one_kernel_specialisation_serves_every_call() -> None:
    from twin._kernel import KERNEL_TYPES, simulate_kernel
    from twin.engine_fast import simulate_fast, simulate_many_fast

    twin = load_twin(CLINIC)
    simulate_fast(twin, 1, 0, trace=True)
    simulate_fast(twin, 1, 0, sample_every=60.0)
    simulate_many_fast(twin, 1, [0, 1], workers=2)
    assert simulate_kernel.signatures == [KERNEL_TYPES]


def test_threads_give_the_records_of_one_replication_at_a_time() -> None:
    from twin.engine_fast import simulate_fast, simulate_many_fast

    twin = load_twin(CLINIC)
    alone = [simulate_fast(twin, 3, r).record for r in range(4)]
    assert [r.record for r in simulate_many_fast(twin, 3, range(4), workers=1)] == alone
    assert [r.record for r in simulate_many_fast(twin, 3, range(4), workers=3)] == alone
    assert simulate(twin, 3, 0).record == alone[0]


def test_a_fresh_process_loads_the_cached_kernel_by_type() -> None:
    """The kernel loaded without Numba's dispatch path gives the SimPy engine's numbers."""
    from twin.engine_fast import prepare

    prepare()  # compiled (and cached) here if it was not
    probe = ("import json, sys\nfrom twin import load_twin\nfrom twin._kernel import simulate_kernel\n"
             "from twin.engine_fast import simulate_fast\n"
             "record = simulate_fast(load_twin(sys.argv[1]), 5, 2).record\n"
             "print(json.dumps([record, sum(simulate_kernel.stats.cache_hits.values())]))")
    done = subprocess.run([sys.executable, "-c", probe, str(CLINIC)], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    record, hits = json.loads(done.stdout)
    assert hits == 1
    expected = simulate(load_twin(CLINIC), 5, 2).record
    assert record.keys() == expected.keys()
    for key, value in expected.items():
        assert record[key] == value or (math.isnan(value) and math.isnan(record[key])), key


def test_compiling_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from twin import compiling

    with compiling.announce():
        pass
    assert compiling.MESSAGE in capsys.readouterr().err
    assert compiling.main(["--quiet"]) == 0  # cached by now: loads and returns


def _counted(start: Callable[[Any], None], started: list[str]) -> Callable[[Any], None]:
    def counted(self: Any) -> None:
        started.append(type(self).__name__)
        start(self)

    return counted


def _study(executor: str, n: int) -> pd.DataFrame:
    scenarios = load_study([CLINIC])
    return run_study(scenarios, settings_for(scenarios[0], n, engine="fast"), executor, workers=2).table


def test_small_work_stays_in_this_process() -> None:
    pool = Processes(2)
    with pool:
        assert list(pool.map_unordered(abs, [-1, -2, -3])) == [1, 2, 3]
    assert pool.pool is None and not pool.started


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_workers_started_give_the_serial_table(executor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(executors.START_SECONDS, "fork", 0.0)  # start them for any work
    monkeypatch.setitem(executors.START_SECONDS, "spawn", 0.0)
    monkeypatch.setitem(executors.START_SECONDS, "dask", 0.0)
    monkeypatch.setattr(executors, "free_cores", lambda: 2.0)  # however busy the machine is
    started = []
    for kind in (executors.Processes, executors.Dask):
        monkeypatch.setattr(kind, "_start", _counted(kind._start, started))
    pd.testing.assert_frame_equal(_study("serial", 12), _study(executor, 12), check_exact=True)
    assert started, "the workers were never started"


def test_workers_start_when_the_estimated_rest_pays_for_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executors, "free_cores", lambda: 2.0)
    pool = Processes(2)
    pool.measured = (1, 0.001)  # a millisecond an item: 100 more save far less than a start-up
    assert not pool.worth_starting(100)
    pool.measured = (2, 2.0)  # a second an item
    assert pool.worth_starting(10)
    assert not pool.worth_starting(1)  # one item left: nothing to split
    assert not Processes(1).worth_starting(10)
    monkeypatch.setattr(executors, "free_cores", lambda: 1.0)  # other work has the cores
    assert not pool.worth_starting(10)


def test_the_items_timed_here_are_light_and_the_traced_ones_go_to_the_workers_first() -> None:
    """A parallel executor runs its first items in this process to time them: traced chunks
    (the warm-up checks' replications 0..4, the close-up's) take several times as long, so they
    come after two light half-sized ones, and before the rest."""
    from scenarios.runner import _chunks, unit_key
    from scenarios.variants import units_of
    from scenarios.work import traced_in

    scenarios = load_study([CLINIC])
    settings = settings_for(scenarios[0], 100, engine="fast")
    keys = {unit_key(u, settings): u for u in units_of(scenarios)}
    chunks = _chunks(keys, {}, 100, settings, 2, traced=57)
    traced = [traced_in(c) for c in chunks]
    assert traced[:2] == [False, False] and traced[2:4] == [True, True] and not any(traced[4:])
    assert [len(c.replications) for c in chunks[:3]] == [5, 5, 10]  # the two timed here: half-sized
    assert 57 in chunks[3].replications
    assert sorted(r for c in chunks for r in c.replications) == list(range(100))


def test_a_process_parses_and_packs_a_units_twin_once_not_per_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    from scenarios import work

    parsed: list[str] = []
    parse = work.parse_twin

    def counted(data: dict[str, Any], name: str) -> Any:
        parsed.append(name)
        return parse(data, name)

    monkeypatch.setattr(work, "_PREPARED", {})
    monkeypatch.setattr(work, "parse_twin", counted)
    first = _study("serial", 40)  # four chunks of ten
    assert len(parsed) == 1
    monkeypatch.setattr(work, "_PREPARED", {})
    pd.testing.assert_frame_equal(first, _study("serial", 40), check_exact=True)


@pytest.mark.slow
def test_a_run_that_must_compile_says_so(tmp_path: Path) -> None:
    """No cached kernel (an empty NUMBA_CACHE_DIR): `twin run` says it compiles, once, on
    stderr, and reports the seconds; stdout stays the JSON."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "twin.cli", "run", str(CLINIC), "--json", "--replications", "2"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=900)
    from twin import compiling

    assert compiling.MESSAGE in done.stderr
    assert json.loads(done.stdout)["performance"]["compile_seconds"] > 0


def test_the_first_item_loading_the_engine_does_not_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first item also loads the engine (a third of a second): a study of quick items must
    not start workers because of it."""
    monkeypatch.setattr(executors, "free_cores", lambda: 2.0)
    pool = Processes(2)
    seconds = iter([0.6, 0.001, 0.001, 0.001])  # counted, the first would make 3 more worth 0.9 s

    def item(x: int) -> int:
        time.sleep(next(seconds))
        return x

    with pool:
        assert sorted(pool.map_unordered(item, range(4))) == [0, 1, 2, 3]
    assert not pool.started and pool.measured[0] == 3


def test_the_collector_is_paused_inside_and_as_it_was_after() -> None:
    import gc

    from twin.nogc import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # nested (another thread's pause): left paused
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), paused_gc():
        raise ValueError("a failing replication")
    assert gc.isenabled()
