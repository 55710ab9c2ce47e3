# Sourced by run.sh and test.sh: creates .venv on first use and installs the pinned requirements.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
REQ="${1:-requirements.txt}"
STAMP=".venv/.installed-$(sha1sum "$REQ" requirements.txt | sha1sum | cut -c1-12)"
if [ ! -f "$STAMP" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r "$REQ"
    touch "$STAMP"
fi
