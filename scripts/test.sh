#!/usr/bin/env bash
# Set up (first run only) and run every test: each page's _test(), the property tests,
# the generator's unit tests, a strict site build and the browser tests in headless Chromium.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k layer_norm`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export NO_MKDOCS_2_WARNING=1
exec .venv/bin/python -m pytest "$@"
