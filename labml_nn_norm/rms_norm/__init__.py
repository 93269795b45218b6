r"""
---
title: RMSNorm
summary: Root mean square normalization - LayerNorm without re-centring - from scratch, a drop-in
  for torch.nn.RMSNorm, checked against PyTorch.
section: LayerNorm in the Transformer
order: 23
---

# RMSNorm

[Root Mean Square Layer Normalization](https://arxiv.org/abs/1910.07467) (Zhang and Sennrich,
2019) is [LayerNorm](../layer_norm/index.md) with one step removed: it does not subtract the
mean. It only rescales each sample by its root mean square, and has a gain $\gamma$ but no
offset $\beta$. In PyTorch's form, which this page implements
([`normalization.py` L349-L351](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/normalization.py#L349-L351)),

$$\mathrm{RMS}(x) = \sqrt{\frac{1}{H}\sum_{i=1}^{H} x_i^2 + \epsilon} \qquad
y_i = \frac{x_i}{\mathrm{RMS}(x)}\,\gamma_i$$

The authors write $\mathrm{RMS}$ without $\epsilon$
([their README, L29](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/README.md#L29));
where $\epsilon$ goes is an implementation choice, and implementations differ (below).

### Why drop the mean

The paper's abstract states the argument as a hypothesis: that LayerNorm's *re-centering*
invariance is dispensable, and that RMSNorm keeps the *re-scaling* invariance (the output does
not change when the input is multiplied by a positive constant) together with "implicit
learning rate adaptation". Dropping the re-centering saves work:

* one reduction per sample instead of two: $\sum_i x_i^2$ alone, where LayerNorm needs
  $\mu$ first and then $\sum_i (x_i - \mu)^2$ (or the two sums of the one-pass form),
* no subtraction, no $\beta$ parameter and its gradient.

## What you will learn

* what dropping the mean changes, and when RMSNorm and LayerNorm are the same function:
  [RMSNorm vs LayerNorm](#rmsnorm-vs-layernorm);
* why RMSNorm is a scaled `F.normalize`, a sphere of radius $\sqrt{H}$, and where $\epsilon$
  makes the two differ: [RMSNorm and `F.normalize`](#rmsnorm-and-fnormalize) and
  [its figure](#the-geometry-beside-layernorms);
* what PyTorch does with `eps=None` and with half-precision inputs:
  [the functional form](#the-functional-form);
* how to be a drop-in for `torch.nn.RMSNorm`: [As a drop-in](#as-a-drop-in);
* in the [exercises](#exercises): $\epsilon$ on small rows, the gradient by hand, partial
  RMSNorm, and where to round.
"""

import math
from typing import Optional

import torch
from torch import nn

from labml_nn_norm._check import check, check_close, check_group, check_raises, run_side_by_side
from labml_nn_norm.layer_norm import (
    FIGURE_COLOURS,
    _shape_t,
    check_figure,
    check_normalized_shape,
    geometry_inputs,
    geometry_panel,
    geometry_points,
    normalized_shape_tuple,
    statistics_dtype,
    svg_dots,
    svg_figure,
    svg_legend,
    svg_path,
    view_2d,
)


def rms_norm(input: torch.Tensor, normalized_shape: _shape_t,
             weight: Optional[torch.Tensor] = None, eps: Optional[float] = None) -> torch.Tensor:
    r"""
    ## The functional form

    Same contract as `torch.nn.functional.rms_norm`.

    Among models: Meta's Llama 2 reference code defines its own `RMSNorm` (mean of squares,
    $\epsilon$ inside the root, computed in `float32`, rounded to the input's dtype *before* the
    multiplication by the weight:
    [`model.py` L34-L77](https://github.com/meta-llama/llama/blob/689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/llama/model.py#L34-L77))
    and applies it to the *input* of each attention and feed-forward sub-layer, i.e. in the
    [Pre-LN](../transformer/index.md) arrangement
    ([L406-L409](https://github.com/meta-llama/llama/blob/689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/llama/model.py#L406-L409)).

    ### PyTorch's details

    PyTorch 2.13.0's `torch.nn.RMSNorm` takes `normalized_shape`, `eps=None`, `elementwise_affine`,
    `device` and `dtype`, and names the gain `weight`
    ([`normalization.py` L392-L421](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/normalization.py#L392-L421));
    its `forward` calls `F.rms_norm`, which calls `torch.rms_norm`
    ([L423-L427](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/normalization.py#L423-L427),
    [`functional.py` L2992-L3006](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/functional.py#L2992-L3006)).
    Its docstring says what `eps=None` means
    ([L368-L371](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/normalization.py#L368-L371));
    the rest we measured on the CPU (asserted in `_test()`; PyTorch's CUDA path, `_fused_rms_norm`,
    never ran here):

    * `eps=None` means the machine epsilon of the *computation* dtype: `torch.finfo(float32).eps`
      ($1.19 \times 10^{-7}$) for `float32`, `float16` and `bfloat16` inputs,
      `torch.finfo(float64).eps` for `float64`;
    * half-precision inputs are computed in `float32`, *including the multiplication by the weight*,
      and only the result is rounded to the input's dtype (Llama 2's code above rounds before the
      weight);
    * the output always has the input's dtype, whatever the weight's dtype.
    """
    shape = normalized_shape_tuple(normalized_shape)
    check_normalized_shape(input, shape, weight, None)
    # The dimensions to reduce over: the last $D$ of the input
    dims = tuple(range(-len(shape), 0))
    #
    # Half precision is computed in `float32` (PyTorch's "opmath" type): $x^2$ overflows
    # `float16` (largest finite value 65504) once $|x|$ reaches about 256
    compute_dtype = statistics_dtype(input.dtype)
    x = input.to(compute_dtype)
    # `eps=None`: the machine epsilon of the computation dtype
    if eps is None:
        eps = torch.finfo(compute_dtype).eps
    #
    # The abstract reports "comparable performance against LayerNorm" with running time
    # reduced "by 7%∼64% on different models"; per the authors' README the experiments cover
    # machine translation (RNNSearch in Nematus; a Transformer in their `zero` toolkit),
    # reading comprehension, image-caption retrieval and CIFAR-10
    # ([README L74-L186](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/README.md#L74-L186)).
    # We have not read the paper's per-model timing tables, so we do not say which model got
    # which speed-up, and we have not reproduced them. The abstract also proposes *partial*
    # RMSNorm (pRMSNorm), which estimates the RMS from $p\%$ of the summed inputs; in the
    # authors' code that is the first $\lfloor pH \rfloor$ elements
    # ([`rmsnorm_torch.py` L41-L45](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/rmsnorm_torch.py#L41-L45)).
    # This page implements it only in [exercise 3](#exercises).
    #
    # The one reduction, the mean square $\frac{1}{H}\sum_i x_i^2$; no mean is subtracted
    mean_square = x.square().mean(dim=dims, keepdim=True)  # (*, 1, ..., 1): one per sample
    # $\frac{x}{\sqrt{\frac{1}{H}\sum_i x_i^2 + \epsilon}}$
    y = x * torch.rsqrt(mean_square + eps)
    #
    # $y \gamma$, still in the computation dtype, then rounded once to the input's dtype
    if weight is not None:
        y = y * weight.to(compute_dtype)
    return y.to(input.dtype)


class RMSNorm(nn.Module):
    r"""
    ## The module

    * `normalized_shape`: the shape of the elements normalized together (the last dimensions)
    * `eps`: $\epsilon$; `None` means the machine epsilon of the computation dtype
    * `elementwise_affine`: whether to learn $\gamma$ (`weight`, initialized to ones)
    * `device`, `dtype`: where and in which precision to create `weight`

    There is no `bias` and no buffer: a `state_dict` is `{'weight': ...}` or empty, as in PyTorch.
    """

    __constants__ = ['normalized_shape', 'eps', 'elementwise_affine']

    def __init__(self, normalized_shape: _shape_t, eps: Optional[float] = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = normalized_shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        # $\gamma$, one per normalized element; `None` without affine, as in PyTorch
        if elementwise_affine:
            self.weight = nn.Parameter(torch.empty(self.normalized_shape, device=device,
                                                   dtype=dtype))
        else:
            self.register_parameter('weight', None)
        self.reset_parameters()

    def reset_parameters(self):
        # Start as the plain RMS normalization: $\gamma = 1$
        if self.weight is not None:
            nn.init.ones_(self.weight)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        # PyTorch's text, `eps=None` included
        return ('{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}'
                .format(**self.__dict__))


@check_group
def _check_vs_layer_norm():
    r"""
    ## RMSNorm vs LayerNorm

    Compare LayerNorm, $y_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}\gamma_i + \beta_i$ with
    $\sigma^2 = \frac{1}{H}\sum_i (x_i - \mu)^2$. If the input already has zero mean, $\mu = 0$,
    $\sigma^2$ *is* the mean square, and the two are the same function (the authors say so too,
    [README L34](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/README.md#L34);
    `_test()` checks it).

    The one-line difference from LayerNorm: no $-\mu$. On a centred input the two agree
    (LayerNorm's eps is $10^{-5}$, so we give RMSNorm the same); on a shifted input they do not.
    """
    from labml_nn_norm.layer_norm import LayerNorm

    x = torch.randn(8, 64) * 2 + 5
    centred = x - x.mean(-1, keepdim=True)
    check_close('RMSNorm(centred x) == LayerNorm(x) without affine',
                RMSNorm(64, eps=1e-5, elementwise_affine=False)(centred),
                LayerNorm(64, elementwise_affine=False)(x))
    gap = (RMSNorm(64, eps=1e-5)(x) - LayerNorm(64)(x)).abs().max().item()
    check('but on x with mean 5 they differ', gap > 0.5, f'max |Δ| = {gap:.2f}')
    # Both are invariant to re-scaling; only LayerNorm is invariant to a shift
    rms = RMSNorm(64, eps=1e-5, elementwise_affine=False)
    ln = LayerNorm(64, elementwise_affine=False)
    check_close('RMSNorm(10 x) == RMSNorm(x): re-scaling invariance', rms(10 * x), rms(x))
    check('RMSNorm(x + 3) != RMSNorm(x): no re-centring',
          (rms(x + 3) - rms(x)).abs().max().item() > 0.1)
    check_close('LayerNorm(x + 3) == LayerNorm(x)', ln(x + 3), ln(x), atol=1e-5, rtol=1e-5)
    #
    # RMSNorm is *not* LayerNorm on inputs with a large common offset: the offset $\mu$ inflates the
    # RMS to $\sqrt{\sigma^2 + \mu^2}$ and shrinks the rest of the signal by
    # $\sigma / \sqrt{\sigma^2 + \mu^2}$ (for $\mu = 5$, $\sigma = 2$: 0.37, asserted in `_test()`,
    # where LayerNorm gives 1). Whether that matters depends on whether the surrounding layers can
    # absorb a shift; we have not measured that here.
    xo = torch.randn(4096, 64) * 2 + 5
    yo, lo = rms(xo), ln(xo)
    # What is left of the signal: the output minus its own row mean; its spread, each row's
    # standard deviation averaged over the 4096 rows
    spread = (yo - yo.mean(-1, keepdim=True)).std(-1, unbiased=False).mean().item()
    spread_ln = (lo - lo.mean(-1, keepdim=True)).std(-1, unbiased=False).mean().item()
    check('mean 5, spread 2: RMSNorm leaves a signal of spread 2 / sqrt(29) = 0.37, LayerNorm 1',
          abs(spread - 2 / 29 ** 0.5) < 0.02 and abs(spread_ln - 1) < 0.01,
          f'RMSNorm {spread:.3f}, LayerNorm {spread_ln:.3f}')


@check_group
def _check_normalize():
    r"""
    ## RMSNorm and `F.normalize`

    Without $\epsilon$ and without $\gamma$, dividing by the RMS is dividing by the Euclidean norm
    and multiplying by $\sqrt{H}$, since $\mathrm{RMS}(x) = \lVert x \rVert_2 / \sqrt{H}$:

    $$\mathrm{RMSNorm}(x) = \sqrt{H}\,\frac{x}{\lVert x \rVert_2}$$

    so every output row has norm $\sqrt{H}$: RMSNorm puts each sample on a sphere of radius
    $\sqrt{H}$, and $\gamma$ then stretches the axes. LayerNorm first projects the sample onto the
    hyperplane $\sum_i x_i = 0$ ([its geometry](../layer_norm/index.md)); RMSNorm skips that
    projection, so its output can lie anywhere on the sphere (its row sums stay far from 0,
    asserted).
    """
    import inspect

    import torch.nn.functional as F

    x = torch.randn(8, 64) * 3 + 2
    row_sum = rms_norm(x, 64).sum(-1).abs().min().item()
    check('no projection onto sum = 0: every output row sum is far from 0', row_sum > 1,
          f'smallest |row sum| {row_sum:.1f}')
    check_close('rms_norm(x, eps=0) == sqrt(64) * F.normalize(x, dim=-1)',
                rms_norm(x, 64, eps=0.0), 64 ** 0.5 * F.normalize(x, dim=-1))
    x4 = torch.randn(2, 3, 4, 5)
    check_close('over (4, 5): == sqrt(20) * F.normalize(x, dim=(-2, -1))',
                rms_norm(x4, (4, 5), eps=0.0), 20 ** 0.5 * F.normalize(x4, dim=(-2, -1)))
    check_close('every output row has norm sqrt(64) = 8', rms_norm(x, 64, eps=0.0).norm(dim=-1),
                torch.full((8,), 8.0))
    # The figure's vectors ($H = 3$): on the sphere of radius $\sqrt{3}$, row sums far from 0
    x3 = geometry_inputs()
    y3 = RMSNorm(3, eps=0.0, dtype=x3.dtype)(x3).detach()
    check_close('figure: every output at radius sqrt(3)', y3.norm(dim=-1),
                torch.full((8,), 3 ** 0.5, dtype=x3.dtype), rtol=0, atol=1e-12)
    sums = y3.sum(-1)
    check('figure: ... with row sums far from 0', sums.abs().min().item() > 1,
          f'{sums.min().item():.2f} to {sums.max().item():.2f}')
    check_figure('figure', figure_geometry(), figure_geometry(geometry_inputs(seed=2)))
    #
    # `_test()` asserts `rms_norm(x, eps=0) == sqrt(H) * F.normalize(x, dim=-1)` (and
    # over two dimensions with `dim=(-2, -1)`). The two differ only in where $\epsilon$ enters:
    #
    # * `F.normalize` divides by $\max(\lVert x \rVert_2, \epsilon)$, default
    #   $\epsilon = 10^{-12}$: it *clamps* the norm, so it is exact for every row whose norm is
    #   above $\epsilon$
    #   ([`functional.py` L6070-L6104](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/functional.py#L6070-L6104),
    #   the clamp at
    #   [L6100](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/functional.py#L6100));
    # * RMSNorm *adds* $\epsilon$ inside the mean of squares, so it pulls every row towards zero, a
    #   little for large rows and a lot for rows whose mean square is near $\epsilon$: with the
    #   default $\epsilon$ of `float32` ($1.19 \times 10^{-7}$), a row of $10^{-4}$s comes out as
    #   0.278 instead of 1, where `sqrt(H) * F.normalize` gives 1 (both asserted). A row of
    #   $10^{-14}$s, whose norm is below `F.normalize`'s $\epsilon$, comes out as 0.02 from
    #   `sqrt(H) * F.normalize` (asserted, $H = 4$).
    # * The authors' own PyTorch code does a third thing: it adds $\epsilon = 10^{-8}$ to the RMS
    #   itself, $x / (\mathrm{RMS}(x) + \epsilon)$
    #   ([`rmsnorm_torch.py` L47-L48](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/rmsnorm_torch.py#L47-L48));
    #   the TensorFlow snippet in their README puts it inside the root
    #   ([L107-L110](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/README.md#L107-L110)).
    #
    # Where $\epsilon$ enters: added to the mean square (RMSNorm) vs a floor on the norm
    # (normalize)
    small = torch.full((1, 4), 1e-4)
    y_rms = rms_norm(small, 4)[0, 0].item()
    y_nrm = (2 * F.normalize(small, dim=-1))[0, 0].item()
    check('row of 1e-4s, default eps: RMSNorm 0.278, sqrt(H) * F.normalize 1',
          abs(y_rms - 0.2782) < 1e-3 and abs(y_nrm - 1) < 1e-6, f'{y_rms:.4f}, {y_nrm:.4f}')
    default_eps = inspect.signature(F.normalize).parameters['eps'].default
    check('F.normalize default eps is 1e-12', default_eps == 1e-12, f'{default_eps}')
    tiny = torch.full((1, 4), 1e-14)
    y_nrm = (2 * F.normalize(tiny, dim=-1))[0, 0].item()
    check('row of 1e-14s (norm 2e-14 < 1e-12): sqrt(H) * F.normalize gives 0.02, not 1',
          abs(y_nrm - 0.02) < 1e-6, f'{y_nrm:.4f}')


def figure_geometry(x: Optional[torch.Tensor] = None) -> str:
    r"""
    ## The geometry, beside LayerNorm's

    The same inputs ($H = 3$) and the same view as the
    [LayerNorm page's figure](../layer_norm/index.md): on the left LayerNorm's panel, drawn by
    that page's `geometry_panel`; on the right what `RMSNorm` (here with $\epsilon = 0$) does to
    them. Each output is on the input's own ray from the origin, on the sphere of radius
    $\sqrt{3}$ (drawn as its outline, a circle of the same radius in this view); LayerNorm's
    circle is one great circle of that sphere. An output on the far half of the sphere is drawn
    hollow.

    {{ rms_geometry }}
    """
    x = geometry_inputs() if x is None else x
    c, w, h, scale = FIGURE_COLOURS, 270, 262, 28.0
    ones = torch.ones(3, dtype=x.dtype)
    left = geometry_panel(geometry_points(x, ones, 0 * ones), (w / 2, 140), scale)
    #
    rms = RMSNorm(3, eps=0.0, dtype=x.dtype)
    with torch.no_grad():
        y = rms(x)
    v = lambda q: view_2d(q, (w * 1.5, 140), scale)  # noqa: E731
    o = v(torch.zeros(1, 3, dtype=x.dtype))[0].tolist()
    radius = y.norm(dim=-1)
    ring = geometry_points(x, ones, 0 * ones)['ring']
    # The camera's direction: points with a positive component along it are on the near half
    a, e = math.radians(120.0), math.radians(30.0)
    towards = torch.tensor([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)],
                           dtype=x.dtype)
    near = y @ towards > 0
    right = [f'<circle cx="{o[0]:.1f}" cy="{o[1]:.1f}" r="{scale * radius.mean().item():.1f}" '
             f'fill="{c["grey"]}" fill-opacity="0.18" stroke="{c["grey"]}"/>',
             f'<path d="{svg_path(v(ring), True)}" fill="none" stroke="{c["orange"]}" '
             f'stroke-opacity="0.45" stroke-width="2"/>']
    for start, end in zip(v(x).tolist(), v(y).tolist()):
        right.append(f'<path d="M{start[0]:.1f},{start[1]:.1f}L{end[0]:.1f},{end[1]:.1f}" '
                     f'stroke="{c["grey"]}" stroke-dasharray="3 2"/>')
    right += [svg_dots(v(x), fill=c['grey']), svg_dots(v(y[near]), fill=c['purple']),
              svg_dots(v(y[~near]), fill='none', stroke=c['purple'], stroke_width=1.5)]
    sums = y.sum(-1)
    body = (left + ''.join(right)
            + f'<text x="{w / 2}" y="16" text-anchor="middle">LayerNorm</text>'
            + f'<text x="{w * 1.5}" y="16" text-anchor="middle">RMSNorm</text>'
            + svg_legend([(c['grey'], True, 'x'), (c['blue'], False, 'x − μ'),
                          (c['orange'], True, 'x̂')], 40, h - 8)
            + svg_legend([(c['grey'], True, 'x'), (c['purple'], True, 'x / RMS(x)')],
                         w + 60, h - 8, 60))
    label = (f'Two 3-D views of the same {len(x)} grey input vectors. Left, LayerNorm: each is '
             f'dropped onto the plane x₁ + x₂ + x₃ = 0 and lands on the orange circle. Right, '
             f'RMSNorm: each moves along its own ray to the sphere of radius {radius.mean():.3f} '
             f'(purple), away from that circle.')
    caption = (f'RMSNorm skips the projection: each vector moves along its own ray onto the '
               f'sphere of radius √3 = {radius.mean():.3f}, and the row sums of its outputs are '
               f'{sums.min():.2f} to {sums.max():.2f}, where LayerNorm\'s are 0.')
    return svg_figure(body, 2 * w, h, label, caption)


def _artifacts():
    """
    ## The figure, made when the site is built
    """
    return {'rms_geometry': figure_geometry()}


# ## As a drop-in
#
# `RMSNorm` takes `torch.nn.RMSNorm`'s arguments, names the gain `weight` and has the same `repr`
# and `state_dict`. Its shape errors are the `NormalizationError` of the
# [LayerNorm page](../layer_norm/index.md), a `ValueError` and a `RuntimeError` at once, so an
# `except RuntimeError:` written for `torch.nn.RMSNorm` still catches them. The differences that
# remain, each asserted in `_test()`:
#
# * the message for an input that does not end in `normalized_shape` writes the expected shape as
#   `[*, 4]`; PyTorch's `F.rms_norm` writes `[*4]` (its `F.layer_norm` writes `[*, 4]`, which is the
#   text we share). The message for a `weight` of the wrong shape is PyTorch's, word for word;
# * an empty `normalized_shape`: PyTorch raises at the first forward, we at construction.


@check_group(fold=True)
def _check_against_torch():
    """
    ## Against `torch.nn.RMSNorm`

    Outputs, input gradients and weight gradients, for every input shape and `normalized_shape`
    form, three values of `eps` and with or without the weight.
    """

    cases = [((4, 16), 16), ((2, 7, 32), 32), ((2, 3, 4, 5), (4, 5)),
             ((3, 2, 3, 4), torch.Size([2, 3, 4])), ((0, 8), 8), ((5,), [5])]
    for shape, ns in cases:
        ys, ys_ref = [], []
        for eps in (None, 1e-6, 0.1):
            for affine in (True, False):
                ours = RMSNorm(ns, eps=eps, elementwise_affine=affine)
                ref = nn.RMSNorm(ns, eps=eps, elementwise_affine=affine)
                if affine:
                    with torch.no_grad():
                        ref.weight.normal_()
                ours.load_state_dict(ref.state_dict())
                # Shifted, scaled inputs: the mean is not removed, so it matters
                y, y_ref = run_side_by_side(ours, ref, torch.randn(shape) * 3 + 2)
                ys.append(y)
                ys_ref.append(y_ref)
        # Gradients are asserted inside `run_side_by_side`; the printed $\Delta$ is the largest
        # over the six outputs
        check_close(f'input {tuple(shape)}, normalized_shape={ns}, eps None/1e-6/0.1 × '
                    'affine on/off, outputs and gradients; max over the 6 outputs', ys, ys_ref)


@check_group(fold=True)
def _check_eps_and_half():
    """
    ## `eps=None` and half precision

    On a tiny input the choice of epsilon decides the output, so only the right one matches.
    """
    import warnings

    import torch.nn.functional as F

    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        x = torch.full((2, 4), 1e-3 if dtype == torch.float16 else 1e-4, dtype=dtype)
        check_close(f'{dtype}: eps=None', rms_norm(x, 4), F.rms_norm(x, (4,)), rtol=0, atol=0)
    check('torch.finfo(float32).eps is 1.19e-7 (as quoted above)',
          abs(torch.finfo(torch.float32).eps - 1.19e-7) < 5e-10,
          f'{torch.finfo(torch.float32).eps:.3g}')
    x32 = torch.full((1, 4), 1e-4)
    check('eps=None is finfo(float32).eps, not 0: a 1e-4 input maps to 0.278, not 1',
          abs(rms_norm(x32, 4)[0, 0].item() - 0.2782) < 1e-3,
          f'{rms_norm(x32, 4)[0, 0].item():.4f}')
    #
    # Half precision: `float32` inside, the input's dtype out, bit for bit PyTorch's, even with a
    # `float32` weight (mixed precision) or an input whose square overflows `float16`
    for dtype in (torch.float16, torch.bfloat16):
        for w_dtype in (dtype, torch.float32):
            ys, expected = [], []
            for _ in range(20):
                x = (torch.randn(16, 256) * 3 + 1).to(dtype)
                w = torch.randn(256).to(w_dtype)
                with warnings.catch_warnings():
                    # PyTorch warns that mixed dtypes skip its fused kernel
                    warnings.simplefilter('ignore')
                    expected.append(F.rms_norm(x, (256,), w))
                ys.append(rms_norm(x, 256, w))
            check_close(f'{dtype} input, {w_dtype} weight: {ys[0].dtype} out, bitwise on the CPU, '
                        f'20 draws of (16, 256)', torch.stack(ys), torch.stack(expected),
                        rtol=0, atol=0)
    big = torch.full((2, 16), 300.0, dtype=torch.float16)
    check_close('float16 input of 300 (300² overflows float16) -> 1', rms_norm(big, 16),
                torch.ones_like(big))


@check_group(fold=True)
def _check_drop_in():
    """
    ## A drop-in for `torch.nn.RMSNorm`

    The same `state_dict` in both directions, the same `repr`, and the same arguments.
    """

    ours, ref = RMSNorm([2, 3]), nn.RMSNorm([2, 3])
    check('state_dict keys match', list(ours.state_dict()) == list(ref.state_dict()) == ['weight'])
    with torch.no_grad():
        ours.weight.normal_()
    ref.load_state_dict(ours.state_dict())
    back = RMSNorm([2, 3])
    back.load_state_dict(ref.state_dict())
    check_close('state_dict -> torch.nn.RMSNorm -> ours, same weight', back.weight, ours.weight,
                rtol=0, atol=0)
    for args, kwargs in (((4,), {}), (([2, 3],), dict(eps=1e-6, elementwise_affine=False))):
        check('repr matches torch',
              repr(RMSNorm(*args, **kwargs)) == repr(nn.RMSNorm(*args, **kwargs)),
              repr(RMSNorm(*args, **kwargs)))
    check('no affine -> weight is None, no parameters',
          RMSNorm(4, elementwise_affine=False).weight is None
          and list(RMSNorm(4, elementwise_affine=False).parameters()) == [])
    check('dtype argument', RMSNorm(4, dtype=torch.float64).weight.dtype == torch.float64)


@check_group(fold=True)
def _check_errors():
    """
    ## Errors

    Shapes that do not fit: a `RuntimeError` as in PyTorch (and a `ValueError`), the weight's
    message word for word, the input's with one difference, and an empty shape refused earlier.
    """
    import torch.nn.functional as F

    check_raises('input does not end in normalized_shape: RuntimeError', RuntimeError, rms_norm,
                 torch.randn(3, 5), [4], match='[*, 4]')
    check_raises('... torch writes [*4]', RuntimeError, F.rms_norm, torch.randn(3, 5), [4],
                 match='[*4]')
    check_raises('... ours is also a ValueError', ValueError, rms_norm, torch.randn(3, 5), [4],
                 match='[*, 4]')
    messages = []
    for fn in (rms_norm, F.rms_norm):
        try:
            fn(torch.randn(3, 4), [4], torch.ones(5))
        except RuntimeError as e:
            messages.append(str(e))
    check('weight of the wrong shape: both RuntimeError, same message',
          len(messages) == 2 and messages[0] == messages[1], messages[0] if messages else '')
    check_raises('empty normalized_shape: torch raises at forward', RuntimeError, nn.RMSNorm([]),
                 torch.randn(3), match='at least 1-dimensional')
    check_raises('... ours at construction, same text', RuntimeError, RMSNorm, [],
                 match='at least 1-dimensional')


# ## Exercises
#
# 1. **$\epsilon$ on a small row.** Set `eps=1e-6` and feed rows whose elements are all $a$, for
#    $a = 10^{-1}, 10^{-3}, 10^{-4}$. Derive the output as a function of $a$ and $\epsilon$;
#    at which $a$ is it $1/\sqrt{2}$?
# 2. **The gradient by hand.** With $r = \sqrt{\frac{1}{H}\sum_i x_i^2 + \epsilon}$ and
#    $y_i = x_i / r$, show that $\frac{\partial L}{\partial x} = \big(g - y \cdot
#    \frac{1}{H}\sum_i g_i y_i\big) / r$ where $g = \gamma \odot \frac{\partial L}{\partial y}$,
#    and check it, and $\frac{\partial L}{\partial \gamma}$, against autograd.
# 3. **Partial RMSNorm.** Estimate the RMS from the first $\lfloor pH \rfloor$ elements only, as
#    pRMSNorm does. For $p = 1/8$ and $H = 512$ Gaussian inputs, how far is each output row's
#    mean square from 1? What does $p = 1$ give?
# 4. **Where to round.** Llama 2 rounds $x / \mathrm{RMS}(x)$ to `bfloat16` *before* multiplying
#    by a `bfloat16` weight; PyTorch multiplies in `float32` and rounds once. How many outputs
#    differ, and which is closer to the exact product?


@check_group(fold=True)
def _exercise_1():
    r"""
    ## Solution 1: eps on a small row

    $y = a / \sqrt{a^2 + \epsilon} = 1 / \sqrt{1 + \epsilon / a^2}$: close to 1 while
    $a^2 \gg \epsilon$, and $1/\sqrt{2}$ at $a^2 = \epsilon$, i.e. $a = 10^{-3}$ for
    $\epsilon = 10^{-6}$.
    """
    eps = 1e-6
    for a in (1e-1, 1e-3, 1e-4):
        x = torch.full((2, 8), a, dtype=torch.float64)
        expected = torch.full_like(x, 1 / math.sqrt(1 + eps / a ** 2))
        check_close(f'a = {a:g}: rms_norm = 1 / sqrt(1 + eps / a²) = {expected[0, 0].item():.4f}',
                    rms_norm(x, 8, eps=eps), expected)
    y = rms_norm(torch.full((1, 8), 1e-3, dtype=torch.float64), 8, eps=eps)[0, 0].item()
    check('a = sqrt(eps) = 1e-3 gives 1/sqrt(2)', abs(y - 2 ** -0.5) < 1e-12, f'{y:.6f}')


@check_group(fold=True)
def _exercise_2():
    r"""
    ## Solution 2: the gradient by hand

    $\partial r / \partial x_j = x_j / (H r)$, so
    $\frac{\partial L}{\partial x_j} = \frac{g_j}{r} - \sum_i \frac{g_i x_i}{r^2}\frac{x_j}{H r}
    = \big(g_j - y_j \frac{1}{H}\sum_i g_i y_i\big) / r$; and
    $\frac{\partial L}{\partial \gamma} = \sum_{\text{samples}} \frac{\partial L}{\partial y}
    \odot y$, with $y$ before $\gamma$.
    """
    H, eps = 32, 1e-5
    x = (torch.randn(6, H, dtype=torch.float64) * 2 + 1).requires_grad_()
    weight = torch.randn(H, dtype=torch.float64, requires_grad=True)
    dy = torch.randn(6, H, dtype=torch.float64)
    rms_norm(x, H, weight, eps).backward(dy)
    #
    # The same by hand, from the saved $r$ and $y$ (before $\gamma$)
    with torch.no_grad():
        r = torch.sqrt(x.square().mean(-1, keepdim=True) + eps)  # (6, 1)
        y = x / r  # (6, H)
        g = dy * weight  # (6, H)
        dx = (g - y * (g * y).mean(-1, keepdim=True)) / r
        dweight = (dy * y).sum(0)  # (H,)
    check_close('dL/dx by hand == autograd (float64)', dx, x.grad)
    check_close('dL/dweight by hand == autograd (float64)', dweight, weight.grad)


@check_group(fold=True)
def _exercise_3():
    r"""
    ## Solution 3: partial RMSNorm

    With $k = H/8 = 64$ of 512 elements, the estimated mean square is an average of 64 squares,
    not 512: each row's output mean square scatters around 1 (a little above it on average,
    since $E[1/s^2] > 1/E[s^2]$), where RMSNorm's is 1 in every row. $p = 1$ is RMSNorm.
    """
    def partial_rms_norm(x: torch.Tensor, p: float, eps: float = 1e-8) -> torch.Tensor:
        k = int(p * x.shape[-1])
        # The mean square of the first $k$ elements only
        mean_square = x[..., :k].square().mean(-1, keepdim=True)  # (N, 1)
        return x * torch.rsqrt(mean_square + eps)
    #
    x = torch.randn(4096, 512, generator=torch.Generator().manual_seed(0))
    check_close('p = 1 is rms_norm', partial_rms_norm(x, 1.0), rms_norm(x, 512, eps=1e-8))
    ms = partial_rms_norm(x, 1 / 8).square().mean(-1)  # (4096,): each output row's mean square
    full = rms_norm(x, 512, eps=1e-8).square().mean(-1)
    check('p = 1/8: output mean squares scatter around 1 (std over 4096 rows 0.1 to 0.3, mean '
          'above 1), RMSNorm\'s do not (std < 1e-5)',
          0.1 < ms.std().item() < 0.3 and full.std().item() < 1e-5 and ms.mean().item() > 1,
          f'pRMSNorm mean {ms.mean().item():.3f}, std {ms.std().item():.3f}; '
          f'RMSNorm std {full.std().item():.1e}')


@check_group(fold=True)
def _exercise_4():
    r"""
    ## Solution 4: where to round

    Rounding twice (Llama 2) changes some of the `bfloat16` outputs, each by at most one
    `bfloat16` step, and its mean relative error against the exact `float32` product is larger
    than that of PyTorch's single rounding.
    """
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(64, 256, generator=g) * 3 + 1).to(torch.bfloat16)
    weight = torch.randn(256, generator=g).to(torch.bfloat16)
    # Llama 2: $x / \mathrm{RMS}(x)$ in `float32`, rounded, then times the weight in `bfloat16`
    xf = x.float()
    x_hat = xf * torch.rsqrt(xf.square().mean(-1, keepdim=True) + torch.finfo(torch.float32).eps)
    llama = x_hat.to(torch.bfloat16) * weight
    ours = rms_norm(x, 256, weight)
    exact = x_hat * weight.float()  # (64, 256) in float32, never rounded to bfloat16
    #
    differ = (llama != ours).float().mean().item()
    err_llama = ((llama.float() - exact).abs() / exact.abs()).mean().item()
    err_ours = ((ours.float() - exact).abs() / exact.abs()).mean().item()
    # One `bfloat16` step at $|v|$: $2^{\lfloor \log_2 |v| \rfloor - 7}$ (8 significant bits)
    step = torch.exp2(torch.floor(torch.log2(torch.maximum(llama.float().abs(),
                                                            ours.float().abs()))) - 7)
    gap = ((llama.float() - ours.float()).abs() / step).max().item()
    check('rounding before the weight changes 10% to 50% of the outputs, by at most one step',
          0.1 < differ < 0.5 and gap <= 1, f'{differ:.0%} of 64 × 256, largest gap {gap:g} step')
    check('... and has the larger mean relative error against the exact product',
          err_llama > err_ours, f'Llama 2 order {err_llama:.2e}, PyTorch order {err_ours:.2e}')


def _test():
    """
    ## Run all the checks
    """
    torch.manual_seed(0)
    _check_vs_layer_norm()
    _check_normalize()
    _check_against_torch()
    _check_eps_and_half()
    _check_drop_in()
    _check_errors()
    _exercise_1()
    _exercise_2()
    _exercise_3()
    _exercise_4()


# ## Sources
#
# * Zhang and Sennrich, [Root Mean Square Layer Normalization](https://arxiv.org/abs/1910.07467),
#   NeurIPS 2019, abstract only: the re-centering hypothesis, re-scaling invariance, pRMSNorm
#   ($p\%$ of the inputs), "7%∼64%" less running time. We could not read the body of the paper
#   (sections, tables), so nothing on this page cites it.
# * The authors' repository,
#   [`README.md`](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/README.md#L24-L47)
#   (the RMS without $\epsilon$, L29; RMSNorm equals LayerNorm on zero-mean inputs, L34; the
#   invariance table, L38-L44; the experiments,
#   [L74-L186](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/README.md#L74-L186);
#   the TensorFlow snippet, $\epsilon$ inside the root,
#   [L107-L110](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/README.md#L107-L110))
#   and
#   [`rmsnorm_torch.py`](https://github.com/bzhangGo/rmsnorm/blob/2e726f1a3f106bb719056422f4f9b6aca03d3ce6/rmsnorm_torch.py#L12-L53)
#   (pRMSNorm takes the first $\lfloor pH \rfloor$ elements, L41-L45; $\epsilon$ added to the
#   RMS, L47-L48).
# * PyTorch 2.13.0, [`torch/nn/modules/normalization.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/normalization.py#L343-L436):
#   `RMSNorm` (formula L349-L351, `eps=None` in the docstring L368-L371, arguments and `weight`
#   L392-L421, `forward` L423-L427, `extra_repr` L429-L436).
# * PyTorch 2.13.0,
#   [`torch/nn/functional.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/functional.py#L2992-L3006):
#   `rms_norm` calls `torch.rms_norm`;
#   [`normalize`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/functional.py#L6070-L6104)
#   clamps the norm with `eps` (default $10^{-12}$, L6074 and L6100).
# * Meta, Llama 2 reference code,
#   [`llama/model.py`](https://github.com/meta-llama/llama/blob/689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/llama/model.py#L34-L77):
#   its `RMSNorm`, and its use on the input of each sub-layer
#   ([L406-L409](https://github.com/meta-llama/llama/blob/689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/llama/model.py#L406-L409)).

