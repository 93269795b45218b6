r"""
---
title: The backward pass of LayerNorm
summary: The gradients of LayerNorm derived step by step, written as a torch.autograd.Function
  that saves only the input and two numbers per row, checked with gradcheck.
section: Layer Normalization
order: 2
nav: The backward pass
---

# The backward pass of LayerNorm

Autograd can differentiate [our LayerNorm](index.md) for us, but it does so by keeping the
intermediates of the forward pass that its backward formulas need alive until the backward
pass (`_test()` measures three times the bytes of the input for a `(64, 1024)` one). A
hand-written backward needs far less, and its formula explains two facts about LayerNorm's
gradients that are worth knowing. apex's fused CUDA kernel computes $dx$ in the compact form
derived below
([`cuComputeGradInput`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L748-L773)),
with one difference: in the term $\gamma_j\,dy_j$ it replaces $\gamma_j$ by
`clamp_by_magnitude(γ_j)`, which is $\pm\epsilon$ when $|\gamma_j| < \epsilon$
([L755-L756](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L755-L756)),
while its two row sums use $\gamma$ as it is
([L623-L633](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L623-L633)).
So for such a $\gamma_j$ apex's $dx_j$ is off by $dy_j\,(\pm\epsilon - \gamma_j)/\sigma$, whether
it saved $x$ or $y$; this page's functions use the unclamped $\gamma$ there, and `_test()`
compares them with a simulation of apex's formula. [Ours in Triton](../kernels/triton_layer_norm.md)
uses the compact form too. PyTorch's 2019 CPU kernel
wrote the same gradient as $a\,\gamma\,dy + b\,x + c$ with per-row $a, b, c$
([`layer_norm_kernel.cpp`](https://github.com/pytorch/pytorch/blob/0354b60c4e0ee0cb32307500f92bb03e8d0ed344/aten/src/ATen/native/cpu/layer_norm_kernel.cpp#L111-L126));
we have not read the 2.13 kernels' backward.

### Notation

For one row of $H$ normalized elements (the product of `normalized_shape`), with $\sigma =
\sqrt{\mathrm{Var}[x] + \epsilon}$ (biased variance):

$$\hat{x}_i = \frac{x_i - \mu}{\sigma} \qquad y_i = \gamma_i \hat{x}_i + \beta_i$$

The upstream gradient is $dy_i = \partial L / \partial y_i$. Write $g_i = \gamma_i\,dy_i$, the
gradient with respect to $\hat{x}_i$.

What you will learn:

* the gradients of $\gamma$, $\beta$ and $x$, derived [step by step](#the-input-step-by-step);
* [an autograd function](#the-autograd-function) that saves $x$ and two numbers per row;
* why $dx$ sums to zero and is orthogonal to $\hat{x}$: [two facts](#two-facts-the-formula-shows);
* what saving the output instead costs: [dividing by γ](#the-caveat-dividing-by);
* what $\epsilon$ does to a
  [near-constant row](#a-near-constant-row-measured-cpu-1e-5-the-default).
"""

import math
from typing import Optional, Tuple

import torch

from labml_nn_norm._check import check, check_close, check_group, check_raises
from labml_nn_norm.layer_norm import (
    _shape_t,
    check_normalized_shape,
    normalized_shape_tuple,
    statistics_dtype,
)

# ### The parameters
#
# $\gamma$ and $\beta$ are shared by every row, so their gradients sum over the rows $r$:
#
# $$\frac{\partial L}{\partial \gamma_i} = \sum_r dy_{r,i}\,\hat{x}_{r,i} \qquad
# \frac{\partial L}{\partial \beta_i} = \sum_r dy_{r,i}$$
#
# ### The input, step by step
#
# $x_j$ reaches $\hat{x}_i$ three ways: directly, through $\mu$ and through $\sigma$. The pieces are
#
# $$\frac{\partial \mu}{\partial x_j} = \frac{1}{H} \qquad
# \frac{\partial \sigma}{\partial x_j}
# = \frac{1}{2\sigma}\cdot\frac{2}{H}\sum_k (x_k - \mu)\Big(\delta_{kj} - \frac{1}{H}\Big)
# = \frac{x_j - \mu}{H\sigma} = \frac{\hat{x}_j}{H}$$
#
# (the $\frac{1}{H}$ term vanishes because deviations from the mean sum to zero). Then
#
# $$\frac{\partial \hat{x}_i}{\partial x_j} = \frac{1}{\sigma}\Big(\delta_{ij} - \frac{1}{H}\Big)
# - \frac{x_i - \mu}{\sigma^2}\cdot\frac{\hat{x}_j}{H}
# = \frac{1}{\sigma}\Big(\delta_{ij} - \frac{1}{H} - \frac{\hat{x}_i \hat{x}_j}{H}\Big)$$
#
# and the chain rule $dx_j = \sum_i g_i\,\partial \hat{x}_i / \partial x_j$ gives the compact form
#
# $$dx_j = \frac{1}{\sigma}\Big(g_j - \overline{g} - \hat{x}_j\,\overline{g\hat{x}}\Big)
# \qquad \overline{g} = \frac{1}{H}\sum_i g_i
# \qquad \overline{g\hat{x}} = \frac{1}{H}\sum_i g_i \hat{x}_i$$
#
# Two row reductions, $\overline{g}$ and $\overline{g\hat{x}}$, and one elementwise pass: the
# backward kernel has the same shape as the forward one.

class LayerNormFunction(torch.autograd.Function):
    r"""
    ## The autograd function

    **What it saves**: the input $x$ (in its own dtype), `weight`, and per row the mean $\mu$ and
    $1/\sigma$ in the dtype the statistics were computed in: `float32` for `float16`, `bfloat16`
    and `float32` inputs, `float64` for `float64` inputs (`_test()` asserts both). That is
    $H + 2$ numbers per row rather than the several full-size intermediates autograd keeps.
    $\hat{x}$ is recomputed in the backward pass (one subtraction and one multiplication per
    element). Saving $\hat{x}$ in `float32` instead would also work, but it is twice the bytes of
    a half-precision input.

    PyTorch saves the same things: its backward formula
    ([`derivatives.yaml`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/tools/autograd/derivatives.yaml#L1274-L1276))
    takes `input`, `weight`, `bias` and the forward's second and third outputs, `mean` and `rstd`.
    Their dtype differs by device. The CPU kernel allocates them in the input's dtype, or in
    `float32` when a half-precision input comes with `float32` parameters
    ([`layer_norm.cpp`](https://github.com/pytorch/pytorch/blob/3de78edb07f16b05fe8af347d4e2d1d495873d85/aten/src/ATen/native/layer_norm.cpp#L110-L112)),
    so a `bfloat16` input with `bfloat16` parameters gets `bfloat16` statistics (asserted below).
    The CUDA kernel (`layer_norm_cuda` in `aten/src/ATen/native/cuda/layer_norm_kernel.cu`, read
    at commit `bad757be`) allocates them in the accumulate type: `float32` for half precision,
    `float64` for `float64`. We had no GPU to run that one.
    """
    @staticmethod
    def forward(ctx, x: torch.Tensor, normalized_shape: tuple, weight: Optional[torch.Tensor],
                bias: Optional[torch.Tensor], eps: float) -> torch.Tensor:
        # View the input as (rows, cols): cols $= H$, the elements normalized together
        H = math.prod(normalized_shape)
        rows = x.reshape(-1, H)
        # Statistics in float32 for half-precision inputs, as in the forward page
        compute_dtype = statistics_dtype(x.dtype)
        xc = rows.to(compute_dtype)
        mean = xc.mean(-1, keepdim=True)
        rstd = torch.rsqrt((xc - mean).square().mean(-1, keepdim=True) + eps)
        x_hat = (xc - mean) * rstd
        #
        y = x_hat
        if weight is not None:
            y = y * weight.reshape(H).to(compute_dtype)
        if bias is not None:
            y = y + bias.reshape(H).to(compute_dtype)
        ctx.save_for_backward(x, mean, rstd, weight)
        ctx.has_bias = bias is not None
        ctx.normalized_shape = normalized_shape
        return y.reshape(x.shape).to(x.dtype)

    @staticmethod
    def backward(ctx, dy: torch.Tensor):
        x, mean, rstd, weight = ctx.saved_tensors
        H = math.prod(ctx.normalized_shape)
        compute_dtype = mean.dtype
        # Recompute $\hat{x}$ from the saved input and the two per-row numbers
        x_hat = (x.reshape(-1, H).to(compute_dtype) - mean) * rstd
        dy = dy.reshape(-1, H).to(compute_dtype)
        #
        # $g = \gamma \cdot dy$, the gradient with respect to $\hat{x}$
        g = dy * weight.reshape(H).to(compute_dtype) if weight is not None else dy
        dx = dweight = dbias = None
        if ctx.needs_input_grad[0]:
            # $dx = \frac{1}{\sigma}\big(g - \overline{g} - \hat{x}\,\overline{g\hat{x}}\big)$:
            # two row means
            g_mean = g.mean(-1, keepdim=True)
            g_x_hat_mean = (g * x_hat).mean(-1, keepdim=True)
            dx = rstd * (g - g_mean - x_hat * g_x_hat_mean)
            dx = dx.reshape(x.shape).to(x.dtype)
        #
        # $\partial L / \partial \gamma = \sum_r dy \cdot \hat{x}$ and
        # $\partial L / \partial \beta = \sum_r dy$, summed over the rows, in the parameters'
        # shape and dtype
        if weight is not None and ctx.needs_input_grad[2]:
            dweight = (dy * x_hat).sum(0).reshape(ctx.normalized_shape).to(weight.dtype)
        if ctx.has_bias and ctx.needs_input_grad[3]:
            param_dtype = weight.dtype if weight is not None else x.dtype
            dbias = dy.sum(0).reshape(ctx.normalized_shape).to(param_dtype)
        # No gradients for `normalized_shape` and `eps`
        return dx, None, dweight, dbias, None


def _clamp_by_magnitude(gamma: torch.Tensor, eps: float) -> torch.Tensor:
    # apex's rule: a $\gamma_i$ with $|\gamma_i| < \epsilon$ becomes $\pm\epsilon$ (its sign,
    # $+$ for 0)
    floor = torch.where(gamma >= 0, torch.full_like(gamma, eps), torch.full_like(gamma, -eps))
    return torch.where(gamma.abs() < eps, floor, gamma)


class LayerNormFromOutputFunction(torch.autograd.Function):
    r"""
    ## Saving the output instead: apex's `memory_efficient=True`

    apex's `FusedLayerNorm(..., memory_efficient=True)` saves the *output* $y$, `weight`, `bias`
    and $1/\sigma$, not the input and the mean
    ([`fused_layer_norm.py`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/normalization/fused_layer_norm.py#L53-L56)),
    and its backward kernel recovers $\hat{x} = (y - \beta)/\gamma$
    ([`layer_norm_cuda_kernel.cu`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L414-L416),
    and [L760-L761](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L760-L761)
    for $dx$).
    The row sum $\sum_i g_i\hat{x}_i$ needs no division: it is $\sum_i dy_i\,(y_i - \beta_i)$
    ([L630](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L630)).
    This function computes the row sum the same way, in PyTorch.

    Why it saves memory: the layer after LayerNorm (a `Linear`, say) keeps $y$ for its own
    backward pass anyway, so $x$ can be freed; `_test()` counts the distinct bytes held for
    LayerNorm followed by a `Linear` both ways.

    **The caveat is the division by $\gamma$.** apex avoids dividing by zero by replacing any
    $|\gamma_i| < \epsilon$ with $\pm\epsilon$
    ([`clamp_by_magnitude`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L378-L394);
    the $\epsilon$ is the layer's own, [L892](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L892)),
    and we copy that rule for $\hat{x}$ (in $g = \gamma\,dy$ we keep the true $\gamma$, where apex
    uses the clamped one, as for the $x$-saving kernel above). For such an element the recovered
    $\hat{x}_i$ is wrong (for $\gamma_i = 0$ it is $0$), and so are $d\gamma_i$ and $dx$. For
    small $\gamma_i$ above $\epsilon$ the division amplifies the rounding of $y$: when
    $|\beta_i| \gg |\gamma_i\hat{x}_i|$, $y_i - \beta_i$ keeps few correct bits. `_test()`
    measures both.
    """
    @staticmethod
    def forward(ctx, x: torch.Tensor, normalized_shape: tuple, weight: Optional[torch.Tensor],
                bias: Optional[torch.Tensor], eps: float) -> torch.Tensor:
        # The forward pass is the one of `LayerNormFunction`; only what is saved differs
        H = math.prod(normalized_shape)
        compute_dtype = statistics_dtype(x.dtype)
        xc = x.reshape(-1, H).to(compute_dtype)
        mean = xc.mean(-1, keepdim=True)
        rstd = torch.rsqrt((xc - mean).square().mean(-1, keepdim=True) + eps)
        y = (xc - mean) * rstd
        if weight is not None:
            y = y * weight.reshape(H).to(compute_dtype)
        if bias is not None:
            y = y + bias.reshape(H).to(compute_dtype)
        out = y.reshape(x.shape).to(x.dtype)
        # Save the output (in the input's dtype, as it is returned), not $x$ and $\mu$
        ctx.save_for_backward(out, rstd, weight, bias)
        ctx.normalized_shape, ctx.eps = normalized_shape, eps
        return out

    @staticmethod
    def backward(ctx, dy: torch.Tensor):
        out, rstd, weight, bias = ctx.saved_tensors
        H = math.prod(ctx.normalized_shape)
        cd = rstd.dtype
        # $y - \beta = \gamma\hat{x}$
        y_minus_beta = out.reshape(-1, H).to(cd)
        if bias is not None:
            y_minus_beta = y_minus_beta - bias.reshape(H).to(cd)
        dy = dy.reshape(-1, H).to(cd)
        # $\hat{x} = (y - \beta)/\gamma$, with apex's clamp; without `weight`, $y - \beta$ is
        # $\hat{x}$
        if weight is not None:
            gamma = weight.reshape(H).to(cd)
            x_hat = y_minus_beta / _clamp_by_magnitude(gamma, ctx.eps)
            g = dy * gamma
        else:
            x_hat, g = y_minus_beta, dy
        # $\overline{g\hat{x}} = \frac{1}{H}\sum_i dy_i (y_i - \beta_i)$: no division needed
        g_x_hat_mean = (dy * y_minus_beta).mean(-1, keepdim=True)
        dx = rstd * (g - g.mean(-1, keepdim=True) - x_hat * g_x_hat_mean)
        dx = dx.reshape(out.shape).to(out.dtype)
        dweight = dbias = None
        if weight is not None and ctx.needs_input_grad[2]:
            dweight = (dy * x_hat).sum(0).reshape(ctx.normalized_shape).to(weight.dtype)
        if bias is not None and ctx.needs_input_grad[3]:
            dbias = dy.sum(0).reshape(ctx.normalized_shape).to(bias.dtype)
        return dx, None, dweight, dbias, None


def layer_norm_manual(input: torch.Tensor, normalized_shape: _shape_t,
                      weight: Optional[torch.Tensor] = None,
                      bias: Optional[torch.Tensor] = None, eps: float = 1e-5,
                      memory_efficient: bool = False) -> torch.Tensor:
    """
    ## The functional form

    Same contract and the same input checks as [`layer_norm`](index.md). `memory_efficient=True`
    saves the output instead of the input, as apex's flag of the same name does.
    """
    shape = normalized_shape_tuple(normalized_shape)
    check_normalized_shape(input, shape, weight, bias)
    fn = LayerNormFromOutputFunction if memory_efficient else LayerNormFunction
    return fn.apply(input, shape, weight, bias, eps)


def saved_bytes(fn, *args, distinct: bool = False) -> int:
    """
    ### Measuring what is saved for backward

    `saved_tensors_hooks` sees every tensor autograd packs for the backward pass; we add up their
    sizes (a tensor saved twice counts twice, as it would if it were a fresh intermediate).
    With `distinct=True` a storage saved twice counts once: the memory actually held.
    """
    total, seen = 0, set()

    def pack(t: torch.Tensor):
        nonlocal total
        key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        if not distinct or key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*args)
    return total


def saved_for_backward(x: torch.Tensor, weight: torch.Tensor) -> list:
    """
    ## The data flow, drawn

    What `LayerNormFunction` actually saves, caught with `saved_tensors_hooks` as `saved_bytes`
    does: the shape and dtype of each tensor, in the order `forward` saves them ($x$, $\\mu$,
    $1/\\sigma$, $\\gamma$).
    """
    saved = []

    def pack(t: torch.Tensor):
        saved.append((tuple(t.shape), str(t.dtype).replace('torch.', '')))
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer_norm_manual(x.requires_grad_(), x.shape[-1], weight.requires_grad_())
    return saved


def gradient_angles(x: torch.Tensor, weight: torch.Tensor, seed: int = 0) -> Tuple[float, float]:
    # The largest $|\cos|$ between a row of $dx$ and $\mathbf{1}$, and between it and $\hat{x}$,
    # in `float64` with $\epsilon = 0$, for a random $dy$
    x = x.detach().double().requires_grad_()
    dy = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=x.dtype)
    layer_norm_manual(x, x.shape[-1], weight.detach().double(), eps=0.0).backward(dy)
    x_hat = (x - x.mean(-1, keepdim=True)) / x.std(-1, unbiased=False, keepdim=True)
    cos = torch.nn.functional.cosine_similarity
    return (cos(x.grad, torch.ones_like(x), dim=-1).abs().max().item(),
            cos(x.grad, x_hat.detach(), dim=-1).abs().max().item())


def figure_data_flow(x: torch.Tensor, weight: torch.Tensor) -> str:
    r"""
    Four columns, left to right: what the forward saved (and the incoming $dy$), what the
    backward recomputes from it, the two row sums, and $dx$. Arrows are the dependencies of the
    code above.
    """
    from html import escape

    from labml_nn_norm.layer_norm import FIGURE_COLOURS, svg_figure

    c = FIGURE_COLOURS
    saved = saved_for_backward(x.detach().clone(), weight.detach().clone())
    names = ('x', 'μ', '1/σ', 'γ')
    rows, H = x.shape[0], x.shape[-1]
    per_row = sum(math.prod(s) for s, _ in saved[:3]) // rows
    boxes = {n: (10, 30 + 36 * k, 140, 28, c['blue'], f'{n}  {s}  {d}'.replace(',)', ')'))
             for k, (n, (s, d)) in enumerate(zip(names, saved))}
    boxes['dy'] = (10, 30 + 36 * 4, 140, 28, c['grey'], f'dy  {tuple(x.shape)}')
    boxes.update({
        'x̂': (200, 66, 120, 28, c['orange'], 'x̂ = (x − μ) · 1/σ'),
        'g': (200, 156, 120, 28, c['orange'], 'g = γ · dy'),
        'Σg': (370, 138, 100, 28, c['purple'], f'Σⱼ gⱼ  ({rows}, 1)'),
        'Σgx̂': (370, 84, 100, 28, c['purple'], f'Σⱼ gⱼ x̂ⱼ  ({rows}, 1)'),
        'dx': (510, 92, 110, 48, c['green'], 'dx'),
    })
    edges = [('x', 'x̂'), ('μ', 'x̂'), ('1/σ', 'x̂'), ('γ', 'g'), ('dy', 'g'), ('x̂', 'Σgx̂'),
             ('g', 'Σgx̂'), ('g', 'Σg'), ('Σgx̂', 'dx'), ('Σg', 'dx')]
    out = ['<defs><marker id="data-flow-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
           'markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" '
           'fill="currentColor"/></marker></defs>']
    for a, b in edges:
        xa, ya, wa, ha = boxes[a][:4]
        xb, yb, _, hb = boxes[b][:4]
        out.append(f'<path d="M{xa + wa},{ya + ha / 2}L{xb - 2},{yb + hb / 2}" '
                   f'stroke="currentColor" stroke-opacity="0.6" '
                   f'marker-end="url(#data-flow-arrow)"/>')
    for name, (bx, by, bw, bh, colour, text) in boxes.items():
        out.append(f'<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" rx="4" '
                   f'fill="{colour}" fill-opacity="0.15" stroke="{colour}"/>'
                   f'<text x="{bx + bw / 2}" y="{by + 18}" text-anchor="middle">'
                   f'{escape(text)}</text>')
    out.append('<text x="565" y="128" text-anchor="middle" font-size="11">⊥ 1, ⊥ x̂</text>')
    for cx, text in ((80, 'saved'), (260, 'recomputed'), (420, 'row sums'), (565, 'output')):
        out.append(f'<text x="{cx}" y="16" text-anchor="middle" font-weight="bold">{text}</text>')
    cos_one, cos_hat = gradient_angles(x, weight)
    label = (f'Data flow of the backward pass for a {tuple(x.shape)} input: the saved x, μ, '
             f'1/σ and γ and the incoming dy give x̂ and g = γ·dy, then two row sums, of g and of '
             f'g·x̂, and from them dx.')
    caption = (f'The forward saves x, μ and 1/σ, {per_row} = H + 2 numbers per row for '
               f'H = {H}, plus γ; the backward recomputes x̂ and g and reduces each row only '
               f'twice, to Σg and Σg·x̂, and its dx is orthogonal to 1 and to x̂ '
               f'(largest |cos| {max(cos_one, cos_hat):.0e}).')
    return svg_figure(''.join(out), 630, 210, label, caption)


@check_group(fold=True)
def _check_gradcheck():
    """
    ## `gradcheck` (float64): numerical vs analytical gradients, every flag combination

    In `float64`, numerical against analytical gradients, for every combination of flags.
    """
    for shape, ns in (((3, 5), (5,)), ((2, 3, 4), (3, 4)), ((2, 2, 3, 4), (2, 3, 4))):
        passed = []
        for affine, with_bias in ((True, True), (True, False), (False, False)):
            x = (torch.randn(shape, dtype=torch.float64) * 2 + 3).requires_grad_()
            w = torch.randn(ns, dtype=torch.float64, requires_grad=True) if affine else None
            b = torch.randn(ns, dtype=torch.float64, requires_grad=True) if with_bias else None
            inputs = [t for t in (x, w, b) if t is not None]

            def fn(*ts, _w=w, _b=b):
                it = iter(ts)
                xx = next(it)
                return layer_norm_manual(xx, ns, next(it) if _w is not None else None,
                                         next(it) if _b is not None else None)
            passed.append(torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5,
                                                   raise_exception=False))
        check(f'input {shape}, normalized_shape={ns}: affine, no bias, no affine', all(passed))


@check_group(fold=True)
def _check_against_torch():
    r"""
    ## Same output and gradients as `F.layer_norm` (float32; bfloat16 within 2x of its error)

    In `float32` to within rounding. In `bfloat16` both round the gradients to 8 significant bits
    (and sum $d\gamma$ over 28 rows), so we compare each with `float64` arithmetic on the same
    `bfloat16` numbers: ours must be within twice PyTorch's error.
    """
    import torch.nn.functional as F

    x = torch.randn(4, 7, 32) * 3 + 20
    w, b = torch.randn(32), torch.randn(32)
    ours = [t.clone().requires_grad_() for t in (x, w, b)]
    ref = [t.clone().requires_grad_() for t in (x, w, b)]
    y = layer_norm_manual(ours[0], 32, ours[1], ours[2])
    y_ref = F.layer_norm(ref[0], (32,), ref[1], ref[2])
    dy = torch.randn_like(y)
    y.backward(dy)
    y_ref.backward(dy)
    check_close('float32: output', y, y_ref)
    check_close('float32: dx, dγ, dβ', [t.grad for t in ours], [t.grad for t in ref])
    #
    # `bfloat16`: each one's relative error against `float64` on the same numbers
    half = [t.bfloat16() for t in (x, w, b)]
    exact = [t.double().requires_grad_() for t in half]
    F.layer_norm(exact[0], (32,), exact[1], exact[2]).backward(dy.bfloat16().double())
    for name, fn in (('ours', lambda *t: layer_norm_manual(t[0], 32, t[1], t[2])),
                     ('F.layer_norm', lambda *t: F.layer_norm(t[0], (32,), t[1], t[2]))):
        ts = [t.clone().requires_grad_() for t in half]
        fn(*ts).backward(dy.bfloat16())
        errs = [((t.grad.double() - e.grad).abs().max() / e.grad.abs().max()).item()
                for t, e in zip(ts, exact)]
        if name == 'ours':
            ours_errs = errs
    check('bfloat16: dx, dγ, dβ as close to float64 as PyTorch\'s (within 2x)',
          all(o <= 2 * t for o, t in zip(ours_errs, errs)),
          'relative errors ours ' + ', '.join(f'{e:.1e}' for e in ours_errs) +
          ' / PyTorch ' + ', '.join(f'{e:.1e}' for e in errs))


# ### Two facts the formula shows
#
# * **$\sum_j dx_j = 0$.** Sum the bracket:
#   $\sum_j g_j - H\overline{g} - \overline{g\hat{x}}\sum_j \hat{x}_j = 0 - 0$, since
#   $\sum_j \hat{x}_j = 0$. Adding a constant to a row does not change its output (the mean
#   absorbs it), so the loss cannot depend on that direction.
# * **$dx \perp \hat{x}$.**
#   $\sum_j \hat{x}_j dx_j \propto \sum_j g_j\hat{x}_j - \overline{g}\sum_j \hat{x}_j -
#   \overline{g\hat{x}}\sum_j \hat{x}_j^2 = H\overline{g\hat{x}} - 0 -
#   \overline{g\hat{x}}\cdot H = 0$
#   (using $\sum_j \hat{x}_j^2 = H\,\mathrm{Var}[x]/\sigma^2 \approx H$, exact as
#   $\epsilon \to 0$). Scaling a row does not change its output either, so the gradient has no
#   component along the row's own direction.
#
# Together: $\sigma\,dx$ is $g$ with its components along $\mathbf{1}$ and along $\hat{x}$
# removed, the projection of $g$ onto the directions orthogonal to both ($\mathbf{1} \perp
# \hat{x}$, and both have squared norm $H$ for $\epsilon = 0$). The figure shows what that costs
# in the code below, drawn from `LayerNormFunction` with `saved_tensors_hooks`:
#
# {{ data_flow }}

@check_group
def _check_two_facts():
    r"""
    #### The two facts, measured

    On every row, $\sum_j dx_j = 0$ and $dx \perp \hat{x}$ (the latter up to $\epsilon$).
    """
    import torch.nn.functional as F

    x = (torch.randn(6, 64, dtype=torch.float64) * 2 + 5).requires_grad_()
    w = torch.randn(64, dtype=torch.float64)
    layer_norm_manual(x, 64, w).backward(torch.randn(6, 64, dtype=torch.float64))
    x_hat = F.layer_norm(x.detach(), (64,))
    row_sums = x.grad.sum(-1).abs().max().item()
    dots = (x.grad * x_hat).sum(-1).abs().max().item()
    scale = x.grad.abs().sum(-1).max().item()
    check('Σ_j dx_j = 0 on every row', row_sums < 1e-12 * scale + 1e-13,
          f'max |Σ dx| = {row_sums:.1e} (Σ|dx| ~ {scale:.1f})')
    check('dx ⟂ x̂ on every row', dots < 1e-6 * scale,
          f'max |dx·x̂| = {dots:.1e} (ε makes it not exactly 0)')


@check_group(fold=True)
def _check_saved_dtypes():
    r"""
    ## The dtypes of the saved mean and 1/σ: ours and PyTorch's CPU kernel

    Ours saves $\mu$ and $1/\sigma$ in the dtype of the statistics. PyTorch's CPU kernel saves
    them in the input's dtype, or `float32` for half precision with `float32` parameters.
    """
    for dtype, stat_dtype in ((torch.float64, torch.float64), (torch.float32, torch.float32),
                              (torch.bfloat16, torch.float32)):
        x = torch.randn(3, 8, dtype=dtype, requires_grad=True)
        w = torch.ones(8, dtype=dtype, requires_grad=True)
        y = layer_norm_manual(x, 8, w)
        _, mean, rstd, _ = y.grad_fn.saved_tensors
        check(f'ours, {dtype} input: mean and 1/σ saved in {stat_dtype}',
              mean.dtype == rstd.dtype == stat_dtype, f'{mean.dtype}, {rstd.dtype}')
    # PyTorch's CPU kernel
    for dtype, param_dtype, expected in ((torch.float64, torch.float64, torch.float64),
                                         (torch.bfloat16, torch.bfloat16, torch.bfloat16),
                                         (torch.bfloat16, torch.float32, torch.float32)):
        _, mean, rstd = torch.native_layer_norm(torch.randn(3, 8, dtype=dtype), [8],
                                                torch.ones(8, dtype=param_dtype), None, 1e-5)
        check(f'PyTorch CPU, {dtype} input, {param_dtype} weight: mean and rstd in {expected}',
              mean.dtype == rstd.dtype == expected, f'{mean.dtype}, {rstd.dtype}')


@check_group
def _check_saved_bytes():
    """
    ## Bytes saved for the backward pass, input (64, 1024) float32

    Ours against autograd through the plain forward of [`layer_norm`](index.md), and
    `F.layer_norm` for comparison.
    """
    import torch.nn.functional as F

    from labml_nn_norm.layer_norm import layer_norm

    x = torch.randn(64, 1024, requires_grad=True)
    w, b = torch.ones(1024, requires_grad=True), torch.zeros(1024, requires_grad=True)
    manual = saved_bytes(layer_norm_manual, x, 1024, w, b)
    naive = saved_bytes(layer_norm, x, 1024, w, b)
    native = saved_bytes(F.layer_norm, x, (1024,), w, b)
    check('manual Function saves less than autograd through the plain forward', manual < naive,
          f'manual {manual / 1024:.0f} KiB, autograd through layer_norm {naive / 1024:.0f} KiB, '
          f'F.layer_norm {native / 1024:.0f} KiB')
    check('autograd through the plain forward: about 3x the input', 2.5 < naive / x.nbytes < 3.5,
          f'{naive / x.nbytes:.2f}x')


@check_group(fold=True)
def _check_errors():
    """
    ## Errors: bad shapes are rejected as in `layer_norm`
    """
    check_raises('bad shapes are rejected as in layer_norm', ValueError, layer_norm_manual,
                 torch.randn(3, 5), 4, match='[*, 4]')


def _apex_case():
    # One `float64` case, $(8, 32)$, for the two groups below: $x$, $\gamma$, $\beta$ and $dy$
    x = (torch.randn(8, 32, dtype=torch.float64) * 2 + 3).requires_grad_()
    w = (torch.randn(32, dtype=torch.float64)).requires_grad_()
    b = torch.randn(32, dtype=torch.float64, requires_grad=True)
    dy = torch.randn(8, 32, dtype=torch.float64)
    return x, w, b, dy


def _grads_both_ways(x, w, b, dy):
    # $dx$, $d\gamma$, $d\beta$ from the $x$-saving and the $y$-saving functions
    grads = []
    for me in (False, True):
        ts = [t.detach().clone().requires_grad_() for t in (x, w, b)]
        layer_norm_manual(ts[0], 32, ts[1], ts[2], memory_efficient=me).backward(dy)
        grads.append([t.grad for t in ts])
    return grads


@check_group
def _check_memory_efficient(x, w, b, dy):
    """
    ## Saving the output: same gradients, `gradcheck`, bytes held before a `Linear`

    apex's `memory_efficient=True`, followed by a `Linear` that saves its input ($y$) anyway.
    """
    grads = _grads_both_ways(x, w, b, dy)
    check_close('float64, random γ: dx, dγ, dβ equal to the x-saving version', grads[1], grads[0],
                rtol=1e-10, atol=1e-12)

    def y_saving(inp, weight, bias):
        return layer_norm_manual(inp, 32, weight, bias, memory_efficient=True)

    ok = torch.autograd.gradcheck(y_saving, (x, w, b), eps=1e-6, atol=1e-5, raise_exception=False)
    check('gradcheck, memory_efficient=True', ok)
    #
    # The distinct bytes held by LayerNorm followed by a `Linear`, both ways
    lin = torch.nn.Linear(1024, 16)
    xs = torch.randn(64, 1024, requires_grad=True)
    ws, bs = torch.ones(1024, requires_grad=True), torch.zeros(1024, requires_grad=True)
    held = []
    for me in (False, True):
        def ln_linear(inp, weight, bias, _me=me):
            return lin(layer_norm_manual(inp, 1024, weight, bias, memory_efficient=_me))
        held.append(saved_bytes(ln_linear, xs, ws, bs, distinct=True))
    act = [h - lin.weight.nbytes for h in held]
    check('LayerNorm -> Linear, distinct bytes held besides the Linear\'s weight: '
          'saving y holds one activation, not two',
          act[1] < 0.6 * act[0] and act[0] > 2 * xs.nbytes,
          f'x-saving {act[0] / 1024:.0f} KiB, y-saving {act[1] / 1024:.0f} KiB '
          f'(one activation: {xs.nbytes / 1024:.0f} KiB)')


@check_group
def _check_division_by_gamma(x, w, b, dy):
    r"""
    ## The caveat: dividing by γ

    $\gamma_0 = 0$: apex's clamp makes the recovered $\hat{x}_0 = 0$, so $d\gamma_0 = 0$, while
    the true $d\gamma_0 = \sum_r dy_{r,0}\hat{x}_{r,0}$ is not.
    """
    w0 = w.detach().clone()
    w0[0] = 0.0
    grads = _grads_both_ways(x, w0, b, dy)
    check('γ_0 = 0: saving y gives dγ_0 = 0, saving x gives the true, non-zero dγ_0',
          grads[1][1][0].item() == 0.0 and abs(grads[0][1][0].item()) > 0.1,
          f'{grads[1][1][0].item()} vs {grads[0][1][0].item():.3f}')
    dx_err = (grads[1][0] - grads[0][0]).abs().max().item()
    check('γ_0 = 0: dx is wrong too', dx_err > 1e-2, f'max |Δdx| = {dx_err:.2e}')
    #
    # Small $\gamma_0 = 10^{-4}$ (above $\epsilon = 10^{-5}$) with $\beta_0 = 100$, in `float32`:
    # $y_0$ is $100$ plus about $10^{-4}$, its rounding step is $2^{-17} \approx 7.6 \cdot 10^{-6}$,
    # and that divided by $10^{-4}$ lands in $\hat{x}_0$
    w_small, b_big = w.detach().clone(), b.detach().clone()
    w_small[0], b_big[0] = 1e-4, 100.0
    exact = [t.clone().requires_grad_() for t in (x.detach(), w_small, b_big)]
    layer_norm_manual(exact[0], 32, exact[1], exact[2]).backward(dy)
    exact_dgamma = exact[1].grad[0].item()
    errs = []
    for me in (False, True):
        ts = [t.detach().float().requires_grad_() for t in (x, w_small, b_big)]
        layer_norm_manual(ts[0], 32, ts[1], ts[2], memory_efficient=me).backward(dy.float())
        errs.append(abs(ts[1].grad[0].item() - exact_dgamma) / abs(exact_dgamma))
    check('float32, γ_0 = 1e-4, β_0 = 100: relative error of dγ_0 over 100x larger when saving y',
          errs[1] > 100 * errs[0], f'saving x {errs[0]:.1e}, saving y {errs[1]:.1e}')


def _apex_grad_input(saved: torch.Tensor, dy: torch.Tensor, mean: Optional[torch.Tensor],
                     rstd: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
                     eps: float) -> torch.Tensor:
    r"""
    ### apex's input gradient, simulated

    `cuComputeGradInput` line for line, rows at once (`saved` is $x$, or $y$ when `mean` is
    `None`, apex's `memory_efficient=True`). The two row sums use $\gamma$; the term
    $H\,dy_j\,\gamma_j$ and the division by $\gamma$ use the clamped one.
    """
    H = saved.shape[-1]
    if mean is None:
        # `sum_loss2` $= \sum dy\,(y - \beta)$, and $\hat{x} = (y - \beta)/\text{clamp}(\gamma)$
        sum_loss2 = (dy * (saved - beta)).sum(-1, keepdim=True)
        x_hat = (saved - beta) / _clamp_by_magnitude(gamma, eps)
    else:
        x_hat = (saved - mean) * rstd
        sum_loss2 = (dy * gamma * x_hat).sum(-1, keepdim=True)
    sum_loss1 = (dy * gamma).sum(-1, keepdim=True)
    grad = H * dy * _clamp_by_magnitude(gamma, eps) - sum_loss1 - x_hat * sum_loss2
    return grad * rstd / H


@check_group(fold=True)
def _check_apex_formula(x, w, b, dy):
    r"""
    ## apex's dx, simulated (float64): the clamped γ in the term γ·dy

    With every $|\gamma_j| \ge \epsilon$ the simulated apex formula gives this page's $dx$, in both
    modes. With $\gamma_0 = 0$ it differs in column 0 only, by $dy_{r,0}\,\epsilon/\sigma_r$
    exactly, even when it saves $x$, while this page's $x$-saving $dx$ stays the true gradient.
    """
    import torch.nn.functional as F

    eps = 1e-5
    xd, wd, bd = x.detach(), w.detach(), b.detach()
    mean = xd.mean(-1, keepdim=True)
    rstd = torch.rsqrt(xd.var(-1, unbiased=False, keepdim=True) + eps)
    y = F.layer_norm(xd, (32,), wd, bd, eps)
    ours = _grads_both_ways(x, w, b, dy)
    check_close('random γ (all |γ| ≥ ε): apex saving x == ours', _apex_grad_input(
        xd, dy, mean, rstd, wd, bd, eps), ours[0][0], rtol=1e-10, atol=1e-12)
    check_close('random γ: apex saving y == ours saving y', _apex_grad_input(
        y, dy, None, rstd, wd, bd, eps), ours[1][0], rtol=1e-10, atol=1e-12)
    #
    # $\gamma_0 = 0$: the true gradient from autograd through `F.layer_norm`
    w0 = wd.clone()
    w0[0] = 0.0
    x_true = xd.clone().requires_grad_()
    F.layer_norm(x_true, (32,), w0, bd, eps).backward(dy)
    ours_x = _grads_both_ways(x, w0, b, dy)[0][0]
    check_close('γ_0 = 0: ours saving x == autograd through F.layer_norm', ours_x, x_true.grad,
                rtol=1e-10, atol=1e-12)
    apex_x = _apex_grad_input(xd, dy, mean, rstd, w0, bd, eps)
    diff = apex_x - x_true.grad
    check_close('γ_0 = 0: apex saving x is off by dy·ε/σ in column 0', diff[:, 0],
                dy[:, 0] * eps * rstd[:, 0], rtol=1e-6, atol=1e-15)
    elsewhere = diff[:, 1:].abs().max().item()
    check('γ_0 = 0: apex saving x equals the true dx in columns 1-31', elsewhere < 1e-12,
          f'max |Δ| = {elsewhere:.1e}')


# ### $\epsilon$ on a near-constant row
#
# $\epsilon$ does more than keep $1/\sigma$ finite. When a row's variance is much smaller than
# $\epsilon$, $\sigma \approx \sqrt{\epsilon}$, and the same formulas say what happens:
# $\hat{x}$ is squeezed towards 0, so the output is close to $\beta$ (exactly $\beta$ for a constant
# row), and $dx = (g - \overline{g} - \hat{x}\,\overline{g\hat{x}})/\sigma$ is close to
# $(g - \overline{g})/\sqrt{\epsilon}$: at $\epsilon = 10^{-5}$ the gradient that reaches the input
# is about $1/\sqrt{10^{-5}} \approx 316$ times the centred gradient at the output. `_test()`
# measures both on the CPU, with `F.layer_norm` and with this page's function.
#
# The $\epsilon$ that real code uses differs by orders of magnitude: PyTorch's `nn.LayerNorm`
# defaults to $10^{-5}$ (asserted on the installed torch), Hugging Face's BERT configuration to
# $10^{-12}$ ([`configuration_bert.py#L133`](https://github.com/huggingface/transformers/blob/6294b787a53ad369e4f372983188d5bd31a45e8d/src/transformers/models/bert/configuration_bert.py#L133)),
# and Meta's Llama reference code builds its RMSNorm layers with `norm_eps`, which defaults to
# $10^{-5}$ ([`model.py#L28`](https://github.com/meta-llama/llama/blob/689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/llama/model.py#L28),
# [L383-L384](https://github.com/meta-llama/llama/blob/689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/llama/model.py#L383-L384)),
# while the `RMSNorm` class's own default is $10^{-6}$
# ([L35](https://github.com/meta-llama/llama/blob/689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/llama/model.py#L35)).
# A released checkpoint can set its own value; we did not read those.

@check_group
def _check_eps_near_constant():
    r"""
    #### A near-constant row, measured (CPU, ε = 1e-5, the default)

    On the CPU, $\epsilon = 10^{-5}$: a constant row outputs exactly $\beta$, and a row of variance
    about $10^{-8}$ has $|dx| / |g - \overline{g}|$ within 1% of $1/\sqrt{\epsilon} \approx 316$,
    with `F.layer_norm` and with this page's function.
    """
    import inspect

    import torch.nn.functional as F

    eps = 1e-5
    default = inspect.signature(torch.nn.LayerNorm).parameters['eps'].default
    check(f'torch {torch.__version__}: nn.LayerNorm eps defaults to 1e-5', default == 1e-5,
          str(default))
    w, b = torch.randn(64), torch.randn(64)
    constant = torch.full((4, 64), 5.0)
    for name, fn in (('F.layer_norm', lambda t: F.layer_norm(t, (64,), w, b, eps)),
                     ('ours', lambda t: layer_norm_manual(t, 64, w, b, eps))):
        check(f'{name}, float32: a constant row outputs exactly β', torch.equal(
            fn(constant), b.expand(4, 64)))
    #
    # $|dx| / |g - \bar{g}|$ for rows of variance about $10^{-8}$, in `float64`
    g_dy = torch.randn(4, 64, dtype=torch.float64)
    centred = g_dy - g_dy.mean(-1, keepdim=True)
    target = 1 / math.sqrt(eps)
    for name, fn in (('F.layer_norm', lambda t: F.layer_norm(t, (64,), eps=eps)),
                     ('ours', lambda t: layer_norm_manual(t, 64, eps=eps))):
        x = (5 + 1e-4 * torch.randn(4, 64, dtype=torch.float64)).requires_grad_()
        fn(x).backward(g_dy)
        ratio = x.grad.norm(dim=-1) / centred.norm(dim=-1)
        check(f'{name}: variance ~1e-8 -> |dx| / |g - mean g| within 1% of 1/√ε = {target:.0f}',
              bool(((ratio / target - 1).abs() < 0.01).all()),
              f'{ratio.min().item():.1f} to {ratio.max().item():.1f}, 4 rows')


def _figure_inputs(rows: int = 8, H: int = 64) -> Tuple[torch.Tensor, torch.Tensor]:
    # The figure's input and $\gamma$, from a fixed seed
    g = torch.Generator().manual_seed(0)
    return (torch.randn(rows, H, generator=g) * 2 + 5, torch.randn(H, generator=g))


@check_group(fold=True)
def _check_figure():
    """
    ## The data-flow figure: its numbers, and a drawing that follows the input's shape

    Its numbers, from the same functions: $H + 2$ saved numbers per row, and $dx$ orthogonal to
    $\\mathbf{1}$ and $\\hat{x}$ on every row, to rounding. Then the drawing changes with the
    input's shape.
    """
    from labml_nn_norm.layer_norm import check_figure

    x, w = _figure_inputs()
    saved = saved_for_backward(x.clone(), w.clone())
    check('saved: x (8, 64), mean and rstd (8, 1) in float32, weight (64,): H + 2 per row',
          saved == [((8, 64), 'float32'), ((8, 1), 'float32'), ((8, 1), 'float32'),
                    ((64,), 'float32')], f'{saved}')
    cos_one, cos_hat = gradient_angles(x, w)
    check('dx ⟂ 1 and dx ⟂ x̂ on every row (float64, eps = 0): largest |cos| < 1e-12',
          max(cos_one, cos_hat) < 1e-12, f'{cos_one:.0e}, {cos_hat:.0e}')
    check_figure('figure', figure_data_flow(x, w), figure_data_flow(*_figure_inputs(4, 32)))


def _artifacts():
    """
    ## The figure, made when the site is built
    """
    return {'data_flow': figure_data_flow(*_figure_inputs())}


# ## Exercises
#
# 1. Without $\gamma$ and $\beta$, backpropagate $dy = 1$ for every element. What is $dx$, and
#    why does the compact form say so before you run it?
# 2. Repeat the near-constant row (variance about $10^{-8}$) with BERT's $\epsilon = 10^{-12}$.
#    Is $|dx| / |g - \overline{g}|$ still $1/\sqrt{\epsilon}$? What sets it now?
# 3. Predict the bytes `LayerNormFunction` saves for a `(32, 4096)` `bfloat16` input with a
#    `bfloat16` weight, then measure them with `saved_bytes`.
# 4. Check the parameter gradients by hand: compute $\sum_r dy\,\hat{x}$ and $\sum_r dy$ and
#    compare them with autograd through `F.layer_norm`.


@check_group(fold=True)
def _exercise_1():
    """
    ## Solution 1: a constant upstream gradient gives dx = 0
    """
    # $g = dy = 1$, so $g - \overline{g} = 0$ and $\overline{g\hat{x}} = \overline{\hat{x}} = 0$
    x = (torch.randn(4, 16, dtype=torch.float64) * 3 + 2).requires_grad_()
    layer_norm_manual(x, 16).backward(torch.ones(4, 16, dtype=torch.float64))
    largest = x.grad.abs().max().item()
    check('float64, dy = 1, no affine: dx = 0 to rounding', largest < 1e-12,
          f'max |dx| = {largest:.1e}')


@check_group(fold=True)
def _exercise_2():
    """
    ## Solution 2: with a tiny ε the row's own σ sets the gradient's scale
    """
    # $\sigma = \sqrt{\mathrm{Var}[x] + \epsilon} \approx 10^{-4}$ now, not $\sqrt{\epsilon}$; the
    # ratio stays below $1/\sigma$ because $dx$ also loses its component along $\hat{x}$
    eps = 1e-12
    dy = torch.randn(4, 64, dtype=torch.float64)
    centred = dy - dy.mean(-1, keepdim=True)  # (4, 64)
    x = (5 + 1e-4 * torch.randn(4, 64, dtype=torch.float64)).requires_grad_()
    layer_norm_manual(x, 64, eps=eps).backward(dy)
    ratio = x.grad.norm(dim=-1) / centred.norm(dim=-1)  # (4,)
    inv_sigma = torch.rsqrt(x.detach().var(-1, unbiased=False) + eps)  # (4,)
    check('ε = 1e-12, variance ~1e-8: |dx| / |g - mean g| at most 1/σ (not 1/√ε = 1e6), and '
          'over 30x the 316 of ε = 1e-5',
          bool((ratio <= inv_sigma).all() and (ratio > 30 * 316).all()),
          f'{ratio.min().item():.0f} to {ratio.max().item():.0f}, 1/σ up to '
          f'{inv_sigma.max().item():.0f}, 4 rows')


@check_group(fold=True)
def _exercise_3():
    """
    ## Solution 3: the bytes saved for a (32, 4096) bfloat16 input
    """
    # $x$ in `bfloat16` (2 bytes each), $\mu$ and $1/\sigma$ per row in `float32` (4 bytes), and
    # $\gamma$ in `bfloat16`
    x = torch.randn(32, 4096, dtype=torch.bfloat16, requires_grad=True)
    w = torch.ones(4096, dtype=torch.bfloat16, requires_grad=True)
    predicted = 32 * 4096 * 2 + 2 * 32 * 4 + 4096 * 2
    measured = saved_bytes(layer_norm_manual, x, 4096, w)
    check('saved bytes == 2·32·4096 + 2·4·32 + 2·4096', measured == predicted,
          f'measured {measured}, predicted {predicted}')


@check_group(fold=True)
def _exercise_4():
    """
    ## Solution 4: dγ and dβ by hand
    """
    import torch.nn.functional as F

    x = (torch.randn(5, 3, 8, dtype=torch.float64) * 2 + 1).requires_grad_()
    w = torch.randn(8, dtype=torch.float64, requires_grad=True)
    b = torch.randn(8, dtype=torch.float64, requires_grad=True)
    dy = torch.randn(5, 3, 8, dtype=torch.float64)
    F.layer_norm(x, (8,), w, b).backward(dy)
    x_hat = F.layer_norm(x.detach(), (8,))  # (5, 3, 8)
    # Sum over every dimension but the normalized one
    check_close('float64: Σ_r dy·x̂ == dγ and Σ_r dy == dβ', [(dy * x_hat).sum((0, 1)),
                dy.sum((0, 1))], [w.grad, b.grad])


def _test():
    """
    ## Checks
    """
    torch.manual_seed(0)
    _check_gradcheck()
    _check_against_torch()
    _check_two_facts()
    _check_figure()
    _check_saved_dtypes()
    _check_saved_bytes()
    case = _apex_case()
    _check_memory_efficient(*case)
    _check_division_by_gamma(*case)
    _check_apex_formula(*case)
    _check_eps_near_constant()
    _check_errors()
    _exercise_1()
    _exercise_2()
    _exercise_3()
    _exercise_4()


if __name__ == '__main__':
    _test()


# ## Sources
#
# * PyTorch 2.13.0, [`tools/autograd/derivatives.yaml`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/tools/autograd/derivatives.yaml#L1274-L1276):
#   `native_layer_norm`'s backward takes `input`, `weight`, `bias` and the forward's `mean` and
#   `rstd` (`result1`, `result2`). Read in the copy the wheel ships as
#   `torchgen/packaged/autograd/derivatives.yaml`.
# * PyTorch, [`aten/src/ATen/native/layer_norm.cpp`](https://github.com/pytorch/pytorch/blob/3de78edb07f16b05fe8af347d4e2d1d495873d85/aten/src/ATen/native/layer_norm.cpp#L110-L112):
#   the CPU kernel allocates `mean` and `rstd` in `param_scalar_type(input, mixed_type)`, which is
#   `float32` only for half-precision input with `float32` parameters
#   (`aten/src/ATen/native/cpu/mixed_data_type.h` in the 2.13.0 wheel). The dtypes are asserted on
#   2.13.0 in `_test()`.
# * PyTorch, `aten/src/ATen/native/cuda/layer_norm_kernel.cu` at commit
#   `bad757be610b43809dc32b7b50d1800d0cfb6750`, function `layer_norm_cuda`: `mean` and `rstd`
#   allocated with `at::toAccumulateType(input.scalar_type(), /*is_cuda=*/true)`. Not run here (no
#   GPU); no line link because we could not number that file's lines.
# * PyTorch, [`aten/src/ATen/native/cpu/layer_norm_kernel.cpp` at a 2019 commit](https://github.com/pytorch/pytorch/blob/0354b60c4e0ee0cb32307500f92bb03e8d0ed344/aten/src/ATen/native/cpu/layer_norm_kernel.cpp#L111-L126):
#   the input gradient as $a\,\gamma\,dy + b\,x + c$.
# * NVIDIA apex, [`apex/normalization/fused_layer_norm.py`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/normalization/fused_layer_norm.py#L53-L56):
#   with `memory_efficient` the forward saves `(output, weight, bias, None, invvar)`, otherwise
#   `(input, weight, bias, mean, invvar)`.
# * NVIDIA apex, [`csrc/layer_norm_cuda_kernel.cu`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L378-L394):
#   `clamp_by_magnitude`; [L414-L416](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L414-L416)
#   $\hat{x} = (y - \beta)/\gamma$ for $d\gamma$; [L630](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L630)
#   the row sum without division; [L623-L633](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L623-L633)
#   the two row sums of `cuComputeGradInput`, with the unclamped `gamma`;
#   [L755-L756](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L755-L756)
#   the term $\gamma_j\,dy_j$ of $dx$ with `clamp_by_magnitude(gamma[l], eps)`, in both modes;
#   [L748-L773](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L748-L773)
#   the input gradient in the compact form; [L892](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L892)
#   the clamp uses the layer's $\epsilon$.
# * PyTorch 2.13.0, `torch/nn/modules/normalization.py` in the wheel: `LayerNorm(..., eps=1e-5)`,
#   asserted in `_test()` on the installed torch.
# * Hugging Face transformers, [`configuration_bert.py`](https://github.com/huggingface/transformers/blob/6294b787a53ad369e4f372983188d5bd31a45e8d/src/transformers/models/bert/configuration_bert.py#L90-L91):
#   `layer_norm_eps` defaults to 1e-12 (docstring L90-L91, argument
#   [L133](https://github.com/huggingface/transformers/blob/6294b787a53ad369e4f372983188d5bd31a45e8d/src/transformers/models/bert/configuration_bert.py#L133)).
# * Meta, [`llama/model.py`](https://github.com/meta-llama/llama/blob/689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/llama/model.py#L28-L35):
#   `ModelArgs.norm_eps = 1e-5`, `RMSNorm(dim, eps=1e-6)`; the blocks pass `eps=args.norm_eps`
#   ([L383-L384](https://github.com/meta-llama/llama/blob/689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/llama/model.py#L383-L384)).
