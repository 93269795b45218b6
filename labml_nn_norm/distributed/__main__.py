# `python -m labml_nn_norm.distributed` runs the page's checks; `--measure` re-runs the timings
from . import _main

_main()
