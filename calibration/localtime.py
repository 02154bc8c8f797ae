"""Local time: timestamps read as the site's wall clock, so calendars follow its days.

A log's timestamps may carry UTC offsets (`2012-03-24T09:00:00+01:00`); work is done by the
clock on the wall, so weekly calendars, shifts and circadian profiles are learned in local
time. `local_times(values)` returns naive wall-clock times: with `zone` (an IANA name such
as `Europe/Amsterdam`) every instant converted to that zone, daylight-saving changes
included; without it, each timestamp's own offset kept as written (the offset a log records
is the one its site's clock showed then, so a summer +02:00 and a winter +01:00 both read
09:00 when the office opened at 09:00); timestamps without offsets are already wall-clock
times. The price of a naive wall clock: a job spanning a daylight-saving change reads an
hour longer or shorter (one night a year). `describe_zone` says which rule applied.
"""

from __future__ import annotations

import pandas as pd

from twin.calendar import site_zone

_OFFSET = r"(Z|[+-]\d{2}:?\d{2})\s*$"


def offsets(values: pd.Series) -> pd.Series:
    """Each timestamp's UTC offset in minutes as written (NaN where it has none)."""
    found = values.astype(str).str.extract(_OFFSET, expand=False)
    text = found.str.replace("Z", "+00:00").str.replace(":", "")
    sign = text.str[0].map({"+": 1.0, "-": -1.0})
    return sign * (pd.to_numeric(text.str[1:3]) * 60 + pd.to_numeric(text.str[3:5]))


def local_times(instants: pd.Series, values: pd.Series, zone: str | None = None) -> pd.Series:
    """Naive wall-clock times of the UTC `instants` parsed from the strings `values`: in
    `zone` when given, else at each string's own offset (none: UTC, i.e. as written)."""
    if zone is not None:
        return instants.dt.tz_convert(site_zone(zone)).dt.tz_localize(None)
    shift = pd.to_timedelta(offsets(values).fillna(0.0).to_numpy(), unit="min")
    return instants.dt.tz_localize(None) + shift


def describe_zone(values: pd.Series, zone: str | None = None) -> str:
    """Which clock the times were read in, for the load report."""
    if zone is not None:
        return f"converted to {zone} (daylight saving included)"
    seen = offsets(values).dropna()
    if seen.empty:
        return "as written (no UTC offsets)"
    shares = seen.value_counts(normalize=True)
    listed = ", ".join(f"{_hhmm(m)} {s:.0%}" for m, s in shares.items())
    return f"local wall clock, each timestamp's own offset kept ({listed})"


def _hhmm(minutes: float) -> str:
    sign = "-" if minutes < 0 else "+"
    m = int(abs(minutes))
    return f"{sign}{m // 60:02d}:{m % 60:02d}"
