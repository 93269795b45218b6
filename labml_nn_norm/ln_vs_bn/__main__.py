# `python -m labml_nn_norm.ln_vs_bn` runs the page's checks
from . import _test

_test()
