# `python -m labml_nn_norm.distributed` runs the page's checks
from . import _test

_test()
