# `python -m labml_nn_norm.dyt` runs the checks; `--run` the measurement, `--timings` the timings
from . import _main

_main()
