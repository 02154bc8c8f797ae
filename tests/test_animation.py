"""The replay animation (viz.animation): entities on the process map from the event trace,
checked against the engine's own time-averaged queue lengths and busy units."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.engine import simulate_one
from twin.loader import load_twin
from viz.animation import animation, entity_segments, frame_times

TWINS = Path(__file__).parent / "twins"
EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"


def time_average(segments, activity: str, state: str, start: float, end: float) -> float:  # type: ignore[no-untyped-def]
    rows = segments[(segments["activity"] == activity) & (segments["state"] == state)]
    overlap = (rows["end"].clip(upper=end) - rows["start"].clip(lower=start)).clip(lower=0)
    return float(overlap.sum() / (end - start))


@pytest.mark.parametrize("engine", ["simpy", "fast"])
def test_waiting_and_served_dots_are_the_engines_queue_and_busy_units(engine: str) -> None:
    twin = load_twin(TWINS / "mm3.yaml").model_copy(update={"horizon": 3000.0, "warmup": 100.0})
    rep = simulate_one(twin, seed=3, replication=0, engine=engine, trace=True)
    segments = entity_segments(rep.trace, twin)
    waiting = time_average(segments, "serve", "waiting", twin.warmup, twin.horizon)
    served = time_average(segments, "serve", "served", twin.warmup, twin.horizon)
    assert waiting == pytest.approx(rep.record["activities.serve.queue_length"], rel=1e-9)
    assert served == pytest.approx(3 * rep.record["resources.clerk.utilization"], rel=1e-9)


def test_the_clinic_plays_back_with_controls_clock_and_pools() -> None:
    twin = load_twin(EXAMPLES / "clinic.yaml")
    rep = simulate_one(twin, seed=1, replication=0, engine="fast", trace=True)
    fig = animation(rep.trace, twin, "clinic", frames=40)
    assert len(fig.frames) == 40
    labels = [b["label"] for b in fig.layout.updatemenus[0].buttons]
    assert labels[:3] == ["▶ 1x", "▶ 2x", "▶ 4x"] and "pause" in labels[-1]
    assert len(fig.layout.sliders[0].steps) == 40
    times = frame_times(twin, 40)
    assert times[0] == twin.warmup and times[-1] == twin.warmup + 2 * 1440
    first = fig.frames[0]
    assert "nurse" in first.layout.annotations[0].text and "t = 2,880.0 minutes" in first.layout.title.text
    served = [len(f.data[1].x) for f in fig.frames]
    assert max(served) > 0 and len(set(served)) > 1  # the clinic is busy, and it changes
    ids = {i for f in fig.frames for trace in f.data[:2] for i in (trace.ids or ())}
    assert len(ids) > 50  # entities keep their ids from frame to frame
