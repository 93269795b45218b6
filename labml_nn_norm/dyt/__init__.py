r"""
---
title: "Dynamic Tanh: a Transformer without normalization"
nav: Dynamic Tanh (DyT)
summary: DyT, an element-wise tanh with a learned scale, as a drop-in for LayerNorm; the S-shaped
  LayerNorm mappings that motivate it, measured on this site's Transformer; DyT trained against
  LayerNorm and RMSNorm over several seeds; and what it costs.
section: LayerNorm in the Transformer
order: 24
---

# Dynamic Tanh: a Transformer without normalization

[Transformers without Normalization](https://arxiv.org/abs/2503.10622) (Zhu, Chen, He, LeCun and
Liu, CVPR 2025) replaces every LayerNorm of a Transformer by an element-wise function with no
statistics at all, *Dynamic Tanh*:

$$\mathrm{DyT}(x) = \gamma \odot \tanh(\alpha x) + \beta$$

with one learnable scalar $\alpha$ per layer and the same per-channel $\gamma$ and $\beta$ as
LayerNorm. The abstract states the reason: "layer normalization in Transformers often produces
tanh-like, S-shaped input-output mappings", and reports that with DyT "Transformers without
normalization can match or exceed the performance of their normalized counterparts, mostly
without hyperparameter tuning". The authors' README lists ImageNet-1K top-1 accuracies with LN
and with DyT: ViT-B 82.3% and 82.5%, ViT-L 83.1% and 83.6%, ConvNeXt-B 83.7% both, ConvNeXt-L
84.3% and 84.4%. We read the abstract, the project page and the authors' code, not the body of
the paper, so this page cites no section of it.

Compare [LayerNorm](../layer_norm/index.md), $y = \gamma \odot (x - \mu_t)/\sigma_t + \beta$:
its $\mu_t$ and $\sigma_t$ are a reduction over the $C$ channels of token $t$. DyT has none; each
output element depends on one input element. The price is that $\alpha$ is *one number for all
tokens*, where LayerNorm divides each token by its own $\sigma_t$.

## What you will learn

* what DyT computes, and how it stands in for LayerNorm in a model that was built with LayerNorm:
  [the functional form](#the-functional-form) and [the module](#the-module);
* why LayerNorm's mapping is a straight line for each token, and where an S-shape can still come
  from:
  [Where an S-shape can come from](#where-an-s-shape-can-come-from-a-line-per-token-bounded-by-c-1);
* how to test a paper's observation on a model you can train in minutes, and what we found:
  [The observation, on this site's model](#the-observation-on-this-sites-model);
* how to compare three norms over seeds with a paired bootstrap interval, and when to say
  "inconclusive":
  [DyT trained against LayerNorm and RMSNorm](#dyt-trained-against-layernorm-and-rmsnorm);
* what DyT saves and what it does not, in bytes and in CPU time: [What it costs](#what-it-costs);
* in the [exercises](#exercises): where DyT is a straight line, its gradient by hand, one
  $\alpha$ for tokens of different scales, and folding $\alpha$ into a linear layer.
"""


import functools
import json
import math
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from labml_nn_norm._check import check, check_close, check_group, check_raises, note
from labml_nn_norm._record import run_record
from labml_nn_norm.layer_norm import (
    LayerNorm,
    _shape_t,
    check_normalized_shape,
    normalized_shape_tuple,
    statistics_dtype,
)

RESULTS = Path(__file__).resolve().parent / 'results'


def dyt(input: torch.Tensor, normalized_shape: _shape_t, alpha: torch.Tensor,
        weight: Optional[torch.Tensor] = None,
        bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    r"""
    ## The functional form

    $\mathrm{DyT}(x) = \gamma \odot \tanh(\alpha x) + \beta$, element by element. Nothing is
    reduced: every output element depends on one input element and on the parameters only.
    """
    shape = normalized_shape_tuple(normalized_shape)
    # The same shape checks and messages as LayerNorm's: the input must end in
    # `normalized_shape`, `weight` and `bias` must be `normalized_shape`
    check_normalized_shape(input, shape, weight, bias)
    if alpha.numel() != 1:
        raise ValueError(f'alpha must hold one number, got a tensor of shape {list(alpha.shape)}')
    #
    # Half precision is computed in `float32` and rounded once at the end, the rule of this
    # site's LayerNorm and RMSNorm
    compute_dtype = statistics_dtype(input.dtype)
    x = input.to(compute_dtype)
    # $\tanh(\alpha x)$: $\alpha$ is one scalar for the whole layer
    y = torch.tanh(alpha.to(compute_dtype) * x)
    #
    # $\gamma \odot \cdot + \beta$: the per-channel affine that LayerNorm has too
    if weight is not None:
        y = y * weight.to(compute_dtype)
    if bias is not None:
        y = y + bias.to(compute_dtype)
    return y.to(input.dtype)


class DyT(nn.Module):
    r"""
    ## The module

    A drop-in for `LayerNorm(normalized_shape)`:

    * `normalized_shape`: an `int` or a shape, as for LayerNorm; $\gamma$ and $\beta$ have it
    * `eps`: **accepted and ignored**. DyT divides by nothing, so there is nothing for $\epsilon$
      to protect; the argument exists only so that code which builds its norms as
      `norm(C, eps=1e-5)` runs unchanged (`_test()` checks that the output does not depend on it)
    * `elementwise_affine`, `bias`: whether to learn $\gamma$ (`weight`) and $\beta$ (`bias`),
      as `torch.nn.LayerNorm`'s arguments of the same names
    * `alpha_init_value`: $\alpha_0$, default 0.5 as in the authors' code; it must be a
      positive, finite number (a `ValueError` otherwise)

    The parameters are named as in the authors' `DynamicTanh`: `alpha` of shape `[1]`,
    `weight` and `bias`, so a `state_dict` moves between the two.
    """

    def __init__(self, normalized_shape: _shape_t, eps: Optional[float] = None,
                 elementwise_affine: bool = True, bias: bool = True,
                 alpha_init_value: float = 0.5, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = normalized_shape_tuple(normalized_shape)
        # $\alpha_0 \le 0$ would start with a flat (zero) or sign-flipped layer
        if not (isinstance(alpha_init_value, (int, float)) and math.isfinite(alpha_init_value)
                and alpha_init_value > 0):
            raise ValueError(f'alpha_init_value must be a positive finite number, '
                             f'got {alpha_init_value!r}')
        self.alpha_init_value = float(alpha_init_value)
        self.elementwise_affine = elementwise_affine
        factory = dict(device=device, dtype=dtype)
        # $\alpha$: one learnable scalar per layer
        self.alpha = nn.Parameter(torch.empty(1, **factory))
        # $\gamma$ and $\beta$: one per channel, `None` when switched off, as in PyTorch
        if elementwise_affine:
            self.weight = nn.Parameter(torch.empty(self.normalized_shape, **factory))
        else:
            self.register_parameter('weight', None)
        if elementwise_affine and bias:
            self.bias = nn.Parameter(torch.empty(self.normalized_shape, **factory))
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        # $\alpha = \alpha_0$, $\gamma = 1$, $\beta = 0$: at the start the layer is
        # $\tanh(\alpha_0 x)$
        nn.init.constant_(self.alpha, self.alpha_init_value)
        if self.weight is not None:
            nn.init.ones_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return dyt(input, self.normalized_shape, self.alpha, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f'{self.normalized_shape}, alpha_init_value={self.alpha_init_value}, '
                f'elementwise_affine={self.elementwise_affine}')


@check_group(fold=True)
def _check_formula():
    """
    ## DyT against its formula (4 shapes, 3 dtypes, affine flags, eps); initial values, state_dict

    Against a plain PyTorch expression, bit for bit (the same operations in the same order), for
    several shapes, shifted inputs and non-trivial parameters; then the initial values.
    """

    for shape, ns in (((4, 16), 16), ((2, 7, 32), 32), ((2, 3, 4, 5), (4, 5)), ((0, 8), 8)):
        for dtype in (torch.float32, torch.float64):
            m = DyT(ns, dtype=dtype)
            with torch.no_grad():
                m.alpha.fill_(0.37)
                m.weight.normal_()
                m.bias.normal_()
            x = torch.randn(shape, dtype=dtype) * 3 + 1
            check_close(f'input {tuple(shape)}, normalized_shape={ns}, {dtype}', m(x),
                        m.weight * torch.tanh(m.alpha * x) + m.bias, rtol=0, atol=0)
    x = torch.randn(3, 8)
    check_close('no affine: tanh(alpha * x)', DyT(8, elementwise_affine=False)(x),
                torch.tanh(0.5 * x), rtol=0, atol=0)
    check_close('bias=False: weight * tanh(alpha * x)', DyT(8, bias=False)(x),
                torch.tanh(0.5 * x), rtol=0, atol=0)
    m = DyT(6)
    check('initial values: alpha = 0.5 (shape [1]), weight = 1, bias = 0',
          m.alpha.shape == (1,) and m.alpha.item() == 0.5 and torch.equal(m.weight, torch.ones(6))
          and torch.equal(m.bias, torch.zeros(6)), repr(m))
    check('alpha_init_value=0.2 starts alpha at 0.2',
          abs(DyT(6, alpha_init_value=0.2).alpha.item() - 0.2) < 1e-7)
    check('state_dict keys are the authors\' DynamicTanh\'s: alpha, weight, bias',
          list(DyT(6).state_dict()) == ['alpha', 'weight', 'bias'])
    check_close('eps is accepted and ignored', DyT(8, eps=0.1)(x), DyT(8)(x), rtol=0, atol=0)
    half = (torch.randn(4, 8) * 3).to(torch.bfloat16)
    check_close('bfloat16 input: computed in float32, rounded once, bfloat16 out', DyT(8)(half),
                torch.tanh(0.5 * half.float()).to(torch.bfloat16), rtol=0, atol=0)


@check_group(fold=True)
def _check_gradients():
    """
    ## Gradients: gradcheck in float64, for the input and the three parameters

    `torch.autograd.gradcheck` in `float64`, for the input and all three parameters.
    """

    x = (torch.randn(3, 5, dtype=torch.float64) * 2).requires_grad_()
    a = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(5, dtype=torch.float64, requires_grad=True)
    check('gradcheck: d/dx, d/dalpha, d/dweight, d/dbias',
          torch.autograd.gradcheck(lambda x, a, w, b: dyt(x, 5, a, w, b), (x, a, w, b)))


@check_group(fold=True)
def _check_errors():
    """
    ## Errors: wrong shapes, an alpha of more than one number, a bad alpha_init_value

    LayerNorm's shape errors and messages (a `ValueError` that is also a `RuntimeError`), and
    a bad $\\alpha_0$ refused at construction.
    """

    check_raises('input that does not end in normalized_shape', ValueError, DyT(4),
                 torch.randn(3, 5), match='expected input with shape [*, 4]')
    check_raises('... also a RuntimeError, like torch.nn.LayerNorm\'s', RuntimeError, DyT(4),
                 torch.randn(3, 5), match='but got input of size[3, 5]')
    check_raises('weight of the wrong shape', ValueError, dyt, torch.randn(3, 4), 4,
                 torch.ones(1), torch.ones(5), match='Expected weight to be of same shape')
    check_raises('alpha that is not one number', ValueError, dyt, torch.randn(3, 4), 4,
                 torch.ones(2), match='alpha must hold one number')
    for bad in (0.0, -0.5, float('nan')):
        check_raises(f'alpha_init_value={bad}', ValueError, DyT, 4, alpha_init_value=bad,
                     match='alpha_init_value must be a positive finite number')
    check_raises('empty normalized_shape', ValueError, DyT, [], match='at least 1-dimensional')


def fit_line(x: torch.Tensor, y: torch.Tensor):
    r"""
    Least squares $y \approx p x + q$; returns $(p, q)$ and the fraction of variance unexplained
    """
    A = torch.stack([x, torch.ones_like(x)], 1)
    p, q = torch.linalg.lstsq(A, y[:, None]).solution[:, 0].tolist()
    return p, q, ((y - p * x - q).square().mean() / y.var(unbiased=False)).item()


@check_group
def _check_layer_norm_shapes():
    r"""
    ## Where an S-shape can come from: a line per token, bounded by √(C − 1)

    For one token, LayerNorm is an affine map of its own elements,
    $\hat{x}_i = (x_i - \mu_t)/\sigma_t$: plotted as input against output, one token's elements lie
    *exactly on a straight line* of slope $1/\sigma_t$. An S-shape can only appear *across* tokens:
    if the tokens holding the largest inputs also have the largest $\sigma_t$, their lines are
    flatter, and the cloud of all tokens bends over at its ends. There is also a bound inside each
    token: with mean 0 and mean square 1 over $C$ elements, no $|\hat{x}_i|$ can exceed
    $\sqrt{C - 1}$, reached exactly when the other $C - 1$ elements are all equal. So as one element
    grows with the rest fixed, its output rises and then levels off at $\sqrt{C-1}$, an S-curve in
    that element (`_test()` checks both facts).

    One token's elements lie on a straight line; and one element, pushed far from the others,
    levels off at $\sqrt{C-1}$.
    """

    x = torch.randn(5, 64, dtype=torch.float64) * torch.rand(5, 1, dtype=torch.float64) * 4 + 1
    y = F.layer_norm(x, (64,), eps=0.0)
    residual = max(fit_line(x[t], y[t])[2] for t in range(5))
    check('each token: a straight line fits its 64 elements exactly', residual < 1e-20,
          f'largest unexplained fraction {residual:.1e}')
    slopes = [fit_line(x[t], y[t])[0] for t in range(5)]
    check_close('... with slope 1 / sigma_t', torch.tensor(slopes, dtype=torch.float64),
                1 / x.std(-1, unbiased=False))
    others = torch.randn(63, dtype=torch.float64)
    outs = []
    for s in (0.0, 3.0, 30.0, 3e6):
        outs.append(F.layer_norm(torch.cat([torch.tensor([s], dtype=torch.float64), others]),
                                 (64,), eps=0.0)[0].item())
    check('one element pushed away: output rises, then levels off at sqrt(63) = 7.94',
          outs == sorted(outs) and abs(outs[-1] - 63 ** 0.5) < 1e-4
          and outs[2] < 63 ** 0.5, ', '.join(f'{o:.3f}' for o in outs))
    big = F.layer_norm(torch.randn(1000, 64) * 10, (64,)).abs().max().item()
    check('random rows never exceed sqrt(C - 1)', big <= 63 ** 0.5, f'largest |y| {big:.3f}')


def replace_norms(module: nn.Module, make: Callable[[tuple], nn.Module]) -> int:
    """
    ## Swapping every LayerNorm of a model

    Walks the model and replaces each LayerNorm (ours or `torch.nn`'s) by `make(normalized_shape)`,
    the way the authors' `convert_ln_to_dyt` does. Returns how many it replaced. Nothing else of
    the model changes, so the same seed gives the same attention and FFN weights with any norm.
    """
    count = 0
    for name, child in module.named_children():
        if isinstance(child, (LayerNorm, nn.LayerNorm)):
            setattr(module, name, make(tuple(child.normalized_shape)))
            count += 1
        else:
            count += replace_norms(child, make)
    return count


def _rms_norm(shape: tuple) -> nn.Module:
    # LayerNorm's $\epsilon = 10^{-5}$ for RMSNorm too, so the two differ only in the centring
    from labml_nn_norm.rms_norm import RMSNorm
    return RMSNorm(shape, eps=1e-5)


# The three contenders: `None` keeps the model's LayerNorms
VARIANTS: Dict[str, Optional[Callable[[tuple], nn.Module]]] = {
    'LayerNorm': None, 'RMSNorm': _rms_norm, 'DyT': lambda shape: DyT(shape)}

# The training setting: the [reversal task](../transformer/experiment.md), Pre-LN (the arrangement
# of the models in the DyT paper), a constant learning rate, no warm-up
CONFIG = dict(n_layers=4, d_model=64, n_heads=4, d_ff=256, vocab=16, seq_len=16, batch=64,
              steps=300, lr=1e-3, seeds=list(range(8)), last=50)


def make_model(variant: str, c: Dict, seed: int) -> nn.Module:
    """
    ## One model per variant and seed

    The site's Pre-LN `Transformer`, built from the seed, then its norms swapped.
    """
    from labml_nn_norm.transformer import Transformer

    torch.manual_seed(seed)
    model = Transformer(vocab_size=c['vocab'], max_len=c['seq_len'], n_layers=c['n_layers'],
                        d_model=c['d_model'], n_heads=c['n_heads'], d_ff=c['d_ff'],
                        norm_first=True)
    if VARIANTS[variant] is not None:
        replaced = replace_norms(model, VARIANTS[variant])
        # Pre-LN: two per block and the final one
        if replaced != 2 * c['n_layers'] + 1:
            raise RuntimeError(f'expected {2 * c["n_layers"] + 1} LayerNorms, replaced {replaced}')
    return model


def reverse_batch(generator: torch.Generator, c: Dict):
    # Random tokens and their reversal, from a seeded generator: every variant sees the same data
    tokens = torch.randint(c['vocab'], (c['batch'], c['seq_len']), generator=generator)
    return tokens, tokens.flip(1)


def train(variant: str, c: Dict, seed: int):
    """
    ## One training run

    Adam with the experiment page's $\\beta = (0.9, 0.98)$; a fresh batch every step, so the
    training loss is also the loss on unseen sequences. Returns the model and the loss of every
    step.
    """
    model = make_model(variant, c, seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=c['lr'], betas=(0.9, 0.98))
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(c['steps']):
        # One Adam step on a fresh batch: the cross-entropy over every position
        tokens, targets = reverse_batch(generator, c)
        loss = F.cross_entropy(model(tokens).reshape(-1, c['vocab']), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


@check_group(fold=True)
def _check_in_the_model():
    """
    ## DyT inside the model: every LayerNorm replaced, nothing else, and it trains

    Every LayerNorm of a Pre-LN model is replaced, nothing else changes, and it trains.
    """

    tiny = dict(CONFIG, n_layers=2, d_model=32, d_ff=64, batch=32, steps=40, lr=3e-3)
    ln, dy = make_model('LayerNorm', tiny, 0), make_model('DyT', tiny, 0)
    n_dyt = sum(isinstance(m, DyT) for m in dy.modules())
    n_ln = sum(isinstance(m, (LayerNorm, nn.LayerNorm)) for m in dy.modules())
    check('2 blocks: 5 LayerNorms replaced by DyT, none left', n_dyt == 5 and n_ln == 0,
          f'{n_dyt} DyT, {n_ln} LayerNorm')
    def others(model):
        # Every parameter that does not belong to a norm (LayerNorm or DyT)
        norms = {name for name, m in model.named_modules()
                 if isinstance(m, (LayerNorm, nn.LayerNorm, DyT))}
        return {k: v for k, v in model.state_dict().items() if k.rsplit('.', 1)[0] not in norms}

    ln_params, dy_params = others(ln), others(dy)
    check('same seed: every other parameter identical',
          len(ln_params) > 10 and ln_params.keys() == dy_params.keys()
          and all(torch.equal(ln_params[k], dy_params[k]) for k in ln_params),
          f'{len(ln_params)} tensors')
    _, losses = train('DyT', tiny, 0)
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    check('DyT model, 40 steps: loss decreases', last < first - 0.1, f'{first:.3f} -> {last:.3f}')


def norm_inputs(model: nn.Module, tokens: torch.Tensor, kind=(LayerNorm, nn.LayerNorm)):
    """
    ## What enters each norm

    Forward pre-hooks record the input of every module of type `kind`, in the model's order
    (block 1's two norms, block 2's, ..., the final one).
    """
    found, handles = [], []
    for name, m in model.named_modules():
        if isinstance(m, kind):
            handles.append(m.register_forward_pre_hook(
                lambda mod, args, name=name: found.append((name, args[0].detach().clone()))))
    with torch.no_grad():
        model(tokens)
    for h in handles:
        h.remove()
    return found


def fit_tanh(x: torch.Tensor, y: torch.Tensor, grid: int = 400):
    r"""
    ### The best $y \approx a \tanh(b x) + q$

    For each $b$ of a log-spaced grid, $a$ and $q$ are a linear least-squares fit; keep the best.
    As $b \to 0$ this becomes the straight line, so it is never worse than the line (up to the
    grid).
    """
    best = None
    scale = x.abs().max().item()
    for b in torch.logspace(-2, 1.5, grid, dtype=torch.float64).tolist():
        t = torch.tanh(b / scale * x)
        A = torch.stack([t, torch.ones_like(t)], 1)
        a, q = torch.linalg.lstsq(A, y[:, None]).solution[:, 0].tolist()
        unexplained = ((y - a * t - q).square().mean() / y.var(unbiased=False)).item()
        if best is None or unexplained < best[3]:
            best = (a, b / scale, q, unexplained)
    return best


def mapping_stats(x: torch.Tensor, eps: float = 1e-5, n_tokens: int = 24,
                  generator: Optional[torch.Generator] = None) -> Dict:
    r"""
    ## Reading one LayerNorm's mapping

    `x` is the norm's input, $(B, T, C)$. The output before $\gamma, \beta$ is
    $\hat{x} = (x - \mu_t)/\sigma_t$: for each token $t$ a straight line of slope $1/\sigma_t$.
    Pooled over all tokens and channels, we fit a straight line and a scaled tanh, and measure
    how much the top 1% of $|x|$ are squashed relative to the line. For the figure we keep the
    segments of `n_tokens` random tokens, from their smallest to their largest input.
    """
    x = x.double().reshape(-1, x.shape[-1])  # (tokens, channels)
    mu = x.mean(-1, keepdim=True)
    sigma = (x.var(-1, unbiased=False, keepdim=True) + eps).sqrt()
    y = (x - mu) / sigma
    xs, ys = x.flatten(), y.flatten()
    p, q, line_unexplained = fit_line(xs, ys)
    a, b, qt, tanh_unexplained = fit_tanh(xs, ys)
    #
    # Squashing: of the elements with the largest 1% of $|x|$, the mean of $|\hat{x}|$ over
    # the mean of what the pooled line predicts for them
    top = xs.abs() >= torch.quantile(xs.abs(), 0.99)
    squash = (ys[top].abs().mean() / (p * xs[top] + q).abs().mean()).item()
    #
    g = generator or torch.Generator().manual_seed(0)
    pick = torch.randperm(x.shape[0], generator=g)[:n_tokens]
    segments = [[round(x[i].min().item(), 4), round(x[i].max().item(), 4),
                 round(mu[i, 0].item(), 4), round(sigma[i, 0].item(), 4)] for i in pick.tolist()]
    return {'line': [p, q], 'line_unexplained': line_unexplained,
            'tanh': [a, b, qt], 'tanh_unexplained': tanh_unexplained,
            'squash_top1': squash,
            'sigma_min': sigma.min().item(), 'sigma_max': sigma.max().item(),
            'x_absmax': xs.abs().max().item(), 'segments': segments}


# The batch whose LayerNorm inputs the figure shows: 16 sequences, from its own seed
PROBE = dict(batch=16, seed=12345)


# Mid-tone colours that read on a light and on a dark page; text and axes in grey
COLORS = {'LayerNorm': '#4c78a8', 'RMSNorm': '#9467bd', 'DyT': '#e45756'}
INK = '#888888'


def _style(ax):
    # Transparent background, grey text and spines: legible in both palettes
    ax.set_facecolor('none')
    for side, spine in ax.spines.items():
        spine.set_color(INK)
        spine.set_visible(side in ('left', 'bottom'))
    ax.tick_params(colors=INK, labelsize=7)
    ax.xaxis.label.set_color(INK)
    ax.yaxis.label.set_color(INK)
    ax.title.set_color(INK)


def short_name(name: str) -> str:
    # `blocks.2.norm1` -> `block 3, norm1`
    parts = name.split('.')
    return f'block {int(parts[1]) + 1}, {parts[2]}' if parts[0] == 'blocks' else 'final'




def figure_mappings(stats: List[Dict], n_tokens: int = 16):
    r"""
    ## The observation, on this site's model

    The project page says that in the earlier layers "these mappings are mostly linear", and that
    "in deeper layers, they take on distinct S-shaped curves characteristic of tanh functions" (we
    read its text, not the paper's figure). We trained this site's [Pre-LN
    `Transformer`](../transformer/index.md) on the [reversal task](../transformer/experiment.md) (4
    blocks of 64 channels, 300 steps; the seed-0 LayerNorm run of the comparison below) and recorded
    what enters each of its 9 LayerNorms for 16 sequences of 16 tokens, 256 tokens of 64 channels
    each. Each line segment below is one token, drawn from its smallest to its largest input: every
    element of that token lies on it. The orange curve is the best fit $a\tanh(bx) + q$ over all
    elements of all 256 tokens, the grey one the best straight line; each panel's title gives the
    share of the variance that each leaves unexplained. We plot the output before $\gamma$ and
    $\beta$, which DyT keeps unchanged.

    {{ mapping_caption }}

    ![Each LayerNorm's input against its output before gamma and beta, one segment per token, for
    the 9 LayerNorms of the trained 4-block model](mappings.svg)

    Per LayerNorm: the spread of $\sigma_t$ over tokens (the slopes differ by their ratio), the
    share of the variance of $\hat{x}$ that the best straight line leaves unexplained, the same for
    the best tanh, and how much the 1% of elements with the largest $|x|$ are squashed: the mean
    $|\hat{x}|$ of those elements over the mean that the straight line gives them (1 means not
    squashed at all).

    {{ mapping_table }}

    **What matches and what does not.** {{ mapping_verdict }}

    The figure, drawn from the saved record: one panel per LayerNorm, a segment for each of
    `n_tokens` of the sampled tokens (its elements lie on it), the pooled tanh fit and the pooled
    line.
    """
    import matplotlib.pyplot as plt

    cols = 3
    rows = math.ceil(len(stats) / cols)
    # One font name in the SVG instead of matplotlib's list of ten, on every label
    plt.rcParams['font.sans-serif'] = ['DejaVu Sans']
    fig, axes = plt.subplots(rows, cols, figsize=(7.2, 2.2 * rows), sharey=True)
    fig.patch.set_alpha(0)
    for ax, s in zip(axes.flat, stats):
        lim = s['x_absmax']
        # All the panel's segments as one path, separated by NaNs: a few kB of SVG, not one
        # element per token
        xs_seg, ys_seg = [], []
        for lo, hi, mu, sd in s['segments'][:n_tokens]:
            xs_seg += [lo, hi, math.nan]
            ys_seg += [(lo - mu) / sd, (hi - mu) / sd, math.nan]
        ax.plot(xs_seg, ys_seg, color=COLORS['LayerNorm'], lw=0.8, alpha=0.6, clip_on=False)
        # The fits bend little over the panel ($|bx| < 0.7$): 9 points draw the tanh within a
        # fraction of a pixel. Nothing leaves the axes, so nothing needs a clip path
        xs = torch.linspace(-lim, lim, 9, dtype=torch.float64)
        a, b, q = s['tanh']
        ax.plot(xs, a * torch.tanh(b * xs) + q, color='#f58518', lw=1.2, ls='--', clip_on=False)
        p, q_line = s['line']
        ax.plot([-lim, lim], [q_line - p * lim, q_line + p * lim], color=INK, lw=0.8,
                clip_on=False)
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        ax.yaxis.set_major_locator(plt.MaxNLocator(4))
        ax.set_xlim(-lim, lim)
        ax.set_title(f"{short_name(s['name'])}: line {100 * s['line_unexplained']:.1f}%, "
                     f"tanh {100 * s['tanh_unexplained']:.1f}%", fontsize=7)
        ax.axhline(0, color=INK, lw=0.5, alpha=0.5, clip_on=False)
        _style(ax)
        # No background to draw; the panels right of the first share its y ticks
        ax.patch.set_visible(False)
        if ax not in axes[:, 0]:
            ax.tick_params(left=False)
    for ax in axes.flat[len(stats):]:
        ax.axis('off')
    # One label per axis for the whole grid
    fig.supylabel('output before γ, β', fontsize=7, color=INK)
    fig.supxlabel('input x', fontsize=7, color=INK)
    fig.tight_layout()
    return fig


@functools.lru_cache(maxsize=None)
def mappings_figure():
    # The figure of the saved record's trained mappings, drawn once: `_test()` measures its SVG,
    # and `_artifacts()` returns the same figure
    return figure_mappings(load_results()['mappings']['trained'])


def mapping_summary(stats: List[Dict]) -> Dict:
    # The numbers the prose states about the mappings of the trained model
    return {'worst_line': max(s['line_unexplained'] for s in stats),
            'best_gain': max(s['line_unexplained'] - s['tanh_unexplained'] for s in stats),
            'squash_min': min(s['squash_top1'] for s in stats),
            'squash_max': max(s['squash_top1'] for s in stats),
            'ratio_max': max(s['sigma_max'] / s['sigma_min'] for s in stats),
            'ratio_min': min(s['sigma_max'] / s['sigma_min'] for s in stats)}


@check_group(fold=True)
def _check_mapping_claims():
    """
    ## The claims about the mappings, on the saved results, and the figure's size

    What the prose and the figure say about the trained model's LayerNorms, as numbers from
    `results/dyt.json`; and the figure's SVG stays under 40 kB.
    """
    import io

    import matplotlib

    r = load_results()
    c = r['config']
    m = mapping_summary(r['mappings']['trained'])
    check('the straight line explains at least 95% of every LayerNorm\'s mapping',
          m['worst_line'] < 0.05, f"largest unexplained {100 * m['worst_line']:.2f}%")
    check('the tanh improves on it by less than 0.5 percentage points in every LayerNorm '
          '(no S-shape, deep or shallow)', m['best_gain'] < 0.005,
          f"largest gain {100 * m['best_gain']:.3f} points")
    check('the top 1% of |x| are squashed a little in every LayerNorm (ratio below 1)',
          m['squash_max'] < 1, f"{m['squash_min']:.3f} to {m['squash_max']:.3f}")
    segments = r['mappings']['trained'][0]['segments']
    check('the probe: 16 sequences of 16 tokens; 24 tokens recorded per LayerNorm',
          len(segments) == 24 and c['seq_len'] == 16 and PROBE['batch'] == 16)
    #
    # The SVG as the site's build writes it (text as text, fixed ids, no date)
    matplotlib.rcParams['svg.hashsalt'] = 'labml_nn_norm'
    matplotlib.rcParams['svg.fonttype'] = 'none'
    buffer = io.StringIO()
    mappings_figure().savefig(buffer, format='svg', metadata={'Date': None}, bbox_inches='tight')
    size = len(buffer.getvalue().encode('utf-8'))
    check('the mappings figure: 16 of the 24 recorded tokens per panel, under 40 kB of SVG',
          size < 40_000 and buffer.getvalue().count('<path d="M') > 0, f'{size / 1000:.1f} kB')


def figure_losses(results: Dict):
    r"""
    ## DyT trained against LayerNorm and RMSNorm

    The same model and task with its 9 LayerNorms replaced by [RMSNorm](../rms_norm/index.md) or by
    DyT ($\alpha_0 = 0.5$), {{ n_seeds }} seeds each. For each seed, all three start from the same
    attention, FFN and embedding weights (the seed builds the model before its norms are swapped;
    the norms themselves start at constants) and see the same batches. Adam, constant learning rate
    $10^{-3}$, no warm-up, no tuning for DyT. The figure shows the mean loss of each 5 steps: the
    line is the median over seeds, the band spans the smallest to the largest.

    {{ loss_caption }}

    ![Training loss of LayerNorm, RMSNorm and DyT on the reversal task, median and range over
    seeds](losses.svg)

    Median over seeds and the band from the smallest to the largest, per variant, of the mean
    loss of each 5 steps.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    fig.patch.set_alpha(0)
    for name, curves in results['losses'].items():
        # Means of each 5 steps: 60 points a curve keep the SVG small and the spikes visible
        t = torch.tensor(curves).unflatten(1, (-1, 5)).mean(-1)  # (seeds, steps / 5)
        steps = [5 * i + 3 for i in range(t.shape[1])]
        ax.fill_between(steps, t.min(0).values, t.max(0).values, color=COLORS[name], alpha=0.2,
                        lw=0)
        ax.plot(steps, t.median(0).values, color=COLORS[name], lw=1.3, label=name)
    c = results['config']
    ax.axhline(math.log(c['vocab']), color=INK, ls=':', lw=1, label='chance, ln(vocab)')
    ax.set_yscale('log')
    ax.set_xlabel('step')
    ax.set_ylabel('training loss (log scale)')
    ax.grid(alpha=0.25, color=INK)
    legend = ax.legend(fontsize=7, frameon=False)
    for text in legend.get_texts():
        text.set_color(INK)
    _style(ax)
    fig.tight_layout()
    return fig


def bootstrap_ci(diffs: List[float], n: int = 10_000, seed: int = 0):
    """
    ## The interval

    The mean of the paired differences and its 95% percentile-bootstrap interval: resample the
    seeds with replacement `n` times (a seeded generator, so the page is reproducible).
    """
    d = torch.tensor(diffs, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    means = d[torch.randint(len(d), (n, len(d)), generator=g)].mean(1)
    lo, hi = torch.quantile(means, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return d.mean().item(), lo, hi


def verdict(lo: float, hi: float, name: str, other: str) -> str:
    # The rule: an interval on one side of 0 decides; one that contains 0 is inconclusive
    if hi < 0:
        return f'{name} lower than {other}'
    if lo > 0:
        return f'{name} higher than {other}'
    return 'inconclusive'


def mean_last(losses: List[float], last: int) -> float:
    return sum(losses[-last:]) / last


def spiked(losses: List[float], last: int, factor: float = 5.0) -> bool:
    # A run that ends on a spike: its last steps' mean is more than `factor` times the lowest mean
    # of 10 steps it had reached before them
    low = min(sum(losses[i:i + 10]) / 10 for i in range(len(losses) - last))
    return mean_last(losses, last) > factor * low


def curve_mean(losses: List[float]) -> float:
    # The mean over all steps: lower when a run learns earlier
    return sum(losses) / len(losses)


def comparisons(results: Dict) -> List[Dict]:
    r"""
    ## Every comparison the page states

    DyT against each of the two norms, on two statistics of the same curves: the last 50 steps
    (where it ends) and the whole curve (how fast it gets there). Each a paired difference per
    seed, DyT minus the other.

    Each statistic below is a paired difference per seed, DyT minus the other, its mean and its 95%
    percentile-bootstrap interval over seeds; the verdict follows the rule in `verdict()`: an
    interval below 0 means DyT is lower, above 0 higher, one that contains 0 is inconclusive.

    {{ verdict_table }}

    The verdicts (each asserted in `_test()` against the rule on the saved data):

    * DyT vs LayerNorm, last 50 steps: **inconclusive**
    * DyT vs LayerNorm, all steps: **DyT higher than LayerNorm**
    * DyT vs RMSNorm, last 50 steps: **DyT higher than RMSNorm**
    * DyT vs RMSNorm, all steps: **DyT higher than RMSNorm**

    In words: on this task, with $\alpha_0 = 0.5$ and no tuning, DyT learns later than both norms
    (its mean over the whole curve is higher in every seed), and ends above RMSNorm in every seed.
    Whether it ends above or below LayerNorm the seeds do not decide: DyT ends higher in most seeds,
    but two LayerNorm runs end on a late loss spike (their last 50 steps more than 5 times the
    lowest 10-step mean they had reached; one DyT run does too, no RMSNorm run), which pulls the
    mean difference below 0. This is one toy task, 4 blocks and 300 steps; the paper's claim of
    parity is about its own large models and tasks, which we did not run.
    """
    c, curves = results['config'], results['losses']
    out = []
    for other in ('LayerNorm', 'RMSNorm'):
        for stat, fn in (('last 50 steps', lambda ls: mean_last(ls, c['last'])),
                         ('all steps', curve_mean)):
            diffs = [fn(a) - fn(b) for a, b in zip(curves['DyT'], curves[other])]
            mean, lo, hi = bootstrap_ci(diffs)
            out.append({'other': other, 'stat': stat, 'diffs': diffs, 'mean': mean, 'lo': lo,
                        'hi': hi, 'wins': sum(d < 0 for d in diffs),
                        'verdict': verdict(lo, hi, 'DyT', other)})
    return out


@check_group(fold=True)
def _check_training_claims():
    """
    ## The verdicts and the sentences under them, on the saved results

    Each verdict the prose states, against the rule applied to the saved losses; then the
    sentences under the verdicts, as counts of seeds.
    """

    r = load_results()
    c = r['config']
    for k in comparisons(r):
        stated = _stated_verdict(k['other'], k['stat'])
        check(f"DyT vs {k['other']}, {k['stat']}: the prose says '{stated}'",
              stated == k['verdict'],
              f"mean {k['mean']:+.4f}, 95% [{k['lo']:+.4f}, {k['hi']:+.4f}]")
    #
    # The sentences under the verdicts, as counts of seeds
    comps = {(k['other'], k['stat']): k for k in comparisons(r)}
    n = len(c['seeds'])
    check('DyT learns later than both: whole-curve mean higher in every seed',
          comps['LayerNorm', 'all steps']['wins'] == comps['RMSNorm', 'all steps']['wins'] == 0)
    check('DyT ends above RMSNorm in every seed', comps['RMSNorm', 'last 50 steps']['wins'] == 0)
    k = comps['LayerNorm', 'last 50 steps']
    spikes = {v: sum(spiked(ls, c['last']) for ls in curves)
              for v, curves in r['losses'].items()}
    check('vs LayerNorm at the end: mean difference below 0, DyT higher in most seeds; '
          'two LayerNorm runs and one DyT run end on a spike',
          k['mean'] < 0 and n - k['wins'] > n / 2
          and (spikes['LayerNorm'], spikes['DyT'], spikes['RMSNorm']) == (2, 1, 0),
          f"mean {k['mean']:+.4f}, DyT higher in {n - k['wins']} of {n}; spikes {spikes}")


@check_group(fold=True)
def _check_statistics():
    """
    ## The statistics, on cases worked out by hand

    The bootstrap interval of differences that are all equal is that value; the verdict rule; the
    tanh fit recovers a tanh.
    """

    mean, lo, hi = bootstrap_ci([0.2] * 6)
    check('bootstrap of six equal differences: [0.2, 0.2]',
          abs(mean - 0.2) < 1e-12 and abs(lo - 0.2) < 1e-12 and abs(hi - 0.2) < 1e-12)
    check('verdict rule', (verdict(-2, -1, 'A', 'B'), verdict(1, 2, 'A', 'B'),
                           verdict(-1, 1, 'A', 'B')) ==
          ('A lower than B', 'A higher than B', 'inconclusive'))
    x = torch.linspace(-4, 4, 201, dtype=torch.float64)
    a, b, q, unexplained = fit_tanh(x, 1.5 * torch.tanh(0.8 * x) + 0.1)
    check('fit_tanh recovers 1.5 tanh(0.8 x) + 0.1', abs(a - 1.5) < 0.02 and abs(b - 0.8) < 0.02
          and abs(q - 0.1) < 1e-6 and unexplained < 1e-4, f'{a:.3f} tanh({b:.3f} x) + {q:.3f}')
    check('... and a line is a line', fit_line(x, 2 * x - 1)[2] < 1e-20)


# DyT's learned $\alpha$ in the seed-0 model, beside $1/\mathrm{std}$ of what enters it (the factor
# a LayerNorm would have applied on average):
#
# {{ alpha_table }}


# ## Choosing $\alpha_0$
#
# The authors' `DynamicTanh` starts $\alpha$ at `alpha_init_value=0.5`, $\gamma$ at ones and $\beta$
# at zeros, as `DyT` here. For LLaMA their code uses a variant without $\beta$ and their training
# commands set $\alpha_0$ per place in the model, larger before attention than before the FFN and
# at the end, and smaller for wider models:
#
# | LLaMA 2 | width | $\alpha_0$ before attention | $\alpha_0$ before the FFN and at the end |
# | --- | --- | --- | --- |
# | 7B | 4096 | 0.8 | 0.2 |
# | 13B | 5120 | 0.6 | 0.15 |
# | 34B | 8192 | 0.2 | 0.05 |
# | 70B | 8192 | 0.2 | 0.05 |
#
# We took these from their README and model code (Sources); the paper's own discussion of
# $\alpha_0$ we have not read, so we do not say why.


def count_passes(fn, rows: int = 8, cols: int = 16, backward: bool = False) -> Dict[str, int]:
    r"""
    ## What it costs

    DyT needs no reduction, hence no per-row statistics. It does not move fewer bytes than a fused
    LayerNorm, though: both must at least read $x$ and write $y$ (forward), read $x$ and $dy$ and
    write $dx$ (backward). What a LayerNorm kernel needs on top is the row reduction, a second pass
    over the row (or keeping it on chip, see [the kernels page](../kernels/index.md)) and its
    per-row $\mu$ and $1/\sigma$, which are small. Our eager module is four ATen operations forward
    and moves far more than the minimum (counted by `count_passes()`, `float32`, rows of 768):

    {{ traffic_table }}

    ## Memory passes of an eager implementation

    Runs `fn(x)` (and its backward) under the kernels page's counter, which sees every ATen
    operation and counts the full-size `(rows, cols)` tensors they read and write.
    """
    from labml_nn_norm.kernels import PassCounter

    x = torch.randn(rows, cols, requires_grad=backward)
    if backward:
        y = fn(x)
        dy = torch.randn_like(y)
        with PassCounter(rows * cols) as counter:
            y.backward(dy)
    else:
        with torch.no_grad(), PassCounter(rows * cols) as counter:
            fn(x)
    return counter.counts


# The bytes per element that a fused kernel must move at least (`float32`: 4 bytes each): read
# $x$ and write $y$ forward; read $x$ and $dy$, write $dx$ backward. Per row, LayerNorm also
# writes $\mu$ and $1/\sigma$ (4 bytes each) for its backward; DyT has no per-row statistics.
MIN_PASSES = {'forward': 2, 'backward': 3}


def traffic_rows(cols: int = 768) -> List[Dict]:
    """
    ## Bytes per element, computed

    For `float32` and a row of `cols` channels: the fused minimum for both, and what the eager
    DyT module moves, counted by `count_passes`.
    """
    module = DyT(16)
    rows = []
    for kind in ('forward', 'backward'):
        eager = count_passes(module, backward=kind == 'backward')
        ln_stats = 8 / cols  # mu and 1/sigma per row, spread over the row's elements
        rows.append({'pass': kind,
                     'layer_norm_min': 4 * MIN_PASSES[kind] + ln_stats,
                     'dyt_min': 4 * MIN_PASSES[kind],
                     'dyt_eager': 4 * (eager['reads'] + eager['writes']),
                     'dyt_eager_ops': eager['ops']})
    return rows


TIMING_SHAPES = [(4096, 768), (2048, 4096)]


def time_norms(rounds: int = 7, min_run_time: float = 0.2) -> Dict:
    r"""
    ## CPU timings

    `F.layer_norm`, `F.rms_norm`, our eager `DyT`, `torch.compile` of it, and, forward only,
    `torch.tanh(x)` and `x.clone()` (no arithmetic, the same bytes as a forward); forward and
    forward+backward (every gradient: input and parameters). One thread. Each round times every
    contender once (the median of `torch.utils.benchmark`'s blocked runs); the order is reversed
    every other round, and we keep every round's number to report min/median/max.

    Measured on the CPU (one thread), as the [kernels page](../kernels/index.md) measures: each
    contender once per round, the order reversed every other round, {{ n_rounds }} rounds;
    min / median / max of the rounds, in milliseconds. Forward+backward computes every gradient
    (input and parameters) for every contender; `F.rms_norm` has no $\beta$.

    {{ timing_table }}

    {{ timing_summary }}

    The authors' benchmark script times LLaMA 2 7B in `bfloat16` on a CUDA device with DyT, RMSNorm
    or an identity in place of the norms ([`benchmark.py`
    L12-L31](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/other_tasks/Efficiency/benchmark.py#L12-L31));
    their README points to §6.1 of the paper for the results, which we have not read. Its README
    says it "is preliminary and does not include any optimization tricks" and that its results
    "should be interpreted as indicative rather than conclusive".
    """
    from torch.utils import benchmark

    torch._dynamo.config.recompile_limit = 64
    out = []
    for rows, cols in TIMING_SHAPES:
        x = torch.randn(rows, cols) * 2 + 0.5
        dy = torch.randn(rows, cols)
        w, b = torch.randn(cols), torch.randn(cols)
        # The contenders, each a function of the input
        module = DyT(cols)
        compiled = torch.compile(DyT(cols), dynamic=False)
        fns = {'F.layer_norm': lambda a, w=w, b=b, c=cols: F.layer_norm(a, (c,), w, b),
               'F.rms_norm': lambda a, w=w, c=cols: F.rms_norm(a, (c,), w, 1e-5),
               'DyT (eager)': module,
               'DyT (torch.compile)': compiled}
        for kind in ('forward', 'forward+backward'):
            # Gradients for every parameter and the input, only when the backward is timed
            params = [w, b] + list(module.parameters()) + list(compiled.parameters())
            for p in params:
                p.requires_grad_(kind != 'forward')
            xg = x.clone().requires_grad_(kind != 'forward')
            calls = {}
            for name, f in fns.items():
                if kind == 'forward':
                    calls[name] = lambda f=f: f(x)
                else:
                    calls[name] = lambda f=f: f(xg).backward(dy)
            # Two references without a norm: `tanh` alone (DyT's one transcendental function)
            # and the copy
            if kind == 'forward':
                calls['torch.tanh(x)'] = lambda: torch.tanh(x)
                calls['x.clone()'] = lambda: x.clone()
            # Warm-up: compiles, allocates
            for call in calls.values():
                with torch.set_grad_enabled(kind != 'forward'):
                    call()
            # The rounds: every contender once, in alternating order
            times = {name: [] for name in calls}
            names = list(calls)
            for r in range(rounds):
                for name in (names if r % 2 == 0 else names[::-1]):
                    with torch.set_grad_enabled(kind != 'forward'):
                        timer = benchmark.Timer(stmt='f()', globals={'f': calls[name]},
                                                num_threads=torch.get_num_threads())
                        times[name].append(timer.blocked_autorange(
                            min_run_time=min_run_time).median)
            out.append({'rows': rows, 'cols': cols, 'pass': kind, 'times': times})
            print(f'{rows}x{cols} {kind}: ' + ', '.join(
                f'{n} {sorted(t)[len(t) // 2] * 1e3:.2f} ms' for n, t in times.items()),
                flush=True)
    # The load average says how busy the machine was while we timed
    return {'rounds': rounds, 'threads': torch.get_num_threads(),
            'load_average': [round(v, 2) for v in os.getloadavg()], 'cpus': os.cpu_count(),
            'date': datetime.now(timezone.utc).isoformat(timespec='seconds'),
            'command': 'python -m labml_nn_norm.dyt --timings', 'results': out}


@check_group(fold=True)
def _check_cost_claims():
    """
    ## The eager module's operations, and the saved timings

    The traffic table's premise (four ATen operations forward, rows of 768), and the median of
    each timing in the saved record, printed as notes.
    """
    import inspect

    r = load_results()
    eager = traffic_rows()
    check('the eager module: four ATen operations forward; the table is for rows of 768',
          eager[0]['dyt_eager_ops'] == 4
          and inspect.signature(traffic_rows).parameters['cols'].default == 768)
    for row in r['timings']['results']:
        note(f"{row['rows']}x{row['cols']} {row['pass']}, median ms", ', '.join(
            f"{n} {_median(t) * 1e3:.2f}" for n, t in row['times'].items()))


# ## What later work says
#
# Each of these is the claim of its authors, from the abstract we read; we have not reproduced any.
#
# * Verma, [When Does Removing LayerNorm Help?](https://arxiv.org/abs/2604.23434) (2026): DyT's
#   bounding of activations is "a regime-dependent implicit regularizer, not a uniformly beneficial
#   replacement". On GPT-2-family models of 64M to 3.78B parameters trained on 1M to 118M tokens,
#   DyT improves the validation loss by 27.3% at 64M parameters and 1M tokens, and worsens it by
#   18.8% at 64M parameters and 118M tokens; 49% of DyT activations saturate at 1M tokens against
#   23% at 118M. The author states that all experiments are compute-limited, below
#   Chinchilla-optimal training.
# * Stollenwerk, [arXiv 2503.21708](https://arxiv.org/abs/2503.21708) (2025): derives DyT from
#   LayerNorm and shows "that a well-defined approximation is needed to do so"; dropping it gives
#   an element-wise function that "resembles Layer Normalization more accurately than DyT does",
#   called Elementwise Layer Normalization in the first version and DyISRU in the second.


def run_all(c: Dict = CONFIG, log=print) -> Dict:
    r"""
    ## The measurement, and the record the page draws from

    Every variant with every seed; the LayerNorm mappings of the seed-0 LayerNorm model after
    training (and before, for comparison); the learned $\alpha$ of the seed-0 DyT model; the
    CPU timings.

    {{ run_meta }}
    """
    start = time.time()
    losses = {v: [] for v in VARIANTS}
    mappings, alphas = {}, {}
    probe = reverse_batch(torch.Generator().manual_seed(PROBE['seed']),
                          dict(c, batch=PROBE['batch']))[0]
    for seed in c['seeds']:
        for variant in VARIANTS:
            t = time.time()
            # The mappings at initialization: the model the seed-0 LayerNorm run starts from
            if variant == 'LayerNorm' and seed == c['seeds'][0]:
                untrained = make_model(variant, c, seed)
                mappings['initialization'] = [
                    dict(name=n, **mapping_stats(x)) for n, x in norm_inputs(untrained, probe)]
            model, curve = train(variant, c, seed)
            losses[variant].append([round(v, 5) for v in curve])
            #
            # ... and after training
            if variant == 'LayerNorm' and seed == c['seeds'][0]:
                mappings['trained'] = [
                    dict(name=n, **mapping_stats(x)) for n, x in norm_inputs(model, probe)]
            # The learned $\alpha$ of each DyT, and the spread of what enters it
            if variant == 'DyT' and seed == c['seeds'][0]:
                inputs = norm_inputs(model, probe, kind=DyT)
                modules = dict(model.named_modules())
                alphas = [{'name': n, 'alpha': modules[n].alpha.item(),
                           'input_std': x.std().item()} for n, x in inputs]
            log(f'{variant:9s} seed {seed}: last {c["last"]} steps '
                f'{mean_last(curve, c["last"]):.4f}  ({time.time() - t:.1f} s)')
    train_time = time.time() - start
    timings = time_norms()
    return {**run_record('python -m labml_nn_norm.dyt --run', start),
            'train_time_s': round(train_time, 1), 'config': c, 'losses': losses,
            'mappings': mappings, 'dyt_alphas': alphas, 'timings': timings}


def load_results(path: Path = RESULTS / 'dyt.json') -> Dict:
    # The schema the page relies on; a missing key fails here rather than in a figure
    results = json.loads(path.read_text(encoding='utf-8'))
    for key in ('command', 'date', 'torch', 'wall_time_s', 'config', 'losses', 'mappings',
                'dyt_alphas', 'timings'):
        if key not in results:
            raise KeyError(f'{path.name} has no {key!r}')
    if set(results['losses']) != set(VARIANTS):
        raise KeyError(f'{path.name}: variants {sorted(results["losses"])}, '
                       f'expected {sorted(VARIANTS)}')
    return results


@check_group(fold=True)
def _check_saved_record():
    """
    ## The saved record: complete, and the setting the prose describes

    `results/dyt.json` holds every curve and every LayerNorm the page draws from, measured in the
    setting the prose states.
    """

    r = load_results()
    c = r['config']
    note('results/dyt.json', f"{r['date'][:10]}, torch {r['torch']}, {r['wall_time_s']} s")
    check('every variant: one curve per seed, one loss per step, at least 5 seeds',
          len(c['seeds']) >= 5 and all(len(curves) == len(c['seeds'])
                                       and all(len(ls) == c['steps'] for ls in curves)
                                       for curves in r['losses'].values()))
    check('9 LayerNorms recorded, trained and at initialization',
          len(r['mappings']['trained']) == len(r['mappings']['initialization'])
          == 2 * c['n_layers'] + 1)
    check('the setting the prose describes: 4 blocks of 64 channels, 300 steps, lr 1e-3, '
          'alpha_0 = 0.5',
          (c['n_layers'], c['d_model'], c['steps'], c['lr']) == (4, 64, 300, 1e-3)
          and DyT(1).alpha_init_value == 0.5)


def _main():
    """
    `--run`: the full measurement (minutes, one thread); `--timings`: only the CPU timings,
    into the saved record; otherwise the page's checks
    """
    if '--timings' in sys.argv[1:]:
        torch.set_num_threads(1)
        results = load_results()
        results['timings'] = time_norms()
        (RESULTS / 'dyt.json').write_text(json.dumps(results, indent=1) + '\n', encoding='utf-8')
        return
    if '--run' not in sys.argv[1:]:
        _test()
        return
    torch.set_num_threads(1)
    results = run_all()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / 'dyt.json').write_text(json.dumps(results, indent=1) + '\n', encoding='utf-8')
    print(f'wrote results/dyt.json: {results["wall_time_s"]} s')


def _ms(times: List[float]) -> str:
    t = sorted(times)
    return f'{t[0] * 1e3:.2f} / {t[len(t) // 2] * 1e3:.2f} / {t[-1] * 1e3:.2f}'


def _median(times: List[float]) -> float:
    return sorted(times)[len(times) // 2]



def _artifacts():
    """
    ## The figures and tables, from the saved results
    """
    r = load_results()
    c = r['config']
    out = {'mappings': mappings_figure(), 'losses': figure_losses(r)}
    #
    trained, init = r['mappings']['trained'], r['mappings']['initialization']
    m = mapping_summary(trained)
    out['mapping_caption'] = (
        f"In all {len(trained)} LayerNorms of the trained model the straight line leaves at most "
        f"{100 * m['worst_line']:.1f}% of the variance unexplained, and the best tanh removes at "
        f"most {100 * m['best_gain']:.2f} percentage points of that.")
    # The mappings' table: one row per LayerNorm, trained, and the fits at initialization
    rows = ['| LayerNorm | σ_t, smallest – largest (ratio) | line: unexplained | '
            'tanh: unexplained | top 1% of abs(x): squashed to | at initialization: line, tanh |',
            '| --- | --- | --- | --- | --- | --- |']
    for s, s0 in zip(trained, init):
        rows.append(f"| {short_name(s['name'])} | {s['sigma_min']:.2f} – {s['sigma_max']:.2f} "
                    f"({s['sigma_max'] / s['sigma_min']:.2f}×) | "
                    f"{100 * s['line_unexplained']:.2f}% | {100 * s['tanh_unexplained']:.2f}% | "
                    f"{s['squash_top1']:.3f} | {100 * s0['line_unexplained']:.2f}%, "
                    f"{100 * s0['tanh_unexplained']:.2f}% |")
    out['mapping_table'] = '\n'.join(rows)
    out['mapping_verdict'] = (
        f"As the mechanism above needs, every token is a straight line, and the lines differ in "
        f"slope: σ_t varies by a factor of {m['ratio_min']:.2f} to {m['ratio_max']:.2f} across "
        f"the tokens of one LayerNorm. The elements with the largest inputs are squashed a little, "
        f"to {m['squash_min']:.2f}–{m['squash_max']:.2f} of what the line gives them. But the "
        f"bend is small: pooled over tokens, a straight line already explains at least "
        f"{100 * (1 - m['worst_line']):.1f}% of the variance in every LayerNorm, and a tanh "
        f"explains at most {100 * m['best_gain']:.2f} points more. We do not see the deep layers "
        f"turn S-shaped: in this 4-block model trained for {c['steps']} steps, no LayerNorm's "
        f"input has the few tokens of much larger scale that would bend the cloud.")
    #
    # The verdicts' table: DyT against each norm, on each statistic
    out['n_seeds'] = str(len(c['seeds']))
    comps = comparisons(r)
    rows = ['| DyT minus | statistic | mean difference | 95% interval | DyT lower in | verdict |',
            '| --- | --- | --- | --- | --- | --- |']
    for k in comps:
        rows.append(f"| {k['other']} | {k['stat']} | {k['mean']:+.4f} | "
                    f"[{k['lo']:+.4f}, {k['hi']:+.4f}] | {k['wins']} of {len(k['diffs'])} seeds "
                    f"| {k['verdict']} |")
    out['verdict_table'] = '\n'.join(rows)
    last = {v: [mean_last(ls, c['last']) for ls in curves] for v, curves in r['losses'].items()}
    out['loss_caption'] = ('Median loss over the last 50 steps: ' + ', '.join(
        f"{v} {_median(x):.4f}" for v, x in last.items()) + f" ({len(c['seeds'])} seeds).")
    # The learned $\alpha$ beside $1/\mathrm{std}$ of the input
    rows = ['| DyT | learned α | 1 / std of its input |', '| --- | --- | --- |']
    for a in r['dyt_alphas']:
        rows.append(f"| {short_name(a['name'])} | {a['alpha']:.3f} | {1 / a['input_std']:.3f} |")
    out['alpha_table'] = '\n'.join(rows)
    #
    rows = ['| pass | LayerNorm, fused minimum | DyT, fused minimum | DyT, eager (counted) |',
            '| --- | --- | --- | --- |']
    for t in traffic_rows():
        rows.append(f"| {t['pass']} | {t['layer_norm_min']:.2f} | {t['dyt_min']} | "
                    f"{t['dyt_eager']} ({t['dyt_eager_ops']} ops) |")
    out['traffic_table'] = 'Bytes per element, `float32`:\n\n' + '\n'.join(rows)
    #
    # The timings: min / median / max of the rounds; ratios of the median rounds
    tm = r['timings']
    out['n_rounds'] = str(tm['rounds'])
    names = list(tm['results'][0]['times'])
    rows = ['| shape | pass | ' + ' | '.join(names) + ' |', '| --- ' * (len(names) + 2) + '|']
    for row in tm['results']:
        cells = [_ms(row['times'][n]) if n in row['times'] else 'n/a' for n in names]
        rows.append(f"| {row['rows']}×{row['cols']} | {row['pass']} | " + ' | '.join(cells) + ' |')
    out['timing_table'] = '\n'.join(rows)
    ratios = [_median(row['times']['DyT (torch.compile)']) / _median(row['times']['F.layer_norm'])
              for row in tm['results']]
    eager = [_median(row['times']['DyT (eager)']) / _median(row['times']['F.layer_norm'])
             for row in tm['results']]
    out['timing_summary'] = (
        f"Comparing each contender's median round: compiled DyT takes {min(ratios):.2f}× to "
        f"{max(ratios):.2f}× the time of `F.layer_norm`, our eager DyT {min(eager):.2f}× to "
        f"{max(eager):.2f}×, on the CPU, one thread.")
    forward = [row for row in tm['results'] if 'torch.tanh(x)' in row['times']]
    if forward:
        tanh = [_median(row['times']['torch.tanh(x)']) / _median(row['times']['F.layer_norm'])
                for row in forward]
        out['timing_summary'] += (
            f"\n\n`torch.tanh(x)` alone takes {min(tanh):.2f}× to {max(tanh):.2f}× the time of "
            f"`F.layer_norm`'s forward: we think the tanh, a transcendental function, is what "
            f"makes DyT slower here, not its memory traffic, but we have not profiled it.")
    if 'load_average' in tm:
        out['timing_summary'] += (
            f"\n\nTimed on {tm['date'][:10]} (`{tm['command']}`) while the machine's load average "
            f"was {tm['load_average'][0]:.1f} on {tm['cpus']} cores: other jobs were running, "
            f"so read a ratio only where the rounds' ranges do not overlap.")
    out['run_meta'] = (
        f"`python -m labml_nn_norm.dyt --run` trained the {len(VARIANTS) * len(c['seeds'])} "
        f"runs and timed the norms on {r['date'][:10]} with PyTorch {r['torch']}, "
        f"{r['threads']} thread: {r['wall_time_s']} s in all, {r['train_time_s']} s of it "
        f"training; `--timings` re-measures only the timings. Both write `results/dyt.json`, "
        f"from which this page draws its figures and tables when it is built.")
    return out


# ## Exercises
#
# 1. **Where DyT is a straight line.** Near 0, $\tanh(\alpha x) \approx \alpha x$. With
#    $\alpha = 0.5$, up to which $|x|$ does $\tanh(\alpha x)$ stay within 1% of $\alpha x$? And
#    with the $\alpha_0 = 0.2$ that the authors use before the FFN of LLaMA 2 7B?
# 2. **The gradient by hand.** With $t = \tanh(\alpha x)$, $y = \gamma \odot t + \beta$ and
#    $g = \partial L / \partial y$, derive $\partial L / \partial x$,
#    $\partial L / \partial \alpha$, $\partial L / \partial \gamma$ and
#    $\partial L / \partial \beta$, and check them against autograd.
# 3. **One $\alpha$ for all tokens.** Give DyT ($\alpha = 0.5$, no affine) and LayerNorm three
#    tokens of 4096 Gaussian channels, scaled by 0.1, 1 and 10. What is the root mean square of
#    each output token, and what share of each token's outputs has $|\tanh(\alpha x)| > 0.9$?
# 4. **Folding $\alpha$ away.** When DyT reads the output of a linear layer,
#    $\tanh(\alpha (W h + b))$, show that multiplying $W$ and $b$ by $\alpha$ and setting
#    $\alpha = 1$ gives the same function. Why is there no such $W$ in a Pre-LN block, whose
#    norms read the residual stream?


@check_group(fold=True)
def _exercise_1():
    r"""
    ## Solution 1: where DyT is a straight line

    $\tanh(u)/u$ falls from 1 as $|u|$ grows; it is $0.99$ at $u^* \approx 0.174$, so
    $\tanh(\alpha x)$ is within 1% of $\alpha x$ for $|x| \le u^*/\alpha$: 0.35 for
    $\alpha = 0.5$, 0.87 for $\alpha = 0.2$. A smaller $\alpha$ keeps more of the inputs in the
    linear part.
    """
    # $u^*$ by bisection on $\tanh(u)/u = 0.99$, in `float64`
    lo, hi = 1e-3, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.tanh(mid) / mid > 0.99 else (lo, mid)
    u_star = lo
    for alpha in (0.5, 0.2):
        bound = u_star / alpha
        x = torch.tensor([0.999 * bound, 1.001 * bound], dtype=torch.float64)
        ratio = (dyt(x, 2, torch.tensor([alpha], dtype=torch.float64)) / (alpha * x)).tolist()
        check(f'alpha = {alpha}: within 1% of alpha * x up to |x| = {bound:.3f}, not beyond',
              ratio[0] > 0.99 > ratio[1], f'tanh / line: {ratio[0]:.5f}, {ratio[1]:.5f}')
    check('u* = 0.174 (to 3 digits)', abs(u_star - 0.174) < 5e-4, f'{u_star:.5f}')


@check_group(fold=True)
def _exercise_2():
    r"""
    ## Solution 2: the gradient by hand

    $\partial t / \partial x = \alpha (1 - t^2)$ and $\partial t / \partial \alpha = x (1 - t^2)$,
    so $\frac{\partial L}{\partial x} = g \odot \gamma\, \alpha (1 - t^2)$,
    $\frac{\partial L}{\partial \alpha} = \sum g \odot \gamma \odot x (1 - t^2)$ over every
    element, and $\frac{\partial L}{\partial \gamma} = \sum g \odot t$,
    $\frac{\partial L}{\partial \beta} = \sum g$ over the rows.
    """
    x = (torch.randn(6, 16, dtype=torch.float64) * 2 + 0.5).requires_grad_()
    m = DyT(16, alpha_init_value=0.7, dtype=torch.float64)
    with torch.no_grad():
        m.weight.normal_()
        m.bias.normal_()
    g = torch.randn(6, 16, dtype=torch.float64)
    m(x).backward(g)
    #
    # The same by hand, from $t$
    with torch.no_grad():
        t = torch.tanh(m.alpha * x)  # (6, 16)
        slope = 1 - t.square()  # d tanh(u) / du at u = alpha x
        dx = g * m.weight * m.alpha * slope
        dalpha = (g * m.weight * x * slope).sum().reshape(1)  # one number, shape [1]
        dweight, dbias = (g * t).sum(0), g.sum(0)  # (16,) each
    check_close('dL/dx, dL/dalpha, dL/dweight, dL/dbias by hand == autograd (float64), '
                'max over the four', (dx, dalpha, dweight, dbias),
                (x.grad, m.alpha.grad, m.weight.grad, m.bias.grad))


@check_group(fold=True)
def _exercise_3():
    r"""
    ## Solution 3: one alpha for all tokens

    LayerNorm gives every token a root mean square of 1, whatever its scale. DyT's one $\alpha$
    treats them differently: the token of scale 0.1 stays in the linear part, shrunk to
    $0.5 \times 0.1 = 0.05$; the token of scale 10 is pushed into saturation, most of its outputs
    beyond $|\tanh| = 0.9$, close to a sign function (for a Gaussian, the share is
    $P(|z| > \operatorname{artanh}(0.9)/5) \approx 0.77$).
    """
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 4096, generator=g, dtype=torch.float64)
    x = z * torch.tensor([[0.1], [1.0], [10.0]], dtype=torch.float64)  # (3 tokens, 4096)
    y_ln = F.layer_norm(x, (4096,))
    y_dyt = DyT(4096, elementwise_affine=False, dtype=torch.float64)(x).detach()
    rms_ln = y_ln.square().mean(-1).sqrt()  # (3,)
    rms_dyt = y_dyt.square().mean(-1).sqrt()
    saturated = (y_dyt.abs() > 0.9).double().mean(-1)  # (3,): share of each token's outputs
    #
    check('LayerNorm: root mean square 1 for every scale (to 1e-3)',
          (rms_ln - 1).abs().max().item() < 1e-3, ', '.join(f'{v:.4f}' for v in rms_ln.tolist()))
    small = rms_dyt[0].item() / (0.05 * z[0].square().mean().sqrt().item())
    check('DyT, scale 0.1: nearly linear, root mean square within 1% of 0.5 * 0.1 * rms(z)',
          abs(small - 1) < 1e-2, f'{rms_dyt[0].item():.4f}, {small:.4f} of it')
    check('DyT, scale 10: 70% to 85% of the outputs beyond 0.9 (0.77 expected); scale 1: under 2%',
          0.7 < saturated[2].item() < 0.85 and saturated[1].item() < 0.02,
          f'saturated {saturated[1].item():.2%} at scale 1, {saturated[2].item():.1%} at 10; '
          f'root mean squares {", ".join(f"{v:.3f}" for v in rms_dyt.tolist())}')


@check_group(fold=True)
def _exercise_4():
    r"""
    ## Solution 4: folding alpha away

    $\tanh(\alpha (W h + b)) = \tanh((\alpha W) h + \alpha b)$: a DyT after a linear layer can
    have $\alpha = 1$ and the linear layer learn the scale. In a Pre-LN block the norm reads the
    residual stream $x_l$, the sum of the embedding and of every earlier block's output, which no
    single weight produces; and $x_l$ also goes on, unnormalized, through the skip connection, so
    rescaling it would change the block's output too.
    """
    torch.manual_seed(0)
    linear = nn.Linear(16, 32, dtype=torch.float64)
    norm = DyT(32, alpha_init_value=0.7, dtype=torch.float64)
    h = torch.randn(5, 16, dtype=torch.float64)
    # The folded copy: $\alpha W$, $\alpha b$ and $\alpha = 1$
    folded_linear = nn.Linear(16, 32, dtype=torch.float64)
    folded_norm = DyT(32, alpha_init_value=1.0, dtype=torch.float64)
    with torch.no_grad():
        folded_linear.weight.copy_(0.7 * linear.weight)
        folded_linear.bias.copy_(0.7 * linear.bias)
    check_close('DyT(alpha = 0.7)(W h + b) == DyT(alpha = 1)(0.7 W h + 0.7 b) (float64)',
                folded_norm(folded_linear(h)), norm(linear(h)))


def _stated_verdict(other: str, stat: str) -> str:
    # The verdict the page's prose states for one comparison: a line
    # `* DyT vs <other>, <stat>: **<verdict>**` (in the docstring of `comparisons`)
    import re

    # Read from the source file, so that it also works where this code runs as a notebook
    source = Path(__file__).read_text(encoding='utf-8')
    m = re.search(rf'^ *\* DyT vs {other}, {stat}: \*\*([^*]+)\*\*$', source, re.M)
    if m is None:
        raise ValueError(f'the prose states no verdict for DyT vs {other}, {stat}')
    return m.group(1)


def _test():
    """
    ## Run all the checks
    """
    torch.manual_seed(0)
    _check_formula()
    _check_gradients()
    _check_errors()
    _check_layer_norm_shapes()
    _check_in_the_model()
    _check_mapping_claims()
    _check_training_claims()
    _check_statistics()
    _check_cost_claims()
    _check_saved_record()
    _exercise_1()
    _exercise_2()
    _exercise_3()
    _exercise_4()


# ## Sources
#
# * Zhu, Chen, He, LeCun, Liu,
#   [Transformers without Normalization](https://arxiv.org/abs/2503.10622), CVPR 2025: the
#   abstract (DyT as a drop-in, the "tanh-like, S-shaped input-output mappings", "mostly without
#   hyperparameter tuning"). We could not read the body of the paper; no section of it is cited.
# * The project page, [jiachenzhu.github.io/DyT](https://jiachenzhu.github.io/DyT/): the mappings
#   "mostly linear" in earlier layers and S-shaped in deeper ones (we read its text in a copy).
# * The authors' code,
#   [`dynamic_tanh.py`](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/dynamic_tanh.py#L6-L23):
#   `DynamicTanh` with `alpha_init_value=0.5`, `alpha` of shape `[1]`, `weight` ones and `bias`
#   zeros; `convert_ln_to_dyt` replaces every `nn.LayerNorm`
#   ([L29-L36](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/dynamic_tanh.py#L29-L36)).
# * Their [`README.md`](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/README.md#L114-L121):
#   the ImageNet-1K accuracies with LN and DyT; §6.1 for efficiency
#   ([L134-L135](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/README.md#L134-L135)).
# * LLaMA with DyT: the variant without $\beta$,
#   [`llama.py` L32-L49](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/other_tasks/LLaMA/fms_fsdp/models/llama.py#L32-L49);
#   $\alpha_0$ per model size in the training commands,
#   [7B L61-L63](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/other_tasks/LLaMA/README.md#L61-L63),
#   [13B L92-L94](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/other_tasks/LLaMA/README.md#L92-L94),
#   [34B L124-L126](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/other_tasks/LLaMA/README.md#L124-L126),
#   [70B L156-L158](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/other_tasks/LLaMA/README.md#L156-L158);
#   the widths, [`config_utils.py` L25-L56](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/other_tasks/LLaMA/fms_fsdp/utils/config_utils.py#L25-L56).
# * Their latency benchmark,
#   [`other_tasks/Efficiency/benchmark.py` L12-L31](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/other_tasks/Efficiency/benchmark.py#L12-L31)
#   (LLaMA 2 7B, `bfloat16`, CUDA; DyT, RMSNorm or identity), and its caveat,
#   [`other_tasks/Efficiency/README.md` L28-L30](https://github.com/jiachenzhu/DyT/blob/aab5dde0bc1bdd4410f687dad404c87b31808f90/other_tasks/Efficiency/README.md#L28-L30).
# * Verma, [When Does Removing LayerNorm Help? Activation Bounding as a Regime-Dependent
#   Implicit Regularizer](https://arxiv.org/abs/2604.23434), 2026: abstract.
# * Stollenwerk, [Elementwise Layer Normalization](https://arxiv.org/abs/2503.21708), 2025
#   (second version: "The Mathematical Relationship Between Layer Normalization and Dynamic
#   Activation Functions"): abstracts of both versions.
# * The model, the task and the norms compared: [Add & norm](../transformer/index.md),
#   [Post-LN vs Pre-LN, trained](../transformer/experiment.md), [RMSNorm](../rms_norm/index.md).
