#!/usr/bin/env bash
# Idempotent setup for the PyTorch bridge tests (test/unit/torch-*.test.ts): a venv in .e2e/python that sees
# the system's packages, with torch (CPU) installed by pip. When torch's dependencies do not resolve from the
# package index, torch alone is installed (--no-deps) on top of the system's packages. Fast when present.
# Without any python3 it only says so: those tests then skip and name the reason.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${RNN_PYTHON_VENV:-$ROOT/.e2e/python}"
has_torch() { "$VENV/bin/python" -c 'import torch, sys; sys.exit(int(torch.__version__.split(".")[0]) < 2)' >/dev/null 2>&1; }
if has_torch; then
  echo "python-setup: $VENV has torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)')"
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "python-setup: no python3 on PATH; the PyTorch bridge tests will be skipped"
  exit 0
fi
if [ ! -x "$VENV/bin/pip" ]; then
  if ! python3 -m venv --system-site-packages "$VENV" 2>/dev/null; then
    echo "python-setup: apt-get install python3-venv"
    rm -rf "$VENV"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv --system-site-packages "$VENV"
  fi
fi
echo "python-setup: pip install torch into $VENV (a few minutes the first time)"
LOG="$VENV/pip.log"
{ "$VENV/bin/pip" install -q --disable-pip-version-check torch || "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps torch; } >"$LOG" 2>&1 || { tail -20 "$LOG" >&2; exit 1; }
has_torch || { echo "python-setup: torch does not import in $VENV" >&2; exit 1; }
echo "python-setup: $VENV has torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)')"
