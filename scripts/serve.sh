#!/usr/bin/env bash
# Set up (first run only), build every page and serve the site on http://127.0.0.1:8000.
# `mkdocs serve` rebuilds when a module under labml_nn_norm/ changes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh site
export NO_MKDOCS_2_WARNING=1
exec .venv/bin/mkdocs serve --dev-addr "${ADDR:-127.0.0.1:8000}" "$@"
