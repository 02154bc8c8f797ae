"""One colour per scenario, the same on every chart; fixed colours for states and targets.

The baseline is a neutral dark grey so that options stand out against it; the options
take the Okabe-Ito colour-blind-safe palette in study order. A sensitivity variant
(`SCENARIO~PATH=level`) takes its scenario's colour.
"""

from __future__ import annotations

from collections.abc import Sequence

BASELINE = "#4D4D4D"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
TARGET = "#C0392B"  # target lines and misses
GOOD, BAD, NEUTRAL = "#D5F0DD", "#F8D7D3", "#F2F2F2"  # table cell fills
HELD = "held, waiting for material"  # units granted to a job whose material is not there yet
CREW_WAIT, MAINTENANCE, SETUP = "down, waiting for the crew", "planned maintenance", "set-up"
STATES = {"busy": "#0072B2", HELD: "#CC79A7", "idle": "#E8EEF4", "failed": "#D55E00", CREW_WAIT: "#F0A35E",
          MAINTENANCE: "#6B8E23", "off shift": "#BDBDBD", SETUP: "#000000"}  # set-ups: marks, not spans


def scenario_colors(names: Sequence[str]) -> dict[str, str]:
    """Colour of each scenario in study order (the first is the baseline)."""
    colors = {}
    for i, name in enumerate(dict.fromkeys(names)):
        colors[name] = BASELINE if i == 0 else PALETTE[(i - 1) % len(PALETTE)]
    return colors


def color_of(name: str, colors: dict[str, str]) -> str:
    """A scenario's colour; a sensitivity variant takes the colour of its scenario."""
    return colors.get(name) or colors.get(name.split("~", 1)[0], BASELINE)


def tint(color: str, alpha: float) -> str:
    """'#RRGGBB' as an rgba() string with opacity `alpha` (for bands and light bars)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:g})"
