# `python -m labml_nn_norm.batch_norm` runs the page's checks
from . import _test

_test()
