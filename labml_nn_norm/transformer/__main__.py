# `python -m labml_nn_norm.transformer` runs the page's checks
from . import _test

_test()
