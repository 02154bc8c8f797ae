"""The tabulated t quantile is SciPy's, and SciPy answers past the table."""

from __future__ import annotations

import subprocess
import sys

import pytest
from scipy.special import stdtrit

from twin.tquantile import T975, t975


@pytest.mark.parametrize("df", [*range(1, len(T975) + 1), len(T975) + 1, 500, 10_000])
def test_t975_is_scipys_quantile(df: int) -> None:
    assert t975(df) == pytest.approx(float(stdtrit(df, 0.975)), rel=1e-14)


def test_a_run_summary_does_not_import_scipy() -> None:
    code = ("import sys; from twin.results import summarize; summarize([1.0, 2.5, 2.0]); "
            "print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
