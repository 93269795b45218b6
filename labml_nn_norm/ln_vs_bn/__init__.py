r"""
---
title: LayerNorm vs BatchNorm
summary: Which elements each one averages over, why train()/eval() changes BatchNorm and not LayerNorm, batches of one, padded sequences - each claim a checked demonstration.
---

# LayerNorm vs BatchNorm

[Batch Normalization](../batch_norm/index.md) and [Layer Normalization](../layer_norm/index.md)
compute the same formula,

$$y_i = \frac{x_i - \mu_{S_i}}{\sqrt{\sigma^2_{S_i} + \epsilon}}\,\gamma + \beta$$

and differ in one thing only: the **statistics set** $S_i$, the elements whose mean
$\mu_{S_i}$ and variance $\sigma^2_{S_i}$ normalize element $i$.

* **BatchNorm**: $S_i$ is every element of the *same channel*, across the whole batch and every
  position. For an image batch $(N, C, H, W)$ it reduces over $N, H, W$: $C$ means and variances.
* **LayerNorm**: $S_i$ is every element of the *same sample* (for a sequence, the same token)
  in the last dimensions named by `normalized_shape`. For $(N, C, H, W)$ with
  `normalized_shape=(C, H, W)` it reduces over $C, H, W$: $N$ means and variances. For a
  $(B, T, C)$ batch of token embeddings with `normalized_shape=C`, it reduces over $C$ alone:
  one mean per token.

![Which elements share a mean: BatchNorm (a channel across the batch) and LayerNorm (one sample, one token)](axes.svg)

Everything else follows from that choice, and every claim below is a demonstration that
`_test()` checks:

* BatchNorm's $S_i$ spans other samples, so a sample's output depends on its neighbours; at
  inference there may be no neighbours, so BatchNorm keeps **running statistics** and
  `train()`/`eval()` switch between batch and running statistics. LayerNorm's $S_i$ is inside
  the sample: the same computation always, no buffers, `train()`/`eval()` change nothing.
* A **batch of one**: BatchNorm cannot train on `(1, C)` (one value per channel) and on
  `(1, C, H, W)` it normalizes each channel over that single image's pixels; LayerNorm does not care.
* **Padded sequences**: BatchNorm's statistics include the pads, so a real token's output
  changes with the amount of padding; LayerNorm normalizes each token on its own.
* **RNNs**: a recurrent net is applied step by step with different statistics at every time
  step; BatchNorm would need running statistics per step (and sequences longer than any seen in
  training have none), LayerNorm needs nothing.
* **Data-parallel training**: BatchNorm's $S_i$ crosses devices and needs an all-reduce; see
  normalization across devices. Inside a Transformer, LayerNorm
  normalizes each token: add & norm.
"""

from typing import Sequence, Tuple

import torch

from labml_nn_norm.batch_norm import BatchNorm
from labml_nn_norm.layer_norm import LayerNorm


def reduction_dims(kind: str, shape: Sequence[int], normalized_ndim: int = 1) -> Tuple[int, ...]:
    """
    ## The statistics set, as dimensions

    The one definition both layers are cases of: the dimensions reduced to get the mean and variance.

    * BatchNorm: every dimension except the channel dimension 1
    * LayerNorm: the last `normalized_ndim` dimensions (the length of `normalized_shape`)
    """
    if kind == 'batch':
        return (0,) + tuple(range(2, len(shape)))
    if kind == 'layer':
        return tuple(range(len(shape) - normalized_ndim, len(shape)))
    raise ValueError(f"kind must be 'batch' or 'layer', got {kind!r}")


def normalize_over(x: torch.Tensor, dims: Tuple[int, ...], eps: float = 1e-5) -> torch.Tensor:
    # The shared formula with the biased variance; only `dims` differs between the two layers
    mean = x.mean(dim=dims, keepdim=True)
    var = (x - mean).square().mean(dim=dims, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def _artifacts():
    """
    ## The picture

    Drawn at build time: one panel per case, a grid of elements with one statistics set coloured.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.4))
    panels = [
        ('BatchNorm, (N, C, H·W)', 'sample n', 'channel c, positions H·W', lambda n, c, p: c == 1),
        ('LayerNorm, (N, C, H·W)', 'sample n', 'channel c, positions H·W', lambda n, c, p: n == 2),
        ('LayerNorm, (B, T, C): per token', 'token t', 'features C', lambda t, c, p: t == 2),
    ]
    for ax, (title, ylabel, xlabel, chosen) in zip(axes, panels):
        # 4 rows (samples or tokens) by 3 groups of 3 columns (channels x positions)
        for n in range(4):
            for c in range(3):
                for p in range(3):
                    on = chosen(n, c, p)
                    ax.add_patch(Rectangle((c * 3.4 + p, 3 - n), 0.9, 0.9,
                                           facecolor='#1f5fbf' if on else '#e3e7ee', edgecolor='#333333', lw=0.5))
        ax.set_xlim(-0.3, 10.3)
        ax.set_ylim(-0.3, 4.2)
        ax.set_aspect('equal')
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle('Blue: the elements that share one mean and variance', fontsize=10)
    return {'axes': fig}


def _test():
    """
    ## The demonstrations
    """
    import torch.nn.functional as F
    from torch import nn
    from labml_nn_norm._check import check, check_close, check_raises, section

    torch.manual_seed(0)
    section('One definition, two cases: the statistics set as dimensions')
    x = torch.randn(4, 3, 5, 5) * 2 + 3
    check('BatchNorm on (N, C, H, W) reduces N, H, W', reduction_dims('batch', x.shape) == (0, 2, 3))
    check_close('normalize over those dims == nn.BatchNorm2d (training)',
                normalize_over(x, reduction_dims('batch', x.shape)), nn.BatchNorm2d(3)(x).detach())
    check_close('normalize over C, H, W == nn.LayerNorm((3, 5, 5))',
                normalize_over(x, reduction_dims('layer', x.shape, 3)), nn.LayerNorm((3, 5, 5))(x).detach())
    # For tokens, BatchNorm1d wants (B, C, T): channels in dimension 1
    tokens = torch.randn(2, 7, 8) + 1  # batch, tokens, features
    check_close('(B, T, C): per-feature BatchNorm == nn.BatchNorm1d on (B, C, T)',
                normalize_over(tokens, (0, 1)), nn.BatchNorm1d(8)(tokens.transpose(1, 2)).transpose(1, 2).detach())
    check_close('(B, T, C): per-token LayerNorm == nn.LayerNorm(C)',
                normalize_over(tokens, reduction_dims('layer', tokens.shape)), nn.LayerNorm(8)(tokens).detach())
    #
    section('train() and eval()')
    bn, ln = BatchNorm(3), LayerNorm((3, 5, 5))
    y_train_bn, y_train_ln = bn(x), ln(x)
    bn.eval(), ln.eval()
    diff = (bn(x) - y_train_bn).abs().max().item()
    check('BatchNorm: eval() output differs from train() output', diff > 0.1, f'max |Δ| = {diff:.2f}')
    check('LayerNorm: identical in train() and eval()', torch.equal(ln(x), y_train_ln))
    check('LayerNorm has no buffers; BatchNorm has three',
          list(ln.buffers()) == [] and len(list(bn.buffers())) == 3)
    # With momentum 0.1 the running mean approaches the data's mean (3) geometrically: $1 - 0.9^k$
    bn = BatchNorm(3).train()
    for _ in range(50):
        bn(torch.randn(16, 3, 5, 5) * 2 + 3)
    check('BatchNorm running_mean after 50 steps ≈ data mean 3 (1 - 0.9^50 of the way)',
          (bn.running_mean - 3).abs().max().item() < 0.1, f'{bn.running_mean.tolist()}')
    #
    section('A batch of one')
    check_raises('BatchNorm, (1, C) in training', ValueError, BatchNorm(3), torch.randn(1, 3),
                 match='more than 1 value per channel')
    one = x[:1]
    check_close('BatchNorm, (1, C, H, W): each channel over its own pixels',
                BatchNorm(3)(one).detach(), normalize_over(one, (0, 2, 3)))
    ln = LayerNorm((3, 5, 5))
    check_close('LayerNorm: a sample alone == the same sample inside the batch', ln(one), ln(x)[:1])
    #
    section('Padded sequences (B, T, C) with T padded by zeros')
    real = torch.randn(2, 5, 8) + 2
    padded = {pad: torch.cat([real, torch.zeros(2, pad, 8)], 1) for pad in (0, 3, 10)}
    bn, ln = BatchNorm(8), LayerNorm(8)
    bn_out = {pad: bn(p.transpose(1, 2)).transpose(1, 2)[:, :5] for pad, p in padded.items()}
    ln_out = {pad: ln(p)[:, :5] for pad, p in padded.items()}
    drift = (bn_out[10] - bn_out[0]).abs().max().item()
    check('BatchNorm: real tokens change when padding is added', drift > 0.5, f'max |Δ| = {drift:.2f}')
    check_close('LayerNorm: real tokens identical with 0, 3 or 10 pads', ln_out[10], ln_out[0])
    # The fix for BatchNorm costs a mask: statistics over the real tokens only
    mask = torch.zeros(2, 15, 1, dtype=torch.bool)
    mask[:, :5] = True
    p = padded[10]
    mean = (p * mask).sum((0, 1)) / mask.sum()
    var = (((p - mean) * mask) ** 2).sum((0, 1)) / mask.sum()
    masked = ((p - mean) / torch.sqrt(var + 1e-5))[:, :5]
    check_close('masked BatchNorm over real tokens == BatchNorm without pads', masked, bn_out[0])
    #
    section('Errors')
    check_raises('unknown kind', ValueError, reduction_dims, 'group', (2, 3), match="'group'")
    check_close('F.layer_norm agrees on a token batch', ln(real), F.layer_norm(real, (8,), ln.weight, ln.bias))
