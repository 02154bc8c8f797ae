#!/usr/bin/env bash
# Create .venv (if missing) and install twin with its test tools into it; write its bytecode
# (where PYTHONDONTWRITEBYTECODE is set, every command would otherwise compile twin's sources
# again: a tenth of a second); compile the fast engine once (python -m twin.compiling: about a
# minute, with progress), so the first `twin run` starts at once; install Debian's chromium
# (the report's browser test drives it through Playwright) when it is missing, waiting (up to
# TWIN_APT_LOCK_TIMEOUT s, default 600) while another apt/dpkg holds the package locks
# (scripts/apt-get.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1   # never let Playwright download a browser
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/python -m compileall -q twin scenarios calibration optimize service viz >/dev/null
.venv/bin/python -m twin.compiling
if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing chromium (apt) for the report's browser test" >&2
  apt=($sudo env "TWIN_APT_LOCK_TIMEOUT=${TWIN_APT_LOCK_TIMEOUT:-600}" bash scripts/apt-get.sh)
  "${apt[@]}" update -qq >/dev/null
  "${apt[@]}" install -y -qq --no-install-recommends chromium >/dev/null
fi
