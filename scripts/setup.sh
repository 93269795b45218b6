#!/usr/bin/env bash
# One set-up for both README commands: a virtual environment in .venv with torch==2.13.0
# installed first (the CPU wheel; an unpinned torch pulls a multi-GB CUDA build), then this
# package with the extras asked for, KaTeX/axe-core from npm, and, for the tests, Chromium.
#
#   scripts/setup.sh site   # what `scripts/serve.sh` needs
#   scripts/setup.sh test   # what `scripts/test.sh` needs
#
# It only adds: an existing .venv or node_modules is reused, never deleted.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-test}"
case "$extra" in site|test) ;; *) echo "setup.sh: expected 'site' or 'test', got '$extra'" >&2; exit 2 ;; esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || { echo "setup.sh: could not install $* with apt-get; install it yourself and run again" >&2; exit 1; }
}

# Python environment
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python - <<'PYEOF' 2>/dev/null || .venv/bin/python -m pip install -q torch==2.13.0
import torch, sys
sys.exit(0 if torch.__version__.startswith("2.13.0") else 1)
PYEOF
.venv/bin/python -m pip install -q -e ".[$extra]"

# KaTeX renders the math at build time; axe-core audits pages in the browser tests
command -v npm >/dev/null || apt_install nodejs npm
[ -d node_modules/katex ] && [ -d node_modules/axe-core ] || npm ci --silent --no-audit --no-fund

# A real browser for the page tests (Debian's chromium; `playwright install` cannot download here)
if [ "$extra" = test ] && ! command -v chromium >/dev/null; then apt_install chromium; fi
