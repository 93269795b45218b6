r"""
---
title: LayerNorm vs BatchNorm
summary: One definition (the set of elements normalized together), its two cases, and each
  consequence shown by a checked example.
section: The BatchNorm contrast
order: 12
---

# LayerNorm vs BatchNorm

[Batch Normalization](../batch_norm/index.md) (Ioffe and Szegedy, 2015) and
[Layer Normalization](../layer_norm/index.md) ([Ba, Kiros and Hinton, 2016](https://arxiv.org/abs/1607.06450))
are easy to mix up: both subtract a mean, divide by a standard deviation and apply a learned
$\gamma$ and $\beta$. They differ in one choice, the set of elements normalized together, and
each difference this page checks (running statistics, `train()`/`eval()`, batches of one,
padding, RNN time steps, data-parallel training) follows from it. This page defines that choice
once and then treats the two layers as two cases of it. Every claim about the two layers'
behaviour below is a check in `_test()`; claims taken from papers are labelled as such.

### One definition: the statistics set

For element $i$ of the input, its **statistics set** $S_i$ is the set of elements whose mean
and variance normalize $x_i$:

$$\mu_{S_i} = \frac{1}{|S_i|}\sum_{j \in S_i} x_j \qquad
\sigma^2_{S_i} = \frac{1}{|S_i|}\sum_{j \in S_i} \left(x_j - \mu_{S_i}\right)^2 \qquad
y_i = \frac{x_i - \mu_{S_i}}{\sqrt{\sigma^2_{S_i} + \epsilon}}\,\gamma + \beta$$

A layer picks some dimensions to *reduce*. $S_i$ is then every element $j$ that agrees with $i$ on
all the other dimensions, the *kept* ones, and there is one mean and variance for each value of the
kept dimensions.

### What you will learn

* how BatchNorm, LayerNorm, InstanceNorm and GroupNorm are
  [cases of this one definition](#two-more-cases-instancenorm-and-groupnorm), and the
  [trap](#the-trap-batchnorm1dc-on-tokens-without-the-transpose) of a missing transpose;
* why [`train()` and `eval()`](#why-train-and-eval-change-batchnorm-and-not-layernorm) change
  BatchNorm and not LayerNorm;
* what [a batch of one](#a-batch-of-one), [padding](#variable-length-sequences) and
  [RNN time steps](#rnn-time-steps-one-batchnorm-for-all-steps-layernorm-step-by-step) do to
  BatchNorm, and what [data-parallel training](#data-parallel-the-batch-split-over-2-devices)
  costs it;
* to [try all three layers](#try-it-one-matrix-three-layers) on a matrix you edit.
"""

from typing import Sequence, Tuple

import torch

from labml_nn_norm._check import check, check_close, check_group, check_raises
from labml_nn_norm.batch_norm import BatchNorm
from labml_nn_norm.layer_norm import LayerNorm


# | input | layer | reduces | keeps | statistics | $\lvert S_i \rvert$ |
# | --- | --- | --- | --- | --- | --- |
# | images $(N, C, H, W)$ | `BatchNorm2d(C)` | $N, H, W$ | channel $C$ | $C$ | $N H W$ |
# | images $(N, C, H, W)$ | `LayerNorm((C, H, W))` | $C, H, W$ | sample $N$ | $N$ | $C H W$ |
# | tokens $(B, T, C)$ | `BatchNorm1d(C)` on $(B, C, T)$ | $B, T$ | feature $C$ | $C$ | $B T$ |
# | tokens $(B, T, C)$ | `LayerNorm(C)` | $C$ | sample $B$, token $T$ | $B T$ | $C$ |
# | images $(N, C, H, W)$ | `InstanceNorm2d(C)` | $H, W$ | sample $N$, channel $C$ | $N C$ | $H W$ |
# | images $(N, C, H, W)$ | `GroupNorm(G, C)` | group, $H, W$ | sample $N$, group | $NG$ | $CHW/G$ |
#
# In words: BatchNorm's $S_i$ is *one channel across the whole batch*; LayerNorm's is *one sample*
# (for tokens, one token) across its features. In the figure, the dot is element $i$ and the
# coloured cells are $S_i$. It is drawn from `statistics_set()` below, the same function the checks
# use.
#
# ![Four grids of cells. BatchNorm on images colours one channel row in every sample; LayerNorm on
# images colours all of one sample; BatchNorm on tokens colours one feature column in every token of
# every sample; LayerNorm on tokens colours one token's row of features.](axes.svg)
#
# The $\gamma$ and $\beta$ split the other way round: BatchNorm learns them along a dimension it
# *keeps* (one per channel), LayerNorm along the dimensions it *reduces* (one per element of
# `normalized_shape`).
#
def reduction_dims(kind: str, shape: Sequence[int], normalized_ndim: int = 1) -> Tuple[int, ...]:
    """
    ## The definition, as code

    The dimensions a layer reduces, for an input of `shape`:

    * `'batch'`: every dimension except dimension 1, the channels (`num_features` is the size of
      dimension 1, whatever the input's rank)
    * `'layer'`: the last `normalized_ndim` dimensions, `len(normalized_shape)` of them
    * `'instance'`: every dimension after the channels
    * `'group'`: the same, of the view $(N, G, C/G, *)$ that `group_view()` makes: a group of
      channels is reduced as if it were one channel
    """
    if kind == 'batch':
        return (0,) + tuple(range(2, len(shape)))
    if kind == 'layer':
        return tuple(range(len(shape) - normalized_ndim, len(shape)))
    if kind in ('instance', 'group'):
        return tuple(range(2, len(shape)))
    raise ValueError(f"kind must be 'batch', 'layer', 'instance' or 'group', got {kind!r}")


def group_view(x: torch.Tensor, num_groups: int) -> torch.Tensor:
    # $(N, C, *) \to (N, G, C/G, *)$: channel $c$ falls in group $\lfloor c / (C/G) \rfloor$,
    # the grouping `nn.GroupNorm` uses
    N, C = x.shape[:2]
    return x.reshape(N, num_groups, C // num_groups, *x.shape[2:])


def statistics_set(kind: str, shape: Sequence[int], index: Sequence[int],
                   normalized_ndim: int = 1, num_groups: int = 1) -> torch.Tensor:
    """
    $S_i$ as a boolean mask of `shape`: the elements that agree with `index` on every kept
    dimension (for `'group'`: the same sample, and a channel of the same group).
    """
    coords = torch.meshgrid(*[torch.arange(n) for n in shape], indexing='ij')
    mask = torch.ones(tuple(shape), dtype=torch.bool)
    if kind == 'group':
        size = shape[1] // num_groups  # channels per group
        return mask & (coords[0] == index[0]) & (coords[1] // size == index[1] // size)
    reduced = reduction_dims(kind, shape, normalized_ndim)
    # A kept dimension must match element $i$'s coordinate; a reduced one may be anything
    for d in range(len(shape)):
        if d not in reduced:
            mask &= coords[d] == index[d]
    return mask


# ### Two more cases: InstanceNorm and GroupNorm
#
# For images there are choices between those two. InstanceNorm (`nn.InstanceNorm2d`,
# `F.instance_norm`) reduces only $H, W$: one mean and variance per sample and channel. GroupNorm
# ([Wu and He, 2018](https://arxiv.org/abs/1803.08494)) splits the $C$ channels into $G$ groups of
# $C/G$ and reduces over one group and $H, W$: one per sample and group. With $G = 1$ its sets are
# those of `LayerNorm((C, H, W))`, with $G = C$ those of InstanceNorm (both asserted). Wu and He's
# Figure 2 draws the four sets on a cube; this one is drawn by `figure_statistics_sets()` from
# `statistics_set()`, with $N = 4$, $C = 6$ and $H \cdot W = 5$:
#
# {{ statistics_cube }}
#
def figure_statistics_sets(shape: Sequence[int] = (4, 6, 5), num_groups: int = 2,
                           index: Sequence[int] = (0, 2, 1)) -> str:
    r"""
    ## The four sets, drawn

    In the style of Wu and He's Figure 2: an image batch as a cube $(N, C, H \cdot W)$, with the
    channels $C$ across, the positions $H \cdot W$ down and the samples $N$ going back, one cube
    per layer. A cell of the cube's three visible faces is coloured when `statistics_set()` puts
    it in $S_i$ of element $i$ (the dot, in the front sample). The sets reach the surface of the
    cube, so its faces show them whole.
    """
    from labml_nn_norm.layer_norm import FIGURE_COLOURS, svg_figure

    N, C, P = shape
    c, s, dx, dy = FIGURE_COLOURS, 14, 7, -6  # cell size; the step back for one sample
    cases = [('BatchNorm', 'batch', {}, c['blue']), ('LayerNorm', 'layer', {'normalized_ndim': 2},
             c['orange']), ('InstanceNorm', 'instance', {}, c['green']),
             (f'GroupNorm, G = {num_groups}', 'group', {'num_groups': num_groups}, c['purple'])]
    width = C * s + N * dx + 50
    out, sizes = [], {}
    for k, (title, kind, kwargs, colour) in enumerate(cases):
        mask = statistics_set(kind, shape, index, **kwargs)
        sizes[title.split(',')[0]] = int(mask.sum())
        ox, oy = 36 + k * width, 30 - N * dy

        def quad(x0, y0, ax, ay, bx, by):
            # A parallelogram from corner $(x_0, y_0)$ along $(a_x, a_y)$ and $(b_x, b_y)$
            return (f'M{x0:g},{y0:g}l{ax:g},{ay:g}l{bx:g},{by:g}l{-ax:g},{-ay:g}Z')
        # The cells: front (sample 0), top (position 0, every sample), side (last channel)
        front = [(quad(ox + j * s, oy + q * s, s, 0, 0, s), mask[0, j, q])
                 for j in range(C) for q in range(P)]
        top = [(quad(ox + j * s + n * dx, oy + n * dy, s, 0, dx, dy), mask[n, j, 0])
               for n in range(N) for j in range(C)]
        side = [(quad(ox + C * s + n * dx, oy + q * s + n * dy, dx, dy, 0, s), mask[n, C - 1, q])
                for n in range(N) for q in range(P)]
        shaded = ''.join(d for d, m in front + top + side if m)
        # The faces, then the grid lines over them: each face's lines in one direction, then the
        # other
        faces = (quad(ox, oy, C * s, 0, 0, P * s) + quad(ox, oy, C * s, 0, N * dx, N * dy)
                 + quad(ox + C * s, oy, N * dx, N * dy, 0, P * s))
        lines = ''.join(
            [f'M{ox + j * s},{oy + P * s}v{-P * s}l{N * dx},{N * dy}' for j in range(C + 1)]
            + [f'M{ox},{oy + q * s}h{C * s}l{N * dx},{N * dy}' for q in range(P + 1)]
            + [f'M{ox + n * dx},{oy + n * dy}h{C * s}v{P * s}' for n in range(N + 1)])
        out.append(f'<path d="{faces}" fill="{c["grey"]}" fill-opacity="0.15"/>'
                   f'<path d="{shaded}" fill="{colour}" fill-opacity="0.85"/>'
                   f'<path d="{lines}" fill="none" stroke="currentColor" stroke-opacity="0.45" '
                   f'stroke-width="0.6"/>')
        # Element $i$, and the axes' names
        _, ci, pi = index
        out.append(f'<circle cx="{ox + ci * s + s / 2:g}" cy="{oy + pi * s + s / 2:g}" r="3" '
                   f'fill="currentColor"/>'
                   f'<text x="{ox + C * s / 2:g}" y="{oy + P * s + 14:g}" '
                   f'text-anchor="middle">C</text>'
                   f'<text x="{ox - 5:g}" y="{oy + P * s / 2 + 4:g}" text-anchor="end">H·W</text>'
                   f'<text x="{ox + N * dx / 2 - 6:g}" y="{oy + N * dy / 2 - 2:g}" '
                   f'text-anchor="end">N</text>'
                   f'<text x="{ox + (C * s + N * dx) / 2:g}" y="14" text-anchor="middle" '
                   f'font-weight="bold">{title}</text>')
    height = 30 - N * dy + P * s + 22
    label = (f'Four cubes of an image batch, channels across, positions down, samples going back. '
             f'Coloured cells, the statistics set of the marked element: BatchNorm, one channel in '
             f'every sample; LayerNorm, all of one sample; InstanceNorm, one channel of one '
             f'sample; GroupNorm, {C // num_groups} channels of one sample.')
    caption = (f'Each coloured set shares one mean and variance: BatchNorm\'s spans the batch '
               f'({sizes["BatchNorm"]} elements), LayerNorm\'s one sample ({sizes["LayerNorm"]}), '
               f'InstanceNorm\'s one channel of one sample ({sizes["InstanceNorm"]}), and '
               f'GroupNorm\'s {C // num_groups} channels of one sample ({sizes["GroupNorm"]}).')
    return svg_figure(''.join(out), len(cases) * width + 10, height, label, caption)


#
# The shared formula ($\gamma = 1$, $\beta = 0$), with the biased variance; only `dims` tells the
# layers apart
def normalize_over(x: torch.Tensor, dims: Tuple[int, ...], eps: float = 1e-5) -> torch.Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    var = (x - mean).square().mean(dim=dims, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def masked_batch_norm(x: torch.Tensor, mask: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """
    ## BatchNorm that skips padding

    BatchNorm on padded tokens can be repaired, at the price of a mask that every call must carry.
    `x` is $(B, T, C)$ and `mask` is $(B, T)$, `True` for real tokens. The statistics are taken over
    the real tokens only, and the pads come out as zeros.
    """
    m = mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
    # $|S_i|$ is now the number of real tokens, not $B \cdot T$
    count = m.sum()
    mean = (x * m).sum(dim=(0, 1)) / count
    var = ((x - mean) * m).square().sum(dim=(0, 1)) / count
    return (x - mean) * torch.rsqrt(var + eps) * m


def combine_statistics(counts: torch.Tensor, means: torch.Tensor, variances: torch.Tensor):
    r"""
    ## BatchNorm across devices

    When a batch is split over devices, each device sees only its own part of $S_i$. The exact
    batch statistics need every device's count $n_k$, mean $\mu_k$ and biased variance
    $\sigma^2_k$ (rows of these tensors, one per device), exchanged by one collective:

    $$\mu = \frac{\sum_k n_k \mu_k}{\sum_k n_k} \qquad
    \sigma^2 = \frac{\sum_k n_k \left(\sigma^2_k + (\mu_k - \mu)^2\right)}{\sum_k n_k}$$

    The second term is the spread *between* the devices' means, which averaging $\sigma^2_k$
    alone would miss. LayerNorm's $S_i$ never leaves one sample, so it needs no communication.
    """
    n = counts.sum()
    mean = (counts[:, None] * means).sum(0) / n
    var = (counts[:, None] * (variances + (means - mean).square())).sum(0) / n
    return mean, var


#
# BatchNorm wants channels in dimension 1: $(B, T, C) \to (B, C, T)$ and back
def _tokens_through_bn(bn, x: torch.Tensor) -> torch.Tensor:
    return bn(x.transpose(1, 2)).transpose(1, 2)


# ### Try it: one matrix, three layers
#
# Three samples of four features, the worked example of the material this site started from. Each
# output is computed in your browser as you type, with the biased variance and $\epsilon = 10^{-5}$
# and without $\gamma$, $\beta$: LayerNorm over each row (one sample), BatchNorm over each column
# (one feature across the batch), and RMSNorm over each row (no mean subtracted). Point at a cell,
# or move to it with Tab, to see its statistics sets: its row for LayerNorm and RMSNorm, its
# column for BatchNorm. The browser tests edit a cell and compare all three outputs with this
# site's `LayerNorm`, `BatchNorm` and `RMSNorm` modules.
#
# {{ live_matrix }}
WORKED_EXAMPLE = [[1, 2, 4, 1], [6, 3, 2, 4], [2, 4, 6, 1]]


def live_matrix_html(x: Sequence[Sequence[float]] = WORKED_EXAMPLE, eps: float = 1e-5) -> str:
    """
    ## The live matrix

    Plain HTML, filled in by the site's script (`literate.js`, "live matrix"): one number input
    per cell, labelled with its row and column for screen readers, and one table per layer whose
    cells the script writes. The starting values travel in `data-start`, so Reset needs nothing
    else. No blank line inside: Markdown would end the HTML block there.
    """
    rows, cols = len(x), len(x[0])
    start = ';'.join(','.join(f'{v:g}' for v in row) for row in x)
    cells = ''.join(
        '<tr>' + f'<th scope="row">sample {r + 1}</th>' + ''.join(
            f'<td><input type="number" step="any" value="{x[r][c]:g}" data-r="{r}" data-c="{c}" '
            f'aria-label="sample {r + 1}, feature {c + 1}"></td>' for c in range(cols)) + '</tr>'
        for r in range(rows))
    head = ('<tr><th scope="col"><span class="lit-sr-only">sample</span></th>'
            + ''.join(f'<th scope="col">f{c + 1}</th>' for c in range(cols)) + '</tr>')
    outputs = ''.join(
        f'<table class="lit-matrix-out" data-kind="{kind}"><caption>{caption}</caption>'
        f'<thead>{head}</thead><tbody>' + ''.join(
            '<tr>' + f'<th scope="row">sample {r + 1}</th>'
            + ''.join(f'<td data-r="{r}" data-c="{c}"></td>' for c in range(cols)) + '</tr>'
            for r in range(rows)) + '</tbody></table>'
        for kind, caption in (('layer', 'LayerNorm: each row'), ('batch', 'BatchNorm: each column'),
                              ('rms', 'RMSNorm: each row')))
    return (f'<div class="lit-matrix" role="group" aria-label="Live matrix: LayerNorm, BatchNorm '
            f'and RMSNorm of an editable 3 by 4 input" data-eps="{eps:g}" data-start="{start}">'
            f'<div class="lit-matrix-grids"><table class="lit-matrix-in"><caption>Input x '
            f'(editable)</caption><thead>{head}</thead><tbody>{cells}</tbody></table>{outputs}'
            '</div><p class="lit-matrix-bar"><button type="button" class="lit-matrix-reset">'
            'Reset</button> <span class="lit-matrix-status" role="status"></span></p></div>')


def _artifacts():
    """
    ## The figure

    Drawn at build time from `statistics_set()`. Each grid shows small inputs with one block per
    sample; the dot marks element $i$, and the coloured cells are its $S_i$.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    blue, orange, grey = '#1f5fbf', '#c85200', '#e4e7ec'
    N, C, P = 3, 3, 4  # images: samples, channels, pixels H·W
    B, T, F = 3, 3, 4  # tokens: samples, tokens, features
    # Each panel: title, $S_i$ laid out as (sample, row, column), element $i$, row and column
    # labels, colour. BatchNorm1d sees tokens as $(B, C, T)$, so its mask is moved back to
    # $(B, T, C)$ for the picture.
    i = (1, 1, 2)
    panels = [
        ('BatchNorm2d on images', statistics_set('batch', (N, C, P), i), 'channel', 'pixel', blue),
        ('BatchNorm1d on tokens', statistics_set('batch', (B, F, T), (1, 2, 1)).transpose(1, 2),
         'token', 'feature', blue),
        ('LayerNorm((C, H, W)) on images', statistics_set('layer', (N, C, P), i, 2),
         'channel', 'pixel', orange),
        ('LayerNorm(C) on tokens', statistics_set('layer', (B, T, F), i),
         'token', 'feature', orange),
    ]
    si, ri, ci = i
    fig, axes = plt.subplots(2, 2, figsize=(9, 4.4))
    for ax, (title, mask, row_label, col_label, colour) in zip(axes.T.flat, panels):
        samples, rows, cols = mask.shape
        cells, colours = [], []
        # Sample $s$ is a block of `rows` x `cols` cells, the blocks side by side
        for s in range(samples):
            for r in range(rows):
                for c in range(cols):
                    cells.append(Rectangle((s * (cols + 1) + c, rows - 1 - r), 0.92, 0.92))
                    colours.append(colour if mask[s, r, c] else grey)
            ax.text(s * (cols + 1) + cols / 2 - 0.04, -0.35, f'sample {s}',
                    ha='center', va='top', fontsize=8)
        ax.add_collection(PatchCollection(cells, facecolors=colours, edgecolors='#333333',
                                          linewidths=0.4))
        ax.plot(si * (cols + 1) + ci + 0.46, rows - 1 - ri + 0.46, 'o', color='black', markersize=5)
        ax.set_xlim(-0.3, samples * (cols + 1) - 0.7)
        ax.set_ylim(-1.1, rows + 0.1)
        ax.set_aspect('equal')
        ax.set_title(f'{title}: |S| = {int(mask.sum())}', fontsize=9.5)
        ax.set_ylabel(f'{row_label} ↓', fontsize=8.5)
        ax.set_xlabel(f'{col_label} →, within each sample', fontsize=8.5)
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
    fig.suptitle('The dot is element i; the coloured cells are its statistics set S_i', fontsize=10)
    fig.tight_layout()
    return {'axes': fig, 'live_matrix': live_matrix_html(),
            'statistics_cube': figure_statistics_sets()}


@check_group(fold=True)
def _check_definition():
    """
    ## The definition against `torch.nn`: `reduction_dims()` and `statistics_set()`

    Normalizing by hand over `reduction_dims()` gives what the `torch.nn` layers give, for images
    and for tokens, and `statistics_set()` picks out exactly the elements those statistics are taken
    over.
    """
    from torch import nn

    x = torch.randn(4, 3, 5, 5) * 2 + 3  # images: N, C, H, W
    tokens = torch.randn(2, 7, 8) + 1  # B, T, C
    check('BatchNorm on (N, C, H, W) reduces N, H, W; LayerNorm((C, H, W)) reduces C, H, W',
          reduction_dims('batch', x.shape) == (0, 2, 3)
          and reduction_dims('layer', x.shape, 3) == (1, 2, 3))
    check_close('images: normalize over N, H, W == nn.BatchNorm2d(3) in training',
                normalize_over(x, reduction_dims('batch', x.shape)),
                nn.BatchNorm2d(3)(x).detach())
    check_close('images: normalize over C, H, W == nn.LayerNorm((3, 5, 5))',
                normalize_over(x, reduction_dims('layer', x.shape, 3)),
                nn.LayerNorm((3, 5, 5))(x).detach())
    # For BatchNorm the tokens are laid out $(B, C, T)$, so the reduced dimensions are 0 and 2
    bct = tokens.transpose(1, 2)
    check_close('tokens: normalize (B, C, T) over B, T == nn.BatchNorm1d(8)',
                normalize_over(bct, reduction_dims('batch', bct.shape)),
                nn.BatchNorm1d(8)(bct).detach())
    check_close('tokens: normalize over C == nn.LayerNorm(8)',
                normalize_over(tokens, reduction_dims('layer', tokens.shape)),
                nn.LayerNorm(8)(tokens).detach())
    #
    # The mask reproduces one element's output from its $S_i$ alone
    i = (2, 1, 3, 4)
    cases = (('batch', 1, nn.BatchNorm2d(3), 4 * 5 * 5),
             ('layer', 3, nn.LayerNorm((3, 5, 5)), 3 * 5 * 5))
    for kind, ndim, layer, size in cases:
        s = x[statistics_set(kind, x.shape, i, ndim)]
        by_hand = (x[i] - s.mean()) / torch.sqrt(s.var(unbiased=False) + 1e-5)
        check(f'{kind}: |S_i| = {size}', s.numel() == size)
        check_close(f'{kind}: x_i normalized by the statistics of S_i == torch output at i',
                    by_hand, layer(x)[i].detach())


@check_group
def _check_transpose_trap():
    """
    ## The trap: `BatchNorm1d(C)` on tokens without the transpose
    """
    # **The trap.** `BatchNorm1d(C)` on $(B, T, C)$ without the transpose: when $T = C$ nothing
    # complains, and it normalizes each *token position* over the batch and features
    square = torch.randn(4, 8, 8) + 1
    check_close('trap: BatchNorm(8) on (B, T=8, C=8) silently normalizes per position, '
                'over B and C', BatchNorm(8)(square), normalize_over(square, (0, 2)))
    tokens = torch.zeros(2, 7, 8)  # B, T, C
    check_raises('... and with T != C it refuses', ValueError, BatchNorm(8), tokens,
                 match='expects 8 channels')


@check_group(fold=True)
def _check_group_and_instance():
    """
    ## InstanceNorm and GroupNorm as cases of the definition, against `torch.nn.functional`

    The same hand normalization, over `reduction_dims('instance')` of the input and over
    `reduction_dims('group')` of `group_view()`, against `F.instance_norm` and `F.group_norm`;
    then $S_i$ element by element, and the two limits $G = 1$ and $G = C$.
    """
    import torch.nn.functional as F

    x = torch.randn(4, 6, 5, 5) * 2 + 3  # N, C, H, W
    check_close('normalize over H, W == F.instance_norm',
                normalize_over(x, reduction_dims('instance', x.shape)), F.instance_norm(x))
    for G in (1, 2, 3, 6):
        view = group_view(x, G)
        check_close(f'G = {G}: normalize (N, G, C/G, H, W) over C/G, H, W == F.group_norm',
                    normalize_over(view, reduction_dims('group', view.shape)).reshape(x.shape),
                    F.group_norm(x, G))
    #
    # $S_i$ alone reproduces element $i$'s output, and has the size of the table
    i = (2, 3, 1, 4)
    cases = (('instance', {}, F.instance_norm(x), 5 * 5),
             ('group', {'num_groups': 2}, F.group_norm(x, 2), 3 * 5 * 5))
    for kind, kwargs, out, size in cases:
        S = x[statistics_set(kind, x.shape, i, **kwargs)]
        by_hand = (x[i] - S.mean()) / torch.sqrt(S.var(unbiased=False) + 1e-5)
        check(f'{kind}: |S_i| = {size}', S.numel() == size)
        check_close(f'{kind}: x_i normalized by the statistics of S_i == torch output at i',
                    by_hand, out[i])
    check('G = 1: the same S_i as LayerNorm((C, H, W)); G = C: the same as InstanceNorm',
          torch.equal(statistics_set('group', x.shape, i, num_groups=1),
                      statistics_set('layer', x.shape, i, 3))
          and torch.equal(statistics_set('group', x.shape, i, num_groups=6),
                          statistics_set('instance', x.shape, i)))


# `GroupNorm(1, C)` and `LayerNorm((C, H, W))` normalize with the same statistics but learn
# different affine parameters: GroupNorm one $\gamma$ and one $\beta$ per channel ($2C$ numbers),
# LayerNorm one per element ($2CHW$). GroupNorm's per-channel values, repeated over $H, W$, give
# LayerNorm the same output; a LayerNorm $\gamma$ that varies within a channel has no GroupNorm
# counterpart (both asserted).
#
@check_group(fold=True)
def _check_group_norm_affine():
    """
    ## `GroupNorm(1, C)` and `LayerNorm((C, H, W))`: same statistics, other affine parameters
    """
    from torch import nn

    x = torch.randn(4, 6, 5, 5) * 2 + 3  # N, C, H, W
    gn, ln = nn.GroupNorm(1, 6), LayerNorm((6, 5, 5))
    check_close('at initialization: GroupNorm(1, C) == LayerNorm((C, H, W))', gn(x).detach(), ln(x))
    check('GroupNorm(1, C) learns 2C numbers, LayerNorm((C, H, W)) 2CHW',
          sum(p.numel() for p in gn.parameters()) == 12
          and sum(p.numel() for p in ln.parameters()) == 300,
          f'{tuple(gn.weight.shape)} vs {tuple(ln.weight.shape)} for each of gamma, beta')
    with torch.no_grad():
        gn.weight.normal_(), gn.bias.normal_()
        ln.weight.copy_(gn.weight[:, None, None].expand(6, 5, 5))
        ln.bias.copy_(gn.bias[:, None, None].expand(6, 5, 5))
    check_close('per-channel gamma, beta repeated over H, W: the same output', ln(x),
                gn(x).detach())
    with torch.no_grad():
        ln.weight.normal_()
    # The best GroupNorm $\gamma$ for this LayerNorm $\gamma$: its mean over each channel
    with torch.no_grad():
        gn.weight.copy_(ln.weight.mean((1, 2)))
    gap = (ln(x) - gn(x)).abs().max().item()
    check('a gamma that varies within a channel: GroupNorm with its channel means differs',
          gap > 0.5,
          f'max |Δ| = {gap:.2f} with the channel means of gamma')


@check_group(fold=True)
def _check_figure():
    """
    ## The cube figure

    The sizes its caption gives, from the masks it draws, against the table's $|S_i|$; and the
    drawing changes with the number of groups.
    """
    import re

    from labml_nn_norm.layer_norm import check_figure

    N, C, P = 4, 6, 5
    html = figure_statistics_sets((N, C, P), 2)
    sizes = [int(n) for n in re.findall(r'\((\d+)(?: elements)?\)', html.split('<figcaption>')[1])]
    check('figure: |S_i| in the caption == N HW, C HW, HW, (C/G) HW',
          sizes == [N * P, C * P, P, C // 2 * P], f'{sizes}')
    check_figure('figure', html, figure_statistics_sets((N, C, P), 3))


@check_group
def _check_train_eval():
    r"""
    ## Why `train()` and `eval()` change BatchNorm and not LayerNorm

    BatchNorm's $S_i$ contains *other samples*, so in training one sample's output depends on its
    neighbours. At inference we want an output that depends on the input alone, and there may be
    only one input. So while training BatchNorm keeps running averages of $\mu$ and $\sigma^2$ in
    buffers,

    $$\hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu_{\mathcal{B}}$$

    with momentum $m = 0.1$ in PyTorch (its
    [`BatchNorm1d` note](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L335-L341);
    Keras's `momentum` means $1 - m$, see the [BatchNorm page](../batch_norm/index.md)), and
    `eval()` switches to them. LayerNorm's $S_i$ is inside the sample, so it always computes the
    same thing: it has nothing to switch and nothing to store.
    """
    from torch import nn

    x = torch.randn(8, 3, 5, 5) * 2 + 3
    bn, bn_ref, ln = BatchNorm(3), nn.BatchNorm2d(3), LayerNorm((3, 5, 5))
    y_bn, y_ln = bn(x), ln(x)
    check_close('BatchNorm in training == nn.BatchNorm2d in training', y_bn, bn_ref(x))
    bn.eval(), bn_ref.eval(), ln.eval()
    # After one training step the running averages are still 90% their initial 0 and 1, far from
    # this batch's statistics, so `eval()` normalizes the same input differently
    check_close('after one step: running_mean == 0.1 · batch mean', bn.running_mean,
                0.1 * x.mean((0, 2, 3)))
    diff = (bn(x) - y_bn).abs().max().item()
    check('BatchNorm: the same input gives another output in eval()', diff > 1,
          f'max |Δ| = {diff:.2f}')
    check_close('BatchNorm in eval() == nn.BatchNorm2d in eval()', bn(x), bn_ref(x))
    mean, var = bn.running_mean.view(1, 3, 1, 1), bn.running_var.view(1, 3, 1, 1)
    check_close('BatchNorm in eval() normalizes with running_mean and running_var',
                bn(x), (x - mean) / torch.sqrt(var + 1e-5))
    check('LayerNorm: bit-identical in train() and eval()', torch.equal(ln(x), y_ln))
    #
    # A sample's output depends on its neighbours in training, and not in evaluation
    neighbours = torch.cat([x[:1], torch.randn(7, 3, 5, 5) * 5 - 2])
    moved = (bn.train()(neighbours)[0] - bn.train()(x)[0]).abs().max().item()
    check('BatchNorm train(): sample 0 changes when the other 7 change', moved > 0.5,
          f'max |Δ| = {moved:.2f}')
    check('BatchNorm eval(): sample 0 stays the same',
          torch.equal(bn.eval()(neighbours)[0], bn(x)[0]))
    check_close('LayerNorm: sample 0 stays the same', ln(neighbours)[0], ln(x)[0])


@check_group(fold=True)
def _check_buffers():
    """
    ## The buffers against `torch.nn`, and the running statistics after 10 and 50 steps
    """
    from torch import nn

    x = torch.randn(8, 3, 5, 5) * 2 + 3  # N, C, H, W
    # **The buffers.** LayerNorm's `state_dict` is only $\gamma$ and $\beta$
    check('LayerNorm has no buffers', list(LayerNorm((3, 5, 5)).buffers()) == [])
    buffers = [name for name, _ in BatchNorm(3).named_buffers()]
    check('BatchNorm has running_mean, running_var, num_batches_tracked',
          buffers == ['running_mean', 'running_var', 'num_batches_tracked'])
    check('state_dict keys match torch.nn for both',
          list(LayerNorm(8).state_dict()) == list(nn.LayerNorm(8).state_dict())
          and list(BatchNorm(8).state_dict()) == list(nn.BatchNorm1d(8).state_dict()))
    #
    # **Convergence.** Feeding one batch $k$ times moves $\hat\mu$ from 0 a fraction $1 - 0.9^k$ of
    # the way to its mean; $\hat\sigma^2$ moves from 1 toward the batch's *unbiased* variance
    bn, k = BatchNorm(3), 10
    for _ in range(k):
        bn(x)
    mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=True)
    check_close(f'running_mean after {k} steps == (1 - 0.9^{k}) μ', bn.running_mean,
                (1 - 0.9 ** k) * mean)
    check_close(f'running_var after {k} steps == 0.9^{k} + (1 - 0.9^{k}) σ²', bn.running_var,
                0.9 ** k + (1 - 0.9 ** k) * var)
    # Fresh batches from $\mathcal{N}(3, 2^2)$: after 50 steps the buffers sit near the data's
    # statistics
    bn, bn_ref = BatchNorm(3), nn.BatchNorm2d(3)
    for _ in range(50):
        batch = torch.randn(16, 3, 5, 5) * 2 + 3
        bn(batch), bn_ref(batch)
    check('after 50 batches running_mean ≈ 3 and running_var ≈ 4',
          (bn.running_mean - 3).abs().max() < 0.1 and (bn.running_var - 4).abs().max() < 0.3,
          f'mean {[round(v, 3) for v in bn.running_mean.tolist()]}, '
          f'var {[round(v, 3) for v in bn.running_var.tolist()]}')
    check_close('... the same buffers as nn.BatchNorm2d', (bn.running_mean, bn.running_var),
                (bn_ref.running_mean, bn_ref.running_var))


@check_group
def _check_batch_of_one():
    """
    ## A batch of one

    With $N = 1$, BatchNorm's $S_i$ shrinks to what one sample holds for one channel. For a $(1, C)$
    input that is a single value: its variance is 0 and it normalizes to 0 whatever it was, so in
    training PyTorch (and ours) refuse it. For a $(1, C, H, W)$ image it is that image's own pixels,
    so BatchNorm becomes *instance normalization*. LayerNorm's $S_i$ never included the batch, so a
    sample's output is the same alone or in any batch.
    """
    import torch.nn.functional as F
    from torch import nn

    check_raises('BatchNorm, (1, C) in training', ValueError, BatchNorm(3), torch.randn(1, 3),
                 match='Expected more than 1 value per channel when training')
    check_raises('nn.BatchNorm1d refuses it with the same message', ValueError,
                 nn.BatchNorm1d(3), torch.randn(1, 3),
                 match='Expected more than 1 value per channel when training')
    one = torch.randn(1, 3, 5, 5) * 2 + 3
    y = BatchNorm(3)(one)
    check_close('BatchNorm, (1, C, H, W) == nn.BatchNorm2d', y, nn.BatchNorm2d(3)(one))
    check_close('... == each channel over its own H·W pixels (instance norm)', y,
                F.instance_norm(one))
    x = torch.randn(6, 3, 5, 5) * 2 + 3
    ln = LayerNorm((3, 5, 5))
    alone = torch.cat([ln(x[n:n + 1]) for n in range(6)])
    check_close('LayerNorm: each sample alone == the same sample in the batch of 6', alone, ln(x))


@check_group
def _check_padding():
    r"""
    ## Variable-length sequences

    Sequences of different lengths are padded to one length $T$. BatchNorm's $S_i$ for a feature is
    every token of every sequence, pads included, so the statistics, and the outputs of the *real*
    tokens, depend on how much padding the batch happens to have. LayerNorm's $S_i$ is one token's
    features, so padding cannot reach it. That much is measured below, on a toy batch.

    What we do *not* claim is that this is why Transformers use LayerNorm. The sources say less:

    * **Paper, what it does.** [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762) (§3.1) put a
      residual connection around each sub-layer, "followed by layer normalization", citing Ba et
      al., with the output $\mathrm{LayerNorm}(x + \mathrm{Sublayer}(x))$ (see the
      [Transformer](../transformer/index.md) page). §3.1 gives no reason for choosing layer over
      batch normalization (we have not searched the rest of the paper for one).
    * **Paper, what it found.** Shen et al., [PowerNorm](https://arxiv.org/abs/2003.07845) (2020),
      say in their abstract that LN is preferred in NLP "principally due to the empirical
      observation that a (naive/vanilla) use of BN leads to significant performance degradation for
      NLP tasks", and that "the statistics of NLP data across the batch dimension exhibit large
      fluctuations throughout training", which makes a naive BN unstable. They also report a
      normalization over the batch dimension of their own (Power Normalization: no mean subtraction,
      a running quadratic mean in place of per-batch statistics) that outperforms LN on their NLP
      tasks, so the batch dimension as such is not ruled out. We read their abstract, not the body.
    * **Conjecture.** Padding, and the varying lengths behind it, is one plausible source of the
      fluctuating batch statistics Shen et al. describe; we have not tested that on real data.
    """
    from torch import nn

    lengths = [5, 3]
    real = [torch.randn(n, 8) + 2 for n in lengths]  # two sequences, 8 features

    def pad_to(T: int):
        # Zeros after each sequence's end, and the mask of its real tokens
        x = torch.stack([torch.cat([s, torch.zeros(T - len(s), 8)]) for s in real])
        return x, torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]

    (x5, m5), (x15, m15) = pad_to(5), pad_to(15)
    bn, ln = BatchNorm(8), LayerNorm(8)
    drift = (_tokens_through_bn(bn, x15)[m15] - _tokens_through_bn(bn, x5)[m5]).abs().max().item()
    check('BatchNorm: real tokens change when padding grows from 5 to 15', drift > 0.5,
          f'max |Δ| = {drift:.2f}')
    check_close('LayerNorm: real tokens the same with 5 or 15 padded length',
                ln(x15)[m15], ln(x5)[m5])
    check_close('LayerNorm: ... and the same as each sequence alone, unpadded', ln(x15)[m15],
                torch.cat([nn.LayerNorm(8)(s) for s in real]).detach())
    # The masked version equals BatchNorm on the real tokens alone, packed as $(n, C)$
    packed = nn.BatchNorm1d(8)(torch.cat(real)).detach()
    check_close('masked BatchNorm, padded to 15 == nn.BatchNorm1d on the packed real tokens',
                masked_batch_norm(x15, m15)[m15], packed)
    check_close('masked BatchNorm, padded to 5 == the same', masked_batch_norm(x5, m5)[m5], packed)


@check_group
def _check_rnn():
    r"""
    ## RNN time steps: one BatchNorm for all steps, LayerNorm step by step

    **From the LayerNorm paper.** Ba et al. (§1) write that the summed inputs of an RNN "often vary
    with the length of the sequence so applying batch normalization to RNNs appears to require
    different statistics for different time-steps", and (§3.1) that statistics stored per time step
    are "problematic if a test sequence is longer than any of the training sequences", while
    LayerNorm's "normalization terms depend only on the summed inputs to a layer at the current
    time-step". Their §4 reports that Cooijmans et al. (2016) got their best recurrent BatchNorm
    with independent statistics for each time step.

    **Measured here, on a toy.** Our stand-in for a hidden state is a running sum of independent
    $\mathcal{N}(0, 1)$ inputs (not a trained RNN), so its variance at step $t$ is $t$ in
    expectation. BatchNorm with one set of statistics for all steps then squeezes the early steps
    and inflates the late ones; LayerNorm normalizes each sample at each step from that step's state
    alone.
    """

    h = torch.randn(64, 20, 8).cumsum(1)  # B, T, C: a hidden state accumulating its inputs
    step_var = h.var(dim=(0, 2))
    slope = (step_var / torch.arange(1, 21)).mean().item()
    check('the batch variance of the state grows like t: mean of Var_t / t within 15% of 1',
          abs(slope - 1) < 0.15, f'mean Var_t / t = {slope:.3f}; step 20 / step 1 = '
          f'{(step_var[-1] / step_var[0]).item():.1f}')
    y = _tokens_through_bn(BatchNorm(8), h)
    std_first, std_last = y[:, 0].std().item(), y[:, -1].std().item()
    check('one BatchNorm for all steps: step 1 squeezed, step 20 inflated',
          std_first < 0.5 < 1.2 < std_last,
          f'std {std_first:.2f} at step 1, {std_last:.2f} at step 20')
    ln = LayerNorm(8)
    per_step = torch.stack([ln(h[:, t]) for t in range(20)], 1)
    check_close('LayerNorm step by step == LayerNorm on the whole sequence', per_step, ln(h))
    check_close('LayerNorm: every sample at every step has biased std 1',
                per_step.std(-1, unbiased=False), torch.ones(64, 20), atol=1e-4, rtol=0)


@check_group
def _check_data_parallel():
    r"""
    ## Data-parallel: the batch split over 2 devices

    Data-parallel training splits the batch over devices. Per-device BatchNorm uses a different
    $S_i$ from single-device BatchNorm. The exact statistics need each device's count, mean and
    variance (`combine_statistics()` above). PyTorch's `nn.SyncBatchNorm` gathers each rank's
    per-channel mean, $1/\sqrt{\sigma^2 + \epsilon}$ and count with one `all_gather`
    ([`_functions.py` L59-L86](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L59-L86))
    and merges them in `torch.batch_norm_gather_stats_with_counts` ([L102-L115](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L102-L115));
    the [across devices](../distributed/index.md) page builds the same on `torch.distributed`.
    LayerNorm gives the same result on any split.
    """
    from torch import nn

    x = torch.randn(8, 3, 5, 5) * 2 + 3
    x[4:] += 2  # the two halves differ, as they do when data is not shuffled perfectly
    shards = x.chunk(2)
    whole = nn.BatchNorm2d(3)(x).detach()
    local = torch.cat([BatchNorm(3)(s) for s in shards])
    gap = (local - whole).abs().max().item()
    check('BatchNorm per device != BatchNorm on the whole batch', gap > 0.5, f'max |Δ| = {gap:.2f}')
    counts = torch.tensor([float(s.numel() // 3) for s in shards])
    means = torch.stack([s.mean((0, 2, 3)) for s in shards])
    variances = torch.stack([s.var((0, 2, 3), unbiased=False) for s in shards])
    mean, var = combine_statistics(counts, means, variances)
    synced = (x - mean.view(1, 3, 1, 1)) / torch.sqrt(var.view(1, 3, 1, 1) + 1e-5)
    check_close('combined (n_k, μ_k, σ²_k) == BatchNorm on the whole batch', synced, whole)
    ln = LayerNorm((3, 5, 5))
    check_close('LayerNorm per device == LayerNorm on the whole batch',
                torch.cat([ln(s) for s in shards]), ln(x))


@check_group(fold=True)
def _check_worked_example():
    """
    ## The live matrix's starting values

    The numbers the browser tests expect on the page, from this site's modules: LayerNorm of the
    first row, and BatchNorm of the first column.
    """

    x = torch.tensor(WORKED_EXAMPLE, dtype=torch.float32)
    check_close('LayerNorm(4), first sample == [-0.8165, 0, 1.6330, -0.8165]',
                LayerNorm(4, elementwise_affine=False)(x)[0],
                torch.tensor([-0.8165, 0.0, 1.6330, -0.8165]), rtol=0, atol=1e-4)
    check_close('BatchNorm(4) in training, first feature == [-0.9258, 1.3887, -0.4629]',
                BatchNorm(4, affine=False)(x)[:, 0], torch.tensor([-0.9258, 1.3887, -0.4629]),
                rtol=0, atol=1e-4)


@check_group(fold=True)
def _check_reduction_dims_errors():
    """
    ## `reduction_dims` refuses an unknown kind
    """

    check_raises('reduction_dims: an unknown kind', ValueError, reduction_dims, 'weight', (2, 3),
                 match="'weight'")


# ## Exercises
#
# 1. A batch of tokens is $(B, T, C) = (32, 128, 512)$. How large is $S_i$ for `BatchNorm1d(C)`
#    (on the transposed batch) and for `LayerNorm(C)`, and how many means does each layer compute?
# 2. Train BatchNorm on a batch of *two* samples, $(2, C)$. What are the outputs, whatever the
#    input? What is left of the input in them?
# 3. Drop the term $(\mu_k - \mu)^2$ from `combine_statistics()`. When is the result still right,
#    and how far off is it on two shards whose means differ?


@check_group(fold=True)
def _exercise_1():
    """
    ## Solution 1: the sizes of the statistics sets for (32, 128, 512) tokens
    """
    B, T, C = 32, 128, 512
    i = (0, 5, 7)  # an element of the (B, C, T) layout BatchNorm sees
    bn_set = statistics_set('batch', (B, C, T), i)
    ln_set = statistics_set('layer', (B, T, C), i)
    check('|S_i|: BatchNorm B·T = 4096, LayerNorm C = 512',
          int(bn_set.sum()) == B * T and int(ln_set.sum()) == C,
          f'{int(bn_set.sum())}, {int(ln_set.sum())}')
    # One mean per value of the kept dimensions: $C$ for BatchNorm, $B \cdot T$ for LayerNorm
    kept = [[n for d, n in enumerate(shape) if d not in reduction_dims(kind, shape)]
            for kind, shape in (('batch', (B, C, T)), ('layer', (B, T, C)))]
    check('means: BatchNorm C = 512, LayerNorm B·T = 4096',
          kept == [[C], [B, T]], f'kept dimensions {kept}')


@check_group(fold=True)
def _exercise_2():
    """
    ## Solution 2: BatchNorm on a batch of two
    """
    # Two values $a, b$ have mean $(a + b) / 2$ and biased variance $((a - b) / 2)^2$: the outputs
    # are $\pm 1$ (a little less, for $\epsilon$), only the order of $a$ and $b$ survives
    x = torch.randn(2, 6) * 5 + 3  # (2, C)
    y = BatchNorm(6)(x)
    check_close('outputs are ±1, the larger value +1', y, torch.sign(x[0] - x[1]) * torch.tensor(
        [[1.0], [-1.0]]), rtol=0, atol=1e-3)


@check_group(fold=True)
def _exercise_3():
    r"""
    ## Solution 3: combine_statistics without the spread between devices
    """
    x = torch.randn(8, 3) * 2 + 3  # (N, C)
    x[4:] += 2  # the second shard's mean is 2 higher
    counts = torch.tensor([4.0, 4.0])
    for shards, label in ((x.chunk(2), 'means differ'), ((x[:4], x[:4] + 0), 'same means')):
        means = torch.stack([s.mean(0) for s in shards])  # (devices, C)
        variances = torch.stack([s.var(0, unbiased=False) for s in shards])  # (devices, C)
        _, var = combine_statistics(counts, means, variances)
        # Without $(\mu_k - \mu)^2$: the mean of the devices' variances
        naive = (counts[:, None] * variances).sum(0) / counts.sum()
        if label == 'same means':
            check_close('same means: the spread term is 0, the result still right', naive, var)
        else:
            # Two equal shards: the missing term is $((\mu_1 - \mu_2) / 2)^2$, about 1 here
            check_close('means differ: too small by ((μ₁ − μ₂) / 2)²', var - naive,
                        ((means[0] - means[1]) / 2).square())


def _test():
    """
    ## Run all the checks
    """
    torch.manual_seed(0)
    _check_worked_example()
    _check_definition()
    _check_transpose_trap()
    _check_group_and_instance()
    _check_group_norm_affine()
    _check_figure()
    _check_train_eval()
    _check_buffers()
    _check_batch_of_one()
    _check_padding()
    _check_rnn()
    _check_data_parallel()
    _check_reduction_dims_errors()
    _exercise_1()
    _exercise_2()
    _exercise_3()

# ## Sources
#
# * Ba, Kiros and Hinton, [Layer Normalization](https://arxiv.org/abs/1607.06450), 2016: §1 (batch
#   normalization and RNN time steps, online learning, small mini-batches), §3 (statistics over the
#   hidden units of one layer, one training case), §3.1 (per-time-step statistics, test sequences
#   longer than the training ones), §4 (Cooijmans et al.'s per-time-step recurrent BatchNorm, as Ba
#   et al. report it).
# * Ioffe and Szegedy, [Batch Normalization](https://arxiv.org/abs/1502.03167), 2015, §3.1
#   (population statistics at inference), §3.2 (one $\gamma$, $\beta$ per feature map); details on
#   the [BatchNorm page](../batch_norm/index.md).
# * Vaswani et al., [Attention Is All You Need](https://arxiv.org/abs/1706.03762), 2017, §3.1: a
#   residual connection around each sub-layer followed by layer normalization,
#   $\mathrm{LayerNorm}(x + \mathrm{Sublayer}(x))$, citing Ba et al., with no reason given there for
#   the choice.
# * Shen, Yao, Gholami, Mahoney and Keutzer, [PowerNorm: Rethinking Batch Normalization in Transformers](https://arxiv.org/abs/2003.07845),
#   ICML 2020, abstract only: BN's degradation in NLP as the reason LN is preferred, batch
#   statistics that fluctuate throughout training, Power Normalization outperforming LN.
# * PyTorch 2.13.0, [`torch/nn/modules/batchnorm.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L335-L341):
#   the `momentum` update rule; [`torch/nn/modules/_functions.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L59-L115):
#   `SyncBatchNorm`'s `all_gather` of mean, invstd and count, and the merge. Every behaviour of
#   `nn.BatchNorm*d`, `nn.LayerNorm` and `F.instance_norm` stated on this page is compared with
#   those modules in `_test()`.
