r"""
---
title: The backward pass of LayerNorm
summary: The gradients of LayerNorm derived step by step, written as a torch.autograd.Function that saves only the input and two numbers per row, checked with gradcheck.
---

# The backward pass of LayerNorm

Autograd can differentiate [our LayerNorm](index.md) for us, but it does so by keeping every
intermediate of the forward pass alive until the backward pass: the centred input, its square,
the variance, $\hat{x}$… A hand-written backward needs far less, and its formula explains two
facts about LayerNorm's gradients that are worth knowing. This is what fused kernels
(PyTorch's own, apex's, [ours in Triton](../kernels/triton_layer_norm.md)) implement.

### Notation

For one row of $H$ normalized elements (the product of `normalized_shape`), with $\sigma =
\sqrt{\mathrm{Var}[x] + \epsilon}$ (biased variance):

$$\hat{x}_i = \frac{x_i - \mu}{\sigma} \qquad y_i = \gamma_i \hat{x}_i + \beta_i$$

The upstream gradient is $dy_i = \partial L / \partial y_i$. Write $g_i = \gamma_i\,dy_i$, the gradient
with respect to $\hat{x}_i$.

### The parameters

$\gamma$ and $\beta$ are shared by every row, so their gradients sum over the rows $r$:

$$\frac{\partial L}{\partial \gamma_i} = \sum_r dy_{r,i}\,\hat{x}_{r,i} \qquad
\frac{\partial L}{\partial \beta_i} = \sum_r dy_{r,i}$$

### The input, step by step

$x_j$ reaches $\hat{x}_i$ three ways: directly, through $\mu$ and through $\sigma$. The pieces are

$$\frac{\partial \mu}{\partial x_j} = \frac{1}{H} \qquad
\frac{\partial \sigma}{\partial x_j} = \frac{1}{2\sigma}\cdot\frac{2}{H}\sum_k (x_k - \mu)\Big(\delta_{kj} - \frac{1}{H}\Big)
= \frac{x_j - \mu}{H\sigma} = \frac{\hat{x}_j}{H}$$

(the $\frac{1}{H}$ term vanishes because deviations from the mean sum to zero). Then

$$\frac{\partial \hat{x}_i}{\partial x_j} = \frac{1}{\sigma}\Big(\delta_{ij} - \frac{1}{H}\Big)
- \frac{x_i - \mu}{\sigma^2}\cdot\frac{\hat{x}_j}{H}
= \frac{1}{\sigma}\Big(\delta_{ij} - \frac{1}{H} - \frac{\hat{x}_i \hat{x}_j}{H}\Big)$$

and the chain rule $dx_j = \sum_i g_i\,\partial \hat{x}_i / \partial x_j$ gives the compact form

$$dx_j = \frac{1}{\sigma}\Big(g_j - \overline{g} - \hat{x}_j\,\overline{g\hat{x}}\Big)
\qquad \overline{g} = \frac{1}{H}\sum_i g_i \qquad \overline{g\hat{x}} = \frac{1}{H}\sum_i g_i \hat{x}_i$$

Two row reductions, $\overline{g}$ and $\overline{g\hat{x}}$, and one elementwise pass: the backward
kernel has the same shape as the forward one.

### Two facts the formula shows

* **$\sum_j dx_j = 0$.** Sum the bracket: $\sum_j g_j - H\overline{g} - \overline{g\hat{x}}\sum_j \hat{x}_j
  = 0 - 0$, since $\sum_j \hat{x}_j = 0$. Adding a constant to a row does not change its output
  (the mean absorbs it), so the loss cannot depend on that direction.
* **$dx \perp \hat{x}$.** $\sum_j \hat{x}_j dx_j \propto \sum_j g_j\hat{x}_j - \overline{g}\sum_j \hat{x}_j
  - \overline{g\hat{x}}\sum_j \hat{x}_j^2 = H\overline{g\hat{x}} - 0 - \overline{g\hat{x}}\cdot H = 0$
  (using $\sum_j \hat{x}_j^2 = H\,\mathrm{Var}[x]/\sigma^2 \approx H$, exact as $\epsilon \to 0$). Scaling a row
  does not change its output either, so the gradient has no component along the row's own direction.
"""

import math
from typing import Optional

import torch

from labml_nn_norm.layer_norm import _as_shape, _check_shapes, _shape_t


class LayerNormFunction(torch.autograd.Function):
    r"""
    ## The autograd function

    **What it saves**: the input $x$ (in its own dtype), and per row the mean $\mu$ and $1/\sigma$
    in float32: $H + 2$ numbers per row rather than the several full-size intermediates autograd
    keeps. $\hat{x}$ is recomputed in the backward pass (one subtraction and one multiplication per
    element, cheap next to reading memory). Saving $\hat{x}$ instead would also work, but in float32
    it is twice the size of a half-precision input, and the input is usually kept alive anyway
    by the layer before. PyTorch's native kernel makes the same choice.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, normalized_shape: tuple, weight: Optional[torch.Tensor],
                bias: Optional[torch.Tensor], eps: float) -> torch.Tensor:
        # View the input as (rows, cols): cols $= H$, the elements normalized together
        H = math.prod(normalized_shape)
        rows = x.reshape(-1, H)
        # Statistics in float32 for half-precision inputs, as in the forward page
        compute_dtype = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
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
            # $dx = \frac{1}{\sigma}\big(g - \overline{g} - \hat{x}\,\overline{g\hat{x}}\big)$: two row means
            dx = rstd * (g - g.mean(-1, keepdim=True) - x_hat * (g * x_hat).mean(-1, keepdim=True))
            dx = dx.reshape(x.shape).to(x.dtype)
        #
        # $\partial L / \partial \gamma = \sum_r dy \cdot \hat{x}$ and $\partial L / \partial \beta = \sum_r dy$,
        # summed over the rows, in the parameters' shape and dtype
        if weight is not None and ctx.needs_input_grad[2]:
            dweight = (dy * x_hat).sum(0).reshape(ctx.normalized_shape).to(weight.dtype)
        if ctx.has_bias and ctx.needs_input_grad[3]:
            dbias = dy.sum(0).reshape(ctx.normalized_shape).to(weight.dtype if weight is not None else x.dtype)
        # No gradients for `normalized_shape` and `eps`
        return dx, None, dweight, dbias, None


def layer_norm_manual(input: torch.Tensor, normalized_shape: _shape_t, weight: Optional[torch.Tensor] = None,
                      bias: Optional[torch.Tensor] = None, eps: float = 1e-5) -> torch.Tensor:
    """
    ## The functional form

    Same contract and the same input checks as [`layer_norm`](index.md).
    """
    shape = _as_shape(normalized_shape)
    _check_shapes(input, shape, weight, bias)
    return LayerNormFunction.apply(input, shape, weight, bias, eps)


def saved_bytes(fn, *args) -> int:
    """
    ### Measuring what is saved for backward

    `saved_tensors_hooks` sees every tensor autograd packs for the backward pass; we add up their
    sizes (a tensor saved twice counts twice, as it would if it were a fresh intermediate).
    """
    total = 0

    def pack(t: torch.Tensor):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*args)
    return total


def _test():
    """
    ## Checks
    """
    import torch.nn.functional as F
    from labml_nn_norm._check import check, check_close, check_raises, section
    from labml_nn_norm.layer_norm import layer_norm

    torch.manual_seed(0)
    section('gradcheck (float64): numerical vs analytical gradients')
    for shape, ns in (((3, 5), (5,)), ((2, 3, 4), (3, 4)), ((2, 2, 3, 4), (2, 3, 4))):
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
            if not torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5):
                raise AssertionError(f'gradcheck failed for {shape}, {ns}')
        check(f'input {shape}, normalized_shape={ns}: affine, no bias, no affine', True)
    #
    section('Same gradients as F.layer_norm')
    x = torch.randn(4, 7, 32) * 3 + 20
    w, b = torch.randn(32), torch.randn(32)
    ours = [t.clone().requires_grad_() for t in (x, w, b)]
    ref = [t.clone().requires_grad_() for t in (x, w, b)]
    y, y_ref = layer_norm_manual(ours[0], 32, ours[1], ours[2]), F.layer_norm(ref[0], (32,), ref[1], ref[2])
    dy = torch.randn_like(y)
    y.backward(dy)
    y_ref.backward(dy)
    check_close('float32: output', y, y_ref)
    check_close('float32: dx, dγ, dβ', [t.grad for t in ours], [t.grad for t in ref])
    #
    # In bfloat16 both round the gradients to 8 significant bits (and sum $d\gamma$ over 28 rows), so
    # we compare each with float64 arithmetic on the same bfloat16 numbers: ours must be as close as PyTorch's
    half = [t.bfloat16() for t in (x, w, b)]
    exact = [t.double().requires_grad_() for t in half]
    F.layer_norm(exact[0], (32,), exact[1], exact[2]).backward(dy.bfloat16().double())
    for name, fn in (('ours', lambda *t: layer_norm_manual(t[0], 32, t[1], t[2])),
                     ('F.layer_norm', lambda *t: F.layer_norm(t[0], (32,), t[1], t[2]))):
        ts = [t.clone().requires_grad_() for t in half]
        fn(*ts).backward(dy.bfloat16())
        errs = [((t.grad.double() - e.grad).abs().max() / e.grad.abs().max()).item() for t, e in zip(ts, exact)]
        if name == 'ours':
            ours_errs = errs
    check('bfloat16: dx, dγ, dβ as close to float64 as PyTorch\'s (within 2x)',
          all(o <= 2 * t for o, t in zip(ours_errs, errs)),
          'relative errors ours ' + ', '.join(f'{e:.1e}' for e in ours_errs) +
          ' / PyTorch ' + ', '.join(f'{e:.1e}' for e in errs))
    #
    section('The two facts, measured')
    x = (torch.randn(6, 64, dtype=torch.float64) * 2 + 5).requires_grad_()
    w = torch.randn(64, dtype=torch.float64)
    layer_norm_manual(x, 64, w).backward(torch.randn(6, 64, dtype=torch.float64))
    x_hat = F.layer_norm(x.detach(), (64,))
    row_sums = x.grad.sum(-1).abs().max().item()
    dots = (x.grad * x_hat).sum(-1).abs().max().item()
    scale = x.grad.abs().sum(-1).max().item()
    check('Σ_j dx_j = 0 on every row', row_sums < 1e-12 * scale + 1e-13, f'max |Σ dx| = {row_sums:.1e} (Σ|dx| ~ {scale:.1f})')
    check('dx ⟂ x̂ on every row', dots < 1e-6 * scale, f'max |dx·x̂| = {dots:.1e} (ε makes it not exactly 0)')
    #
    section('Bytes saved for the backward pass, input (64, 1024) float32')
    x = torch.randn(64, 1024, requires_grad=True)
    w, b = torch.ones(1024, requires_grad=True), torch.zeros(1024, requires_grad=True)
    manual = saved_bytes(layer_norm_manual, x, 1024, w, b)
    naive = saved_bytes(layer_norm, x, 1024, w, b)
    native = saved_bytes(F.layer_norm, x, (1024,), w, b)
    check('manual Function saves less than autograd through the plain forward', manual < naive,
          f'manual {manual / 1024:.0f} KiB, autograd through layer_norm {naive / 1024:.0f} KiB, '
          f'F.layer_norm {native / 1024:.0f} KiB')
    check_raises('bad shapes are rejected as in layer_norm', ValueError, layer_norm_manual, torch.randn(3, 5), 4,
                 match='[*, 4]')


if __name__ == '__main__':
    _test()
