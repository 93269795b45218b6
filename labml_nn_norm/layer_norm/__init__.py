r"""
---
title: Layer Normalization
summary: LayerNorm from scratch, a drop-in for torch.nn.LayerNorm, with every argument explained and checked against PyTorch.
---

# Layer Normalization

This is a from-scratch implementation of
[Layer Normalization](https://arxiv.org/abs/1607.06450) (Ba, Kiros and Hinton, 2016)
that takes the same arguments as `torch.nn.LayerNorm`, names its parameters the same
and gives the same outputs and gradients, so you can swap one for the other and load
one's `state_dict` into the other.

### Why it exists

[Batch Normalization](../batch_norm/index.md) normalizes each feature with the mean and
variance *of the batch*. That needs running averages for inference, breaks down for a batch
of one, is awkward for RNNs (which time step's statistics?) and needs a cross-device
all-reduce in data-parallel training ([across devices](../distributed/index.md)).
Layer normalization computes the statistics *of each sample* instead: no batch, no
running averages, and the same computation in training and in evaluation.

### The equations

For each sample, take the $H$ elements that `normalized_shape` names (the last
$D$ dimensions of the input) and compute

$$\mu = \frac{1}{H}\sum_{i=1}^{H} x_i \qquad
\sigma^2 = \frac{1}{H}\sum_{i=1}^{H} \left(x_i - \mu\right)^2$$

$$y_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}\,\gamma_i + \beta_i$$

Three details decide whether you match PyTorch to the last bit:

* the variance is the *biased* one, dividing by $H$, not $H - 1$;
* $\epsilon$ sits *inside* the square root;
* $\gamma$ (`weight`) and $\beta$ (`bias`) have the shape `normalized_shape`: one gain and
  one offset per normalized element, shared by every sample.

### What `normalized_shape` means

An `int` $C$ means "the last dimension, which must have size $C$". A list, tuple or
`torch.Size` $[d_1, \dots, d_D]$ means "the last $D$ dimensions, which must have exactly these
sizes"; all $d_1 \cdots d_D$ elements are normalized together. For the rows

$$x = \begin{bmatrix} 1 & 2 & 4 & 1 \\ 6 & 3 & 2 & 4 \\ 2 & 4 & 6 & 1 \end{bmatrix}$$

`normalized_shape=4` normalizes each row on its own: the first row has $\mu = 2$,
$\sigma^2 = 1.5$, and becomes $[-0.8165, 0, 1.6330, -0.8165]$.
`normalized_shape=[3, 4]` normalizes all twelve numbers together ($\mu = 3$, $\sigma^2 = 3$),
and the first row becomes $[-1.1547, -0.5774, 0.5774, -1.1547]$. The `_test()` below
checks both, and a `(2, 3, 4, 5)` input with `normalized_shape=5` and `[4, 5]` against the
hand computation.
"""

import numbers
from typing import List, Optional, Tuple, Union

import torch
from torch import nn

_shape_t = Union[int, List[int], Tuple[int, ...], torch.Size]


def _as_shape(normalized_shape: _shape_t) -> Tuple[int, ...]:
    """
    ### Reading `normalized_shape`

    An `int` becomes a one-element tuple; a list, tuple or `torch.Size` becomes a tuple of
    `int`s. An empty shape would normalize nothing, so it is an error, as in PyTorch.
    """
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    if not isinstance(normalized_shape, (list, tuple, torch.Size)):
        raise TypeError(f'normalized_shape must be an int, a list or tuple of ints, or a torch.Size; '
                        f'got {type(normalized_shape).__name__}')
    #
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in normalized_shape):
        raise TypeError(f'normalized_shape must contain only ints, got {list(normalized_shape)}')
    if len(normalized_shape) == 0:
        raise ValueError('normalized_shape must name at least one dimension, got an empty shape []')
    if any(d < 0 for d in normalized_shape):
        raise ValueError(f'normalized_shape must not have negative sizes, got {list(normalized_shape)}')
    return tuple(int(d) for d in normalized_shape)


def _check_shapes(input: torch.Tensor, shape: Tuple[int, ...],
                  weight: Optional[torch.Tensor], bias: Optional[torch.Tensor]):
    """
    ### Shape checks

    The input must *end* in `normalized_shape`; `weight` and `bias` must *be* `normalized_shape`.
    A mismatch is the most common mistake with LayerNorm (passing the batch or sequence length
    in `normalized_shape`), so the message says what was expected and what came.
    """
    if input.dim() < len(shape) or tuple(input.shape[input.dim() - len(shape):]) != shape:
        raise ValueError(f'Given normalized_shape={list(shape)}, expected input with shape '
                         f'[*, {", ".join(map(str, shape))}], but got input of size {list(input.shape)}')
    for name, t in (('weight', weight), ('bias', bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f'Expected {name} of shape {list(shape)} (normalized_shape), '
                             f'but got {name} of shape {list(t.shape)}')


def layer_norm(input: torch.Tensor, normalized_shape: _shape_t,
               weight: Optional[torch.Tensor] = None, bias: Optional[torch.Tensor] = None,
               eps: float = 1e-5) -> torch.Tensor:
    r"""
    ## The functional form

    Same contract as `torch.nn.functional.layer_norm`.
    """
    shape = _as_shape(normalized_shape)
    _check_shapes(input, shape, weight, bias)
    # The dimensions to reduce over: the last $D$ of the input
    dims = tuple(range(-len(shape), 0))
    #
    # Half-precision inputs (`float16`, `bfloat16`) keep their statistics in `float32`,
    # as PyTorch's kernels do: $x^2$ overflows `float16` above 256, and a sum of
    # thousands of `bfloat16` numbers keeps only about 3 significant digits.
    # The output is cast back to the input's dtype at the very end.
    compute_dtype = torch.float32 if input.dtype in (torch.float16, torch.bfloat16) else input.dtype
    x = input.to(compute_dtype)
    #
    # $\mu$, the mean over the normalized elements of each sample
    mean = x.mean(dim=dims, keepdim=True)
    # $\sigma^2 = \frac{1}{H}\sum_i (x_i - \mu)^2$, computed from the centred values
    # (two passes). The one-pass shortcut $\mathbb{E}[x^2] - \mathbb{E}[x]^2$ subtracts two
    # huge, nearly equal numbers when the mean is large, and turns into garbage or a
    # negative variance (then NaN): `_test()` shows it on rows with mean $10^4$.
    # The [numerics page](../numerics/index.md) compares all the ways to compute it.
    var = (x - mean).square().mean(dim=dims, keepdim=True)
    #
    # $\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}$, with $\epsilon$ inside the root
    x_hat = (x - mean) * torch.rsqrt(var + eps)
    #
    # $y = \gamma \hat{x} + \beta$; $\gamma$ and $\beta$ broadcast over the leading dimensions
    if weight is not None:
        x_hat = x_hat * weight.to(compute_dtype)
    if bias is not None:
        x_hat = x_hat + bias.to(compute_dtype)
    #
    return x_hat.to(input.dtype)


class LayerNorm(nn.Module):
    r"""
    ## The module

    * `normalized_shape` is the shape of the elements normalized together (the last
      dimensions of the input): an `int`, a list/tuple of `int`s or a `torch.Size`
    * `eps` is $\epsilon$, added to the variance for numerical stability
    * `elementwise_affine` says whether to learn $\gamma$ and $\beta$
    * `bias` (PyTorch 2.1+) says whether to learn $\beta$ when `elementwise_affine` is set
    * `device`, `dtype` are where and in which precision to create the parameters

    The parameters are named `weight` and `bias`, as in `torch.nn.LayerNorm`, so a
    `state_dict` moves between the two unchanged. There are no buffers: LayerNorm keeps no
    running statistics, so `train()` and `eval()` change nothing.
    """

    __constants__ = ['normalized_shape', 'eps', 'elementwise_affine']

    def __init__(self, normalized_shape: _shape_t, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        #
        # $\gamma$ and $\beta$, one per normalized element. Without affine (or without bias)
        # the attribute still exists and is `None`, as in PyTorch.
        if elementwise_affine:
            self.weight = nn.Parameter(torch.empty(self.normalized_shape, device=device, dtype=dtype))
            if bias:
                self.bias = nn.Parameter(torch.empty(self.normalized_shape, device=device, dtype=dtype))
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        # Start as the identity transform: $\gamma = 1$, $\beta = 0$
        if self.weight is not None:
            nn.init.ones_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        # The same text as PyTorch's, so printed models read the same
        return ('{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}, '
                'bias={use_bias}'.format(**self.__dict__, use_bias=self.bias is not None))


def variance_shortcut(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""
    ## The trap: $\mathbb{E}[x^2] - \mathbb{E}[x]^2$

    Algebraically equal to the two-pass variance, and popular because it needs one pass over the
    data (the labml implementation this project started from uses it). In floating point, for a
    row with mean $10^4$ and spread 1, both terms are about $10^8$, where `float32` numbers are
    8 apart, so their difference (the true variance, 1) is lost in rounding.
    """
    return x.square().mean(dim) - x.mean(dim).square()


def _test():
    """
    ## Checks against PyTorch
    """
    import torch.nn.functional as F
    from labml_nn_norm._check import check, check_close, check_raises, run_side_by_side, section

    torch.manual_seed(0)
    #
    # The worked example: each row normalized on its own, then all twelve numbers together.
    # The expected numbers are PyTorch's, as printed in the material this page started from.
    section('Worked examples')
    a = torch.tensor([[1, 2, 4, 1], [6, 3, 2, 4], [2, 4, 6, 1]]).float()
    check_close('normalized_shape=4', LayerNorm(4)(a).detach(), torch.tensor(
        [[-0.8165, 0.0000, 1.6330, -0.8165],
         [1.5213, -0.5071, -1.1832, 0.1690],
         [-0.6509, 0.3906, 1.4321, -1.1717]]), atol=1e-4, rtol=0)
    check_close('normalized_shape=[3, 4], first row', LayerNorm([3, 4])(a)[0].detach(),
                torch.tensor([-1.1547, -0.5773, 0.5773, -1.1547]), atol=2e-4, rtol=0)
    #
    # The hand computation for a `(2, 3, 4, 5)` input: biased variance, $\epsilon$ inside the root
    x = torch.rand(2, 3, 4, 5)
    by_hand = (x - x.mean(3, keepdim=True)) / (x.var(3, keepdim=True, unbiased=False) + 1e-5).sqrt()
    check_close('(2, 3, 4, 5), normalized_shape=5 vs by hand', LayerNorm(5)(x).detach(), by_hand)
    flat = x.reshape(2, 3, 20)
    by_hand = ((flat - flat.mean(2, keepdim=True)) /
               (flat.var(2, keepdim=True, unbiased=False) + 1e-5).sqrt()).reshape(2, 3, 4, 5)
    check_close('(2, 3, 4, 5), normalized_shape=[4, 5] vs by hand', LayerNorm([4, 5])(x).detach(), by_hand)
    #
    # Random, shifted inputs of several shapes and every flag: outputs and gradients of the input,
    # `weight` and `bias` against `torch.nn.LayerNorm` with the same (random) parameters.
    section('Against torch.nn.LayerNorm: outputs and gradients')
    cases = [((4, 16), 16), ((2, 7, 32), 32), ((2, 3, 4, 5), (4, 5)), ((3, 2, 3, 4), torch.Size([2, 3, 4])),
             ((0, 8), 8), ((5,), [5])]
    for shape, ns in cases:
        for affine, use_bias in ((True, True), (True, False), (False, False)):
            ours = LayerNorm(ns, eps=1e-5, elementwise_affine=affine, bias=use_bias)
            ref = nn.LayerNorm(ns, eps=1e-5, elementwise_affine=affine, bias=use_bias)
            if affine:
                with torch.no_grad():
                    ref.weight.normal_()
                    if use_bias:
                        ref.bias.normal_()
            ours.load_state_dict(ref.state_dict())
            y, y_ref = run_side_by_side(ours, ref, torch.randn(shape) * 3 + 50)
        check_close(f'input {tuple(shape)}, normalized_shape={ns}, all flags', y, y_ref)
    #
    # The functional form, float64, and half precision (statistics in `float32`, output in the input's dtype)
    x = torch.randn(3, 2, 3, 4, dtype=torch.float64) * 3 + 50
    check_close('layer_norm == F.layer_norm, float64', layer_norm(x, (3, 4)), F.layer_norm(x, (3, 4)))
    for dtype in (torch.float16, torch.bfloat16):
        x = (torch.randn(8, 64) + 3).to(dtype)
        w, b = torch.randn(64, dtype=dtype), torch.randn(64, dtype=dtype)
        y = layer_norm(x, 64, w, b)
        check(f'{dtype} in, {dtype} out', y.dtype == dtype, str(y.dtype))
        check_close(f'{dtype} vs F.layer_norm', y, F.layer_norm(x, (64,), w, b))
    #
    # A `state_dict` loads both ways, and the printed module reads like PyTorch's
    section('Drop-in')
    ours, ref = LayerNorm([4, 5], bias=False), nn.LayerNorm([4, 5], bias=False)
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(nn.LayerNorm([4, 5], bias=False).state_dict())
    check('state_dict loads both ways, bias=False -> bias is None', ours.bias is None and ref.bias is None)
    check('repr matches torch', repr(ours) == repr(ref), repr(ours))
    ours.eval()
    x = torch.randn(3, 4, 5)
    check('eval() changes nothing (no running statistics)', torch.equal(ours(x), ours.train()(x)))
    #
    # The trap: the one-pass variance on `float32` rows with mean $10^4$ goes wrong, often NaN
    # after the square root, while the two-pass form used above stays accurate.
    section('Variance: one pass vs two passes, float32 rows with mean 1e4')
    x = torch.randn(64, 256, dtype=torch.float64) + 1e4
    exact = x.var(-1, unbiased=False)
    shortcut = variance_shortcut(x.float()).double()
    two_pass = (x.float() - x.float().mean(-1, keepdim=True)).square().mean(-1).double()
    y_short = (x.float() - x.float().mean(-1, keepdim=True)) / (variance_shortcut(x.float())[:, None] + 1e-5).sqrt()
    check('shortcut: NaN rows after the square root', y_short.isnan().any(-1).sum().item() > 0,
          f'{y_short.isnan().any(-1).sum().item()} of 64 rows')
    check('shortcut: relative error of the variance > 10%',
          ((shortcut - exact).abs() / exact).max().item() > 0.1,
          f'max {((shortcut - exact).abs() / exact).max().item():.2f}')
    check('two-pass: relative error of the variance < 1e-3',
          ((two_pass - exact).abs() / exact).max().item() < 1e-3,
          f'max {((two_pass - exact).abs() / exact).max().item():.1e}')
    # Even the two-pass form loses digits here: the mean itself is a `float32` sum of
    # numbers near $10^4$. Against float64 arithmetic on the same inputs, our error is
    # PyTorch's own (within 2x), not the shortcut's.
    reference = F.layer_norm(x.float().double(), (256,))
    ours_err = (LayerNorm(256)(x.float()).detach().double() - reference).abs().max().item()
    torch_err = (F.layer_norm(x.float(), (256,)).double() - reference).abs().max().item()
    check('LayerNorm error within 2x of F.layer_norm error', ours_err <= 2 * torch_err,
          f'ours {ours_err:.1e}, PyTorch {torch_err:.1e}')
    #
    # Bad input gets a clear error that names what was expected and what came
    section('Errors')
    check_raises('input does not end in normalized_shape', ValueError, layer_norm,
                 torch.randn(3, 5), [4], match='[*, 4]')
    check_raises('empty normalized_shape', ValueError, LayerNorm, [], match='empty')
    check_raises('weight of the wrong shape', ValueError, layer_norm, torch.randn(3, 4), 4, torch.ones(5),
                 match='weight of shape [5]')
    check_raises('normalized_shape of the wrong type', TypeError, LayerNorm, 4.0, match='float')


if __name__ == '__main__':
    _test()
