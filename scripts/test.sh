#!/usr/bin/env bash
# Set up (first run only) and run every test: each page's _test(), the property tests,
# the generator's unit tests, a strict site build and the browser tests in headless Chromium.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k layer_norm`.
#
#   scripts/test.sh --fast   # the inner loop, under a minute: the generator, the property tests,
#                            # lint; no site build, no browser, no page run twice (pytest markers
#                            # `site`, `browser`, `slow` in pyproject.toml)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export NO_MKDOCS_2_WARNING=1
args=()
for arg in "$@"; do
  if [ "$arg" = --fast ]; then args+=(-m 'not site and not browser and not slow'); else args+=("$arg"); fi
done
# Two workers (pytest-xdist; PYTEST_WORKERS=0 runs in one process), and the ten slowest tests
# listed at the end of every run
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --durations=10 "${args[@]+"${args[@]}"}"
