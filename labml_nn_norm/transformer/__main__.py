# `python -m labml_nn_norm.transformer` runs the page's checks; `--measure` re-runs the measurement
from . import _main

_main()
