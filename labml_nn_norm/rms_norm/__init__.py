r"""
---
title: RMSNorm
summary: Root mean square normalization - LayerNorm without re-centring - from scratch, a drop-in for torch.nn.RMSNorm, checked against PyTorch.
---

# RMSNorm

[Root Mean Square Layer Normalization](https://arxiv.org/abs/1910.07467) (Zhang and Sennrich,
2019) is [LayerNorm](../layer_norm/index.md) with one step removed: it does not subtract the
mean. It only rescales each sample by its root mean square, and has a gain $\gamma$ but no
offset $\beta$:

$$\mathrm{RMS}(x) = \sqrt{\frac{1}{H}\sum_{i=1}^{H} x_i^2 + \epsilon} \qquad
y_i = \frac{x_i}{\mathrm{RMS}(x)}\,\gamma_i$$

Compare LayerNorm, $y_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}\gamma_i + \beta_i$ with
$\sigma^2 = \frac{1}{H}\sum_i (x_i - \mu)^2$. If the input already has zero mean, $\mu = 0$,
$\sigma^2$ *is* the mean square, and the two are the same function (`_test()` checks this).

### Why drop the mean

Zhang and Sennrich argue that what makes LayerNorm work is the **re-scaling** invariance (the
output does not change when the input is multiplied by a constant, so the weights feeding it
can grow without the activations exploding), not the **re-centring** invariance (to adding a
constant). Dropping the re-centring keeps the first and saves work:

* one reduction per sample instead of two: $\sum_i x_i^2$ alone, where LayerNorm needs
  $\mu$ first and then $\sum_i (x_i - \mu)^2$ (or the two sums of the one-pass form),
* no subtraction, no $\beta$ parameter and its gradient.

In their experiments this gave about the same accuracy with 7% to 64% less time per step,
and LLaMA, Mistral, Gemma and most large language models since use RMSNorm in a
[Pre-LN](../transformer/index.md) arrangement. It is enough when the mean of the activations
carries no harm, i.e. when the next layer can absorb a shift itself; it is *not* the same as
LayerNorm on inputs with a large common offset: such an offset inflates the RMS and shrinks
every other direction of the signal.

### PyTorch's details

`torch.nn.RMSNorm` (PyTorch 2.4+) takes `normalized_shape`, `eps=None`, `elementwise_affine`,
and names the gain `weight`. Measured on PyTorch 2.13 (and asserted in `_test()`):

* `eps=None` means the machine epsilon of the *computation* dtype: `torch.finfo(float32).eps`
  ($1.19 \times 10^{-7}$) for `float32`, `float16` and `bfloat16` inputs,
  `torch.finfo(float64).eps` for `float64`;
* half-precision inputs are computed in `float32`, *including the multiplication by the weight*,
  and only the result is rounded to the input's dtype;
* the output always has the input's dtype, whatever the weight's dtype.
"""

from typing import Optional

import torch
from torch import nn

from labml_nn_norm.layer_norm import _as_shape, _check_shapes, _shape_t


def rms_norm(input: torch.Tensor, normalized_shape: _shape_t, weight: Optional[torch.Tensor] = None,
             eps: Optional[float] = None) -> torch.Tensor:
    r"""
    ## The functional form

    Same contract as `torch.nn.functional.rms_norm`.
    """
    shape = _as_shape(normalized_shape)
    _check_shapes(input, shape, weight, None)
    # The dimensions to reduce over: the last $D$ of the input
    dims = tuple(range(-len(shape), 0))
    #
    # Half precision is computed in `float32` (PyTorch's "opmath" type): $x^2$ overflows
    # `float16` above 256
    compute_dtype = torch.float32 if input.dtype in (torch.float16, torch.bfloat16) else input.dtype
    x = input.to(compute_dtype)
    # `eps=None`: the machine epsilon of the computation dtype
    if eps is None:
        eps = torch.finfo(compute_dtype).eps
    #
    # The one reduction, the mean square $\frac{1}{H}\sum_i x_i^2$; no mean is subtracted
    mean_square = x.square().mean(dim=dims, keepdim=True)
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

    def __init__(self, normalized_shape: _shape_t, eps: Optional[float] = None, elementwise_affine: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        # $\gamma$, one per normalized element; `None` without affine, as in PyTorch
        if elementwise_affine:
            self.weight = nn.Parameter(torch.empty(self.normalized_shape, device=device, dtype=dtype))
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
        return '{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}'.format(**self.__dict__)


def _test():
    """
    ## Checks against PyTorch
    """
    import warnings
    import torch.nn.functional as F
    from labml_nn_norm._check import check, check_close, check_raises, run_side_by_side, section
    from labml_nn_norm.layer_norm import LayerNorm

    torch.manual_seed(0)
    section('Against torch.nn.RMSNorm: outputs, input and weight gradients')
    cases = [((4, 16), 16), ((2, 7, 32), 32), ((2, 3, 4, 5), (4, 5)), ((3, 2, 3, 4), torch.Size([2, 3, 4])),
             ((0, 8), 8), ((5,), [5])]
    for shape, ns in cases:
        for eps in (None, 1e-6, 0.1):
            for affine in (True, False):
                ours, ref = RMSNorm(ns, eps=eps, elementwise_affine=affine), nn.RMSNorm(ns, eps=eps, elementwise_affine=affine)
                if affine:
                    with torch.no_grad():
                        ref.weight.normal_()
                ours.load_state_dict(ref.state_dict())
                # Shifted, scaled inputs: the mean is not removed, so it matters
                y, y_ref = run_side_by_side(ours, ref, torch.randn(shape) * 3 + 2)
        check_close(f'input {tuple(shape)}, normalized_shape={ns}, eps None/1e-6/0.1, affine on/off', y, y_ref)
    #
    # `eps=None`: on a tiny input the choice of epsilon decides the output, so only the right one matches
    section('eps=None and half precision')
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        x = torch.full((2, 4), 1e-3 if dtype == torch.float16 else 1e-4, dtype=dtype)
        check_close(f'{dtype}: eps=None', rms_norm(x, 4), F.rms_norm(x, (4,)), rtol=0, atol=0)
    x32 = torch.full((1, 4), 1e-4)
    check('eps=None is finfo(float32).eps, not 0: a 1e-4 input maps to 0.278, not 1',
          abs(rms_norm(x32, 4)[0, 0].item() - 0.2782) < 1e-3, f'{rms_norm(x32, 4)[0, 0].item():.4f}')
    #
    # Half precision: `float32` inside, the input's dtype out, bit for bit PyTorch's, even with a
    # `float32` weight (mixed precision) or an input whose square overflows `float16`
    for dtype in (torch.float16, torch.bfloat16):
        for w_dtype in (dtype, torch.float32):
            x = (torch.randn(16, 256) * 3 + 1).to(dtype)
            w = torch.randn(256).to(w_dtype)
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')  # PyTorch warns that mixed dtypes skip its fused kernel
                expected = F.rms_norm(x, (256,), w)
            y = rms_norm(x, 256, w)
            check_close(f'{dtype} input, {w_dtype} weight: {y.dtype} out, bitwise', y, expected, rtol=0, atol=0)
    big = torch.full((2, 16), 300.0, dtype=torch.float16)
    check_close('float16 input of 300 (300² overflows float16) -> 1', rms_norm(big, 16), torch.ones_like(big))
    #
    section('Drop-in')
    ours, ref = RMSNorm([2, 3]), nn.RMSNorm([2, 3])
    check('state_dict keys match', list(ours.state_dict()) == list(ref.state_dict()) == ['weight'])
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(nn.RMSNorm([2, 3]).state_dict())
    check('state_dict loads both ways', True)
    for args, kwargs in (((4,), {}), (([2, 3],), dict(eps=1e-6, elementwise_affine=False))):
        check('repr matches torch', repr(RMSNorm(*args, **kwargs)) == repr(nn.RMSNorm(*args, **kwargs)),
              repr(RMSNorm(*args, **kwargs)))
    check('no affine -> weight is None, no parameters', RMSNorm(4, elementwise_affine=False).weight is None
          and list(RMSNorm(4, elementwise_affine=False).parameters()) == [])
    check('dtype argument', RMSNorm(4, dtype=torch.float64).weight.dtype == torch.float64)
    #
    # The one-line difference from LayerNorm: no $-\mu$. On a centred input the two agree
    # (LayerNorm's eps is $10^{-5}$, so we give RMSNorm the same); on a shifted input they do not.
    section('RMSNorm vs LayerNorm')
    x = torch.randn(8, 64) * 2 + 5
    centred = x - x.mean(-1, keepdim=True)
    check_close('RMSNorm(centred x) == LayerNorm(x) without affine',
                RMSNorm(64, eps=1e-5, elementwise_affine=False)(centred),
                LayerNorm(64, elementwise_affine=False)(x))
    gap = (RMSNorm(64, eps=1e-5)(x) - LayerNorm(64)(x)).abs().max().item()
    check('but on x with mean 5 they differ', gap > 0.5, f'max |Δ| = {gap:.2f}')
    # Both are invariant to re-scaling; only LayerNorm is invariant to a shift
    rms, ln = RMSNorm(64, eps=1e-5, elementwise_affine=False), LayerNorm(64, elementwise_affine=False)
    check_close('RMSNorm(10 x) == RMSNorm(x): re-scaling invariance', rms(10 * x), rms(x))
    check('RMSNorm(x + 3) != RMSNorm(x): no re-centring', (rms(x + 3) - rms(x)).abs().max().item() > 0.1)
    check_close('LayerNorm(x + 3) == LayerNorm(x)', ln(x + 3), ln(x), atol=1e-5, rtol=1e-5)
    #
    section('Errors')
    check_raises('input does not end in normalized_shape', ValueError, rms_norm, torch.randn(3, 5), [4], match='[*, 4]')
    check_raises('weight of the wrong shape', ValueError, rms_norm, torch.randn(3, 4), 4, torch.ones(5),
                 match='weight of shape [5]')
    check_raises('empty normalized_shape', ValueError, RMSNorm, [], match='empty')


if __name__ == '__main__':
    _test()
