# `python -m labml_nn_norm.numerics` runs the page's checks
from . import _test

_test()
