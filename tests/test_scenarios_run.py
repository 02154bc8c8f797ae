"""Study runner: CRN, sequential stopping, identical tables on every executor, resume."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from scenarios.executors import local_cluster
from scenarios.loader import load_study
from scenarios.runner import required_replications, run_study, settings_for
from tests.test_scenarios_spec import SHOP

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "scenarios" / "examples"
TWIN = Path(sys.executable).parent / "twin"


def study_files(folder: Path, experiment: dict | None = None, horizon: int = 200) -> list[Path]:
    (folder / "shop.yaml").write_text(SHOP.replace("horizon: 200", f"horizon: {horizon}"))
    base = {"name": "base", "base": "shop.yaml", "targets": ["activities.serve.wait <= 1.5"],
            "experiment": experiment or {"replications": 6, "seed": 3},
            "uncertain": {"method": "lhs", "params": {
                "arrivals.orders.interarrival.mean": {"dist": "uniform", "low": 0.95, "high": 1.1}}},
            "sensitivity": {"params": {"activities.pack.duration.value": {"relative": 0.5}}}}
    faster = {"name": "faster", "base": "base.yaml", "changes": {"activities.serve.duration.mean": 0.5}}
    paths = []
    for spec in (base, faster):
        path = folder / f"{spec['name']}.yaml"
        path.write_text(yaml.safe_dump(spec))
        paths.append(path)
    return paths


def run(folder: Path, executor: str = "serial", out: Path | None = None, **settings: int) -> pd.DataFrame:
    scenarios = load_study(study_files(folder))
    return run_study(scenarios, settings_for(scenarios[0], **settings), executor, workers=2, out=out).table


def test_crn_shrinks_the_variance_of_paired_differences(tmp_path: Path) -> None:
    base = {"name": "line", "base": str(EXAMPLES / "manufacturing.yaml"), "changes": {"horizon": 700}}
    more = {"name": "fifth-cnc", "base": "line.yaml", "changes": {"resources.cnc.capacity": 5}}
    for spec in (base, more):
        (tmp_path / f"{spec['name']}.yaml").write_text(yaml.safe_dump(spec))
    scenarios = load_study([tmp_path / "line.yaml", tmp_path / "fifth-cnc.yaml"])
    crn = run_study(scenarios, settings_for(scenarios[0], 8, 1), "serial").table
    other = run_study(scenarios[1:], settings_for(scenarios[0], 8, 2), "serial").table
    line = crn[crn.scenario == "line"]["cycle_time"].to_numpy()
    paired = crn[crn.scenario == "fifth-cnc"]["cycle_time"].to_numpy() - line
    independent = other["cycle_time"].to_numpy() - line
    assert np.var(paired, ddof=1) < 0.25 * np.var(independent, ddof=1)


def test_sequential_stopping_reaches_its_precision(tmp_path: Path) -> None:
    precision = {"kpi": "cycle_time", "relative_half_width": 0.08, "max_replications": 200}
    scenarios = load_study(study_files(tmp_path, {"replications": 4, "seed": 5, "precision": precision}))
    result = run_study(scenarios, settings_for(scenarios[0]), "serial")
    assert 4 < result.replications < 200
    for name in ("base", "faster"):
        x = result.table[result.table.scenario == name]["cycle_time"].tolist()
        assert len(x) == result.replications
        assert required_replications(x, 0.08) == len(x)  # met at the final count


def test_same_seed_same_table_on_every_executor(tmp_path: Path) -> None:
    serial = run(tmp_path, "serial")
    assert set(serial.scenario) == {"base", "faster", "base~activities.pack.duration.value=low",
                                    "base~activities.pack.duration.value=high"}
    assert serial["input.arrivals.orders.interarrival.mean"].nunique() == 6
    pd.testing.assert_frame_equal(serial, run(tmp_path, "processes"), check_exact=True)
    pd.testing.assert_frame_equal(serial, run(tmp_path, "dask"), check_exact=True)


@contextmanager
def occupied(*ports: int) -> Iterator[None]:
    """Something else listens on these loopback ports (a port already taken stays taken)."""
    with ExitStack() as held:
        for port in ports:
            sock = held.enter_context(socket.socket())
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen()
            except OSError:  # taken already: by another program, as wanted
                pass
        yield


def test_dask_runs_beside_whatever_holds_its_default_ports(tmp_path: Path) -> None:
    """Dask's defaults (scheduler 8786, dashboard 8787) in use elsewhere: the local cluster
    takes free loopback ports instead, with no "port in use" warning (warnings are errors)."""
    with occupied(8786, 8787):
        with local_cluster(1) as cluster:
            host, port = cluster.scheduler_address.removeprefix("tcp://").rsplit(":", 1)
            assert host == "127.0.0.1" and int(port) != 8786
            http = cluster.scheduler.http_server
            assert http.address == "127.0.0.1" and http.port != 8787
        pd.testing.assert_frame_equal(run(tmp_path, "serial"), run(tmp_path, "dask"), check_exact=True)


def test_a_study_resumes_from_its_finished_chunks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenarios = load_study(study_files(tmp_path))
    first = run_study(scenarios, settings_for(scenarios[0], series_every=4.0), "serial", out=out)
    whole = first.table
    chunks = sorted((out / "chunks").glob("*.parquet"))
    for path in chunks[::2]:
        path.unlink()
    again = run_study(scenarios, settings_for(scenarios[0], series_every=4.0), "serial", out=out)
    assert 0 < again.resumed < len(whole)
    pd.testing.assert_frame_equal(whole, again.table, check_exact=True)
    assert first.series is not None and again.series is not None  # the state series resume too
    pd.testing.assert_frame_equal(first.series, again.series, check_exact=True)
    assert len(first.series) == 2 * 6 * 51  # scenarios (no sensitivity variants) x replications x samples
    other = run_study(scenarios, settings_for(scenarios[0], series_every=8.0), "serial", out=out)
    assert other.resumed == 0 and other.series is not None and len(other.series) == 2 * 6 * 26


def test_a_study_is_run_and_summarised_without_pandas(tmp_path: Path) -> None:
    """The results are numpy columns; `table` (a DataFrame) is built, and pandas imported,
    only when asked for: pandas' import is a third of a small study's fixed cost."""
    files = [str(p) for p in study_files(tmp_path)]
    code = f"""
import sys
from scenarios import load_study, run_study, settings_for, summarize_study
study = load_study({files!r})
result = run_study(study, settings_for(study[0]), "serial")
summary = summarize_study(result)
assert "pandas" not in sys.modules, "pandas was imported"
assert summary["scenarios"]["base"]["replications"] == 6
assert result.table["cycle_time"].tolist() == result.columns["cycle_time"].tolist()
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_chunks_finished_while_arrow_loads_are_all_written(tmp_path: Path) -> None:
    from scenarios.store import ChunkWriter, read_done

    rows = [[{"key": "k", "replication": r, "events": r, "cycle_time": float(r)} for r in range(i, i + 2)]
            for i in range(0, 8, 2)]
    with ChunkWriter(tmp_path, early=True) as writer:
        for chunk in rows:
            writer.write(chunk)
    assert sorted(p.name for p in (tmp_path / "chunks").glob("*.parquet")) == [
        f"k-{i:06d}-{i + 1:06d}.parquet" for i in range(0, 8, 2)]
    assert sorted(read_done(tmp_path, {"k"}), key=lambda r: r["replication"]) == [r for c in rows for r in c]
    failed = tmp_path / "failed"
    with pytest.raises(RuntimeError), ChunkWriter(failed, early=True) as writer:
        writer.write(rows[0])
        raise RuntimeError("the study failed")
    assert [p.name for p in (failed / "chunks").glob("*.parquet")] == ["k-000000-000001.parquet"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_fork_waits_for_arrows_import_on_its_thread() -> None:
    """A forked worker must not inherit the import half done (locks held by a thread it does
    not have): it could never import pandas."""
    code = """
import os
from scenarios import store
store._load_arrow_aside()
pid = os.fork()
if pid == 0:
    import pandas
    os._exit(0 if pandas.DataFrame({"a": [1]})["a"].sum() == 1 else 1)
assert os.waitpid(pid, 0)[1] == 0
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_a_bad_series_interval_is_refused_before_running(tmp_path: Path) -> None:
    scenarios = load_study(study_files(tmp_path))
    with pytest.raises(ValueError, match="positive"):
        settings_for(scenarios[0], series_every=0.0)
    with pytest.raises(ValueError, match="at most"):
        settings_for(scenarios[0], series_every=1e-4)


@pytest.mark.slow
def test_a_killed_study_resumes_to_the_same_table(tmp_path: Path) -> None:
    files = [str(p) for p in study_files(tmp_path, {"replications": 30, "seed": 3}, horizon=2000)]
    out = tmp_path / "out"
    command = [str(TWIN), "study", *files, "--executor", "serial", "--out", str(out), "--json"]
    victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while len(list((out / "chunks").glob("*.parquet"))) < 3 and victim.poll() is None:
        time.sleep(0.05)
    victim.kill()
    victim.wait()
    assert not (out / "results.parquet").exists()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    fresh = tmp_path / "fresh"
    subprocess.run([*command[:-3], "--out", str(fresh), "--json"], capture_output=True, check=True)
    assert json.loads(done.stdout)["provenance"]["resumed_replications"] > 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"),
                                  pd.read_parquet(fresh / "results.parquet"), check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "series.parquet"),
                                  pd.read_parquet(fresh / "series.parquet"), check_exact=True)


def test_cli_json_follows_the_contract(tmp_path: Path) -> None:
    files = [str(p) for p in study_files(tmp_path)]
    done = subprocess.run([TWIN, "study", *files, "--executor", "serial", "--replications", "4",
                           "--series-every", "10", "--out", tmp_path / "out", "--json"],
                          capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    base = summary["scenarios"]["base"]
    assert set(base["kpis"]["cycle_time"]) == {"mean", "ci95", "p5", "p50", "p95", "n"}
    assert set(base["targets"]["activities.serve.wait <= 1.5"]) >= {"p_miss", "ci95"}
    assert set(base["var95"]) == set(base["cvar95"]) == {"cycle_time", "activities.serve.wait"}
    assert set(summary["differences"]) == {"faster"}
    assert set(summary["differences"]["faster"]["cycle_time"]) >= {"mean", "ci95"}
    assert summary["best"] in ("base", "faster") and base["replications"] == 4
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"results.parquet", "results.csv",
                                                             "series.parquet", "summary.json", "specs"}
    parquet = pd.read_parquet(tmp_path / "out" / "results.parquet")
    csv = pd.read_csv(tmp_path / "out" / "results.csv")  # the same table, for a spreadsheet
    pd.testing.assert_frame_equal(csv, parquet, check_dtype=False, check_exact=False, rtol=1e-15)
    series = pd.read_parquet(tmp_path / "out" / "series.parquet")
    assert sorted(series["time"].unique()) == [10.0 * k for k in range(21)]  # horizon 200
    bad = subprocess.run([TWIN, "study", *files, "--series-every", "0", "--out", tmp_path / "bad"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "positive" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_reports_bad_scenarios_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: bad\nbase: nowhere.yaml\n")
    done = subprocess.run([TWIN, "study", tmp_path / "bad.yaml"], capture_output=True, text=True)
    assert done.returncode == 2 and "cannot read file" in done.stderr and "Traceback" not in done.stderr


def test_two_scenarios_of_the_same_twin_are_both_kept(tmp_path: Path) -> None:
    """A change that sets a value the twin already has still makes its own scenario."""
    from scenarios.report import summarize_study

    base = study_files(tmp_path)[0]
    same = tmp_path / "same.yaml"
    same.write_text(yaml.safe_dump({"name": "same", "base": "base.yaml",
                                    "changes": {"activities.serve.duration.mean": 0.6}}))
    assert yaml.safe_load(SHOP)["activities"][0]["duration"]["mean"] == 0.6
    scenarios = load_study([base, same])
    result = run_study(scenarios, settings_for(scenarios[0]), "serial")
    table = result.table
    assert set(table["scenario"]) >= {"base", "same"}
    kpis = [c for c in table.columns if c in ("throughput", "cycle_time", "wip")]
    base_rows = table[table["scenario"] == "base"][kpis].reset_index(drop=True)
    same_rows = table[table["scenario"] == "same"][kpis].reset_index(drop=True)
    pd.testing.assert_frame_equal(base_rows, same_rows)  # CRN: identical numbers
    summary = summarize_study(result)
    assert summary["differences"]["same"]["cycle_time"]["mean"] == 0.0


def test_results_csv_defuses_formulas(tmp_path: Path) -> None:
    """A scenario named like a formula is written quoted, so a spreadsheet shows it as text."""
    from scenarios.store import write_csv

    table = pd.DataFrame({"scenario": ["=HYPERLINK(\"http://x\")", "base"], "cycle_time": [-1.5, 2.0]})
    written = pd.read_csv(write_csv(tmp_path, "results.csv", table))
    assert written["scenario"].tolist() == ["'=HYPERLINK(\"http://x\")", "base"]
    assert written["cycle_time"].tolist() == [-1.5, 2.0]  # numbers are left alone
