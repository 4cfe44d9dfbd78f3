# Shared by scripts/demo and scripts/test: make .venv and install the project into it.
# Needs only Python 3.11+ on PATH (PYTHON overrides which one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
STAMP=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-$1
if [ ! -f "$STAMP" ]; then
  python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>/dev/null || true
  if [ "$1" = dev ]; then
    python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
  elif [ "$1" = bench ]; then
    python -m pip install --quiet --disable-pip-version-check -e ".[bench]"
  else
    python -m pip install --quiet --disable-pip-version-check -e .
  fi
  touch "$STAMP"
fi
