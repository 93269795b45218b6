# `python -m labml_nn_norm.kernels` runs the page's checks
from . import _test

_test()
