"""
The figures of the LayerNorm, RMSNorm, LayerNorm-vs-BatchNorm, BatchNorm, backward, distributed,
Triton and fused-CPU pages: each
is well-formed SVG with `role="img"`, an accessible name and a caption, small, legible in both
palettes (text in `currentColor`, never a fixed black), and drawn again when an input of its
drawing function changes.
"""
import re
import xml.etree.ElementTree as ET

import pytest
import torch

from labml_nn_norm import batch_norm, distributed, ln_vs_bn, rms_norm
from labml_nn_norm import layer_norm as ln
from labml_nn_norm.kernels import fused_cpu, triton_layer_norm
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
    'collectives timeline': (distributed.figure_timeline,
                             lambda: distributed.figure_timeline(layers=3)),
    'collectives timeline, other C': (distributed.figure_timeline,
                                      lambda: distributed.figure_timeline(channels=1024)),
    'triton launch': (triton_layer_norm.figure_launch,
                      lambda: triton_layer_norm.figure_launch(rows=7)),
    'triton launch, other tile': (triton_layer_norm.figure_launch,
                                  lambda: triton_layer_norm.figure_launch(max_block=16)),
    'triton launch, many rows': (lambda: triton_layer_norm.figure_launch(64, 4096, 1024, 132),
                                 lambda: triton_layer_norm.figure_launch(64, 4096, 1024, 8)),
    'cpu ratios': (lambda: fused_cpu.figure_ratios(fused_cpu._load_cpu()),
                   lambda: fused_cpu.figure_ratios(fused_cpu._load_cpu(), bound=1.2)),
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


def test_collectives_timeline_counts():
    # Ours: 3 blocking collectives per layer; LayerNorm: none, only DDP's gradient buckets
    events = distributed.step_schedule(4, 64)
    assert sum(e['lane'] == 'sync' for e in events) == 3 * 4
    assert sum(b for *_, b in distributed.sync_collectives(64)) == 1576  # counted on the page
    assert 'sync' not in {e['lane'] for e in distributed.step_schedule(4, 64, sync=False)}


def test_launch_plan_partitions_rows():
    for rows, cols, block, sms in ((10, 24, 8, 1), (1, 5, 4096, 1), (100, 4096, 1024, 7)):
        plan = triton_layer_norm.launch_plan(rows, cols, block, sms)
        assert sorted(r for rs in plan['rows_of'] for r in rs) == list(range(rows))
        assert plan['tiles'] == -(-cols // plan['block']) and plan['block'] <= block
        assert plan['backward_grid'] == (min(rows, 4 * sms),)


def test_cpu_ratio_verdicts_follow_classify():
    from labml_nn_norm.kernels import classify
    cpu = fused_cpu._load_cpu()
    if cpu is None:
        pytest.skip('no results/cpu.json saved')
    v = fused_cpu.ratio_verdicts(cpu)
    fused = [c['ratio']['fused'] for r in cpu['results'] for c in r['cache'].values()]
    assert v['fused']['within'] == sum(classify(s) == 'within' for s in fused)
    assert v['fused']['median'] == sum(s['median'] <= 1.1 for s in fused)
    # A bound below every round's ratio: nothing within
    assert all(c['within'] == 0 for c in fused_cpu.ratio_verdicts(cpu, bound=0.01).values())
