"""
The figures of the LayerNorm, RMSNorm, LayerNorm-vs-BatchNorm, BatchNorm and backward pages: each
is well-formed SVG with `role="img"`, an accessible name and a caption, small, legible in both
palettes (text in `currentColor`, never a fixed black), and drawn again when an input of its
drawing function changes.
"""
import re
import xml.etree.ElementTree as ET

import pytest
import torch

from labml_nn_norm import batch_norm, ln_vs_bn, rms_norm
from labml_nn_norm import layer_norm as ln
from labml_nn_norm.layer_norm import backward

FIGURES = {
    'layer_norm geometry': (ln.figure_geometry, lambda: ln.figure_geometry(
        ln.geometry_inputs(seed=3))),
    'layer_norm geometry, other gamma': (ln.figure_geometry, lambda: ln.figure_geometry(
        weight=(1.0, 1.0, 1.0))),
    'rms_norm geometry': (rms_norm.figure_geometry, lambda: rms_norm.figure_geometry(
        ln.geometry_inputs(n=5))),
    'statistics sets': (ln_vs_bn.figure_statistics_sets,
                        lambda: ln_vs_bn.figure_statistics_sets(index=(0, 4, 2))),
    'running statistics': (batch_norm.figure_running_stats,
                           lambda: batch_norm.figure_running_stats(
                               batch_norm.running_stats_trace(momenta=(0.2, 0.02, None),
                                                              steps=50))),
    'data flow': (lambda: backward.figure_data_flow(*backward._figure_inputs()),
                  lambda: backward.figure_data_flow(*backward._figure_inputs(3, 16))),
}


@pytest.mark.parametrize('name', FIGURES)
def test_figure(name):
    draw, draw_changed = FIGURES[name]
    html = draw()
    assert html == draw(), 'the same inputs draw the same figure'
    assert draw_changed() != html, 'a changed input changes the figure'
    assert '\n\n' not in html, 'a blank line would end the Markdown HTML block'
    root = ET.fromstring(re.search(r'<svg.*</svg>', html).group(0))
    assert root.get('role') == 'img' and root.get('aria-label', '').strip()
    assert re.search(r'<figcaption>[^<]+</figcaption>', html)
    assert len(html.encode()) < 12_000
    # Text colour comes from the page (currentColor), so it follows the light and dark palettes
    assert root.get('fill') == 'currentColor'
    for element in root.iter():
        assert element.get('fill') not in ('black', '#000', '#000000')
        assert element.get('stroke') not in ('black', '#000', '#000000')


def test_statistics_set_group_and_instance():
    # GroupNorm's S_i with G = 1 is LayerNorm((C, H, W))'s, with G = C InstanceNorm's
    shape, i = (3, 6, 4, 4), (1, 4, 2, 3)
    assert torch.equal(ln_vs_bn.statistics_set('group', shape, i, num_groups=1),
                       ln_vs_bn.statistics_set('layer', shape, i, 3))
    assert torch.equal(ln_vs_bn.statistics_set('group', shape, i, num_groups=6),
                       ln_vs_bn.statistics_set('instance', shape, i))
    assert int(ln_vs_bn.statistics_set('group', shape, i, num_groups=3).sum()) == 2 * 16
