"""The report as a PDF: Debian's chromium prints the HTML report headless.

Chromium runs the report's scripts (plotly draws every figure) under a virtual-time budget,
then prints: `chromium --headless --print-to-pdf`. The executable is TWIN_CHROMIUM when set,
else Debian's /usr/bin/chromium (the one scripts/setup.sh installs and the browser tests
use), else a `chromium` on the PATH; never a downloaded one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

DEBIAN = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw"]
BUDGET_MS = 30_000  # virtual time for the report's scripts to draw every figure before printing


class PdfUnavailable(RuntimeError):
    """No chromium to print with."""


def chromium() -> Path | None:
    """The chromium to print with, or None."""
    named = os.environ.get("TWIN_CHROMIUM")
    if named:
        return Path(named) if Path(named).is_file() else None
    if DEBIAN.is_file():
        return DEBIAN
    found = shutil.which("chromium")
    return Path(found) if found else None


def print_pdf(html: Path, pdf: Path | None = None, timeout: float = 300) -> Path:
    """Print the HTML report `html` to `pdf` (default: beside it, .pdf); the PDF's path.
    PdfUnavailable without chromium; RuntimeError when chromium fails or times out."""
    exe = chromium()
    if exe is None:
        raise PdfUnavailable("a PDF needs Debian's chromium (apt-get install chromium, or scripts/setup.sh); "
                             "TWIN_CHROMIUM may name another executable")
    pdf = pdf or html.with_suffix(".pdf")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf.with_name(f".{pdf.name}.{os.getpid()}.{threading.get_ident()}.partial")  # one per printer
    with tempfile.TemporaryDirectory(prefix="twin-chromium-") as profile:  # a profile of its own each time
        command = [str(exe), *ARGS, f"--user-data-dir={profile}", f"--virtual-time-budget={BUDGET_MS}",
                   f"--print-to-pdf={partial}", html.resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                                  env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"chromium did not print {html.name} within {timeout:g} s") from None
    if not partial.is_file() or partial.read_bytes()[:5] != b"%PDF-":
        partial.unlink(missing_ok=True)
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise RuntimeError(f"chromium could not print {html.name}: {reason[0][:300]}")
    os.replace(partial, pdf)  # a reader never sees half a PDF
    return pdf
