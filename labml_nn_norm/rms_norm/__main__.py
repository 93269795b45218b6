# `python -m labml_nn_norm.rms_norm` runs the page's checks
from . import _test

_test()
