"""
The kernels page's dispatch explorer and layout figure.

The explorer's JavaScript, taken from what the page's `_artifacts()` returns, is run with node on a
grid of `(cols, dtype, shared memory, rows even)` and must give what `oneflow_path()` gives at
every point; the layout figure must change when an input of the drawing function does.
"""

import base64
import json
import re
import shutil
import subprocess

import pytest
import torch

from labml_nn_norm.kernels import _artifacts, figure_layout, oneflow_path

DTYPES = {'float32': torch.float32, 'float16': torch.float16, 'bfloat16': torch.bfloat16,
          'float64': torch.float64}
# Edge cases around every threshold: the group sizes (4, 8, 16, 32 packs), the warp path's
# 1024, the register arrays (multiples of 32 columns), the packs (odd, even, multiples of 4)
COLS = sorted({1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 66, 67, 127, 128, 129,
               255, 256, 257, 383, 384, 385, 511, 512, 513, 767, 768, 769, 895, 896, 897, 1000,
               1022, 1023, 1024, 1025, 1026, 1027, 1028, 2047, 2048, 2049, 4095, 4096, 4097,
               8191, 8192, 8193, 12289, 16384, 65535, 65536, 65537})
SMEM = [None, 8 * 1024, 32 * 1024]


def _explorer_js() -> str:
    html = _artifacts()['explorer']
    script = base64.b64decode(re.search(r'base64,([A-Za-z0-9+/=]+)"', html).group(1)).decode()
    # The function, as the page ships it: from its first line to the marker after it
    return re.search(r'function oneflowPath\(.*?\n}\n(?=// end oneflowPath)', script, re.S).group(0)


def _run_node(js: str, points: list) -> list:
    program = (js + '\nconst points = JSON.parse(require("fs").readFileSync(0, "utf8"));\n'
               'const out = points.map(p => { try { return oneflowPath(...p); } '
               'catch (e) { return {error: String(e.message)}; } });\n'
               'process.stdout.write(JSON.stringify(out));\n')
    done = subprocess.run(['node', '-e', program], input=json.dumps(points), capture_output=True,
                          text=True, check=True, timeout=60)
    return json.loads(done.stdout)


@pytest.mark.skipif(shutil.which('node') is None, reason='node is not installed')
def test_explorer_matches_oneflow_path():
    points = [[c, d, s, even] for c in COLS for d in DTYPES for s in SMEM for even in (True, False)]
    results = _run_node(_explorer_js(), points)
    assert len(results) == len(points)
    mismatches = [(p, js, py) for p, js in zip(points, results)
                  for py in [oneflow_path(p[0], DTYPES[p[1]], smem_per_block=p[2], rows_even=p[3])]
                  if js != py]
    assert not mismatches, mismatches[:5]
    # Every path and pack shows up somewhere on the grid, so the comparison covers them all
    assert {r['path'] for r in results} == {'warp', 'block, shared memory', 'block, uncached'}
    assert {r['pack'] for r in results} == {1, 2, 4}


@pytest.mark.skipif(shutil.which('node') is None, reason='node is not installed')
def test_explorer_rejects_what_python_rejects():
    (result,) = _run_node(_explorer_js(), [[0, 'float32', None, True]])
    with pytest.raises(ValueError, match='positive'):
        oneflow_path(0)
    assert 'positive' in result['error']


def test_layout_figure_follows_its_inputs():
    base = figure_layout(24)
    assert figure_layout(48) != base
    assert figure_layout(24, torch.float16) != base
    assert figure_layout(24, rows_even=False) != base
    # Two rows per access drawn for an even number of rows, one for an odd number
    assert '>row 1<' in base and '>row 1<' not in figure_layout(24, rows_even=False)
    assert figure_layout(24) == base  # and the same inputs draw the same picture
