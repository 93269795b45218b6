r"""
---
title: Layer Normalization
summary: LayerNorm from scratch, a drop-in for torch.nn.LayerNorm, with every argument explained
  and checked against PyTorch.
section: Layer Normalization
order: 1
nav: LayerNorm from scratch
symbols: eps \epsilon; weight \gamma; bias \beta; mean \mu; var \sigma^2; x_hat \hat{x}
---

# Layer Normalization

This is a from-scratch implementation of
[Layer Normalization](https://arxiv.org/abs/1607.06450) (Ba, Kiros and Hinton, 2016)
that takes the same arguments as `torch.nn.LayerNorm`, names its parameters the same
and gives the same outputs and gradients, so you can swap one for the other and load
one's `state_dict` into the other.

### Why it exists

[Batch Normalization](../batch_norm/index.md) normalizes each feature with the mean and
variance *of the batch*. That makes one sample's output depend on the rest of its batch, needs
running averages for inference and is awkward for RNNs (which time step's statistics?).
Layer normalization computes the statistics *of each sample* instead: no batch, no
running averages, and the same computation in training and in evaluation.

### The equations

For each sample, take the $H$ elements that `normalized_shape` names (the last
$D$ dimensions of the input) and compute

$$\mu = \frac{1}{H}\sum_{i=1}^{H} x_i \qquad
\sigma^2 = \frac{1}{H}\sum_{i=1}^{H} \left(x_i - \mu\right)^2$$

$$y_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}\,\gamma_i + \beta_i$$

Three details decide whether you match PyTorch at all:

* the variance is the *biased* one, dividing by $H$, not $H - 1$;
* $\epsilon$ sits *inside* the square root;
* $\gamma$ (`weight`) and $\beta$ (`bias`) have the shape `normalized_shape`: one gain and
  one offset per normalized element, shared by every sample.

### What you will learn

* [the functional form](#the-functional-form) and [the module](#the-module), line by line;
* [what `normalized_shape` means](#what-normalized_shape-means), on worked examples;
* [the geometry](#the-geometry-a-hyperplane-and-a-sphere): a hyperplane, a sphere, and what
  $\gamma$ and $\beta$ are for;
* [what the output ignores](#what-layernorms-output-ignores), and what that does to training;
* why [`normalized_shape=(T, C)`](#normalized_shapet-c-is-not-per-token-normalization) mixes tokens;
* floating point: [a zero printed as `1.1921e-07`](#why-a-zero-prints-as-11921e-07) and
  [the one-pass variance trap](#the-trap-the-one-pass-variance).
"""

import math
import numbers
from typing import List, Optional, Tuple, Union

import torch
from torch import nn

from labml_nn_norm._check import (
    check,
    check_close,
    check_group,
    check_raises,
    note,
    run_side_by_side,
    skipped,
)

_shape_t = Union[int, List[int], Tuple[int, ...], torch.Size]


def layer_norm(input: torch.Tensor, normalized_shape: _shape_t,
               weight: Optional[torch.Tensor] = None, bias: Optional[torch.Tensor] = None,
               eps: float = 1e-5) -> torch.Tensor:
    r"""
    ## The functional form

    Same contract as `torch.nn.functional.layer_norm`.
    """
    shape = normalized_shape_tuple(normalized_shape)
    check_normalized_shape(input, shape, weight, bias)
    # The dimensions to reduce over: the last $D$ of the input
    dims = tuple(range(-len(shape), 0))  # e.g. (-2, -1) for normalized_shape=(T, C)
    #
    # Half-precision inputs (`float16`, `bfloat16`) get their statistics computed in
    # `float32` (`statistics_dtype()` below), as PyTorch's kernels do (the CPU moments in
    # `opmath_t`, which is `float` for both; the CUDA kernel in its accumulate type). In half
    # precision, $x^2$ overflows `float16` once $|x|$ reaches 256 ($256^2 = 65536 >$ 65504, its
    # largest number), and `bfloat16` keeps 8 significant bits, so $256 + 1$ rounds back to $256$: a
    # running sum of ones stops at 256.
    # The output is cast back to the input's dtype at the very end.
    dtype = statistics_dtype(input.dtype)
    x = input.to(dtype)
    #
    # $\mu$, the mean over the normalized elements of each sample
    mean = x.mean(dim=dims, keepdim=True)  # (*, 1, ..., 1): a 1 per normalized dimension
    # $\sigma^2 = \frac{1}{H}\sum_i (x_i - \mu)^2$, computed from the centred values
    # (two passes), not with the one-pass shortcut: [the trap](#the-trap-the-one-pass-variance)
    # below shows why.
    var = (x - mean).square().mean(dim=dims, keepdim=True)  # the shape of mean
    #
    # $\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}$, with $\epsilon$ inside the root
    x_hat = (x - mean) * torch.rsqrt(var + eps)  # the shape of x
    #
    # $y = \gamma \hat{x} + \beta$; $\gamma$ and $\beta$ (shape `normalized_shape`) broadcast
    # over the leading dimensions
    y = x_hat * weight.to(dtype) if weight is not None else x_hat
    if bias is not None:
        y = y + bias.to(dtype)
    #
    return y.to(input.dtype)


class LayerNorm(nn.Module):
    r"""
    ## The module

    * `normalized_shape` is the shape of the elements normalized together (the last
      dimensions of the input): an `int`, a list/tuple of `int`s or a `torch.Size`
    * `eps` is $\epsilon$, added to the variance for numerical stability
    * `elementwise_affine` says whether to learn $\gamma$ and $\beta$
    * `bias` says whether to learn $\beta$ when `elementwise_affine` is set (new in PyTorch 2.1,
      as its maintainers say in
      [pytorch/pytorch issue 108048](https://github.com/pytorch/pytorch/issues/108048))
    * `device`, `dtype` are where and in which precision to create the parameters

    The arguments, their order and defaults, and the parameter names `weight` and `bias` are
    those of `torch.nn.LayerNorm` in PyTorch 2.13, so a `state_dict` moves between the two
    unchanged. There are no buffers: LayerNorm keeps no
    running statistics, so `train()` and `eval()` change nothing.
    """
    __constants__ = ['normalized_shape', 'eps', 'elementwise_affine']

    def __init__(self, normalized_shape: _shape_t, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = normalized_shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        #
        # $\gamma$ and $\beta$, one per normalized element. Without affine (or without bias)
        # the attribute still exists and is `None`, as in PyTorch.
        factory = {'device': device, 'dtype': dtype}
        if elementwise_affine:
            self.weight = nn.Parameter(torch.empty(self.normalized_shape, **factory))
            if bias:
                self.bias = nn.Parameter(torch.empty(self.normalized_shape, **factory))
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


# ## What `normalized_shape` means
#
# An `int` $C$ means "the last dimension, which must have size $C$". A list, tuple or
# `torch.Size` $[d_1, \dots, d_D]$ means "the last $D$ dimensions, which must have exactly these
# sizes"; all $d_1 \cdots d_D$ elements are normalized together. For the rows
#
# $$x = \begin{bmatrix} 1 & 2 & 4 & 1 \\ 6 & 3 & 2 & 4 \\ 2 & 4 & 6 & 1 \end{bmatrix}$$
#
# `normalized_shape=4` normalizes each row on its own: the first row has $\mu = 2$,
# $\sigma^2 = 1.5$, and becomes $[-0.8165, 0, 1.6330, -0.8165]$.
# `normalized_shape=[3, 4]` normalizes all twelve numbers together ($\mu = 3$, $\sigma^2 = 3$),
# and the first row becomes $[-1.1547, -0.5774, 0.5774, -1.1547]$. The `_test()` below
# checks both, and a `(2, 3, 4, 5)` input with `normalized_shape=5` and `[4, 5]` against the
# hand computation.
def _worked_example() -> torch.Tensor:
    # The $3 \times 4$ example of the text, in `float32`
    return torch.tensor([[1, 2, 4, 1], [6, 3, 2, 4], [2, 4, 6, 1]]).float()


@check_group
def _check_worked_examples():
    r"""
    ### Worked examples

    Each row normalized on its own, then all twelve numbers together. The expected numbers are
    the ones printed in the posts this project started from (4 decimals).
    """
    a = _worked_example()  # (3, 4)
    check_close('normalized_shape=4', LayerNorm(4)(a).detach(), torch.tensor(
        [[-0.8165, 0.0000, 1.6330, -0.8165],
         [1.5213, -0.5071, -1.1832, 0.1690],
         [-0.6509, 0.3906, 1.4321, -1.1717]]), atol=1e-4, rtol=0)
    check_close('normalized_shape=[3, 4], first row', LayerNorm([3, 4])(a)[0].detach(),
                torch.tensor([-1.1547, -0.5774, 0.5774, -1.1547]), atol=1e-4, rtol=0)
    check('normalized_shape=[3, 4]: mean 3, biased variance 3',
          a.mean().item() == 3 and a.var(unbiased=False).item() == 3)


@check_group(fold=True)
def _check_by_hand():
    r"""
    ### A `(2, 3, 4, 5)` input against the hand computation

    Normalize over the last dimension, then over the last two: biased variance, $\epsilon$
    inside the root.
    """
    x = torch.rand(2, 3, 4, 5)
    by_hand = (x - x.mean(3, keepdim=True)) / (x.var(3, keepdim=True, unbiased=False) + 1e-5).sqrt()
    check_close('(2, 3, 4, 5), normalized_shape=5 vs by hand', LayerNorm(5)(x).detach(), by_hand)
    flat = x.reshape(2, 3, 20)  # the last two dimensions as one
    by_hand = ((flat - flat.mean(2, keepdim=True)) /
               (flat.var(2, keepdim=True, unbiased=False) + 1e-5).sqrt()).reshape(2, 3, 4, 5)
    check_close('(2, 3, 4, 5), normalized_shape=[4, 5] vs by hand', LayerNorm([4, 5])(x).detach(),
                by_hand)


def normalized_shape_tuple(normalized_shape: _shape_t) -> Tuple[int, ...]:
    """
    ### Reading `normalized_shape`

    An `int` becomes a one-element tuple; a list, tuple or `torch.Size` becomes a tuple of
    `int`s. An empty shape would normalize nothing, so it is an error, with PyTorch's message
    (PyTorch raises it at the first forward, we at construction).
    """
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    if not isinstance(normalized_shape, (list, tuple, torch.Size)):
        raise TypeError(f'normalized_shape must be an int, a list or tuple of ints, '
                        f'or a torch.Size; got {type(normalized_shape).__name__}')
    #
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool)
               for d in normalized_shape):
        raise TypeError(f'normalized_shape must contain only ints, got {list(normalized_shape)}')
    if len(normalized_shape) == 0:
        raise NormalizationError('Expected normalized_shape to be at least 1-dimensional, i.e., '
                                 'containing at least one element, but got normalized_shape = []')
    if any(d < 0 for d in normalized_shape):
        raise NormalizationError(f'normalized_shape must not have negative sizes, '
                                 f'got {list(normalized_shape)}')
    return tuple(int(d) for d in normalized_shape)


def check_normalized_shape(input: torch.Tensor, shape: Tuple[int, ...],
                  weight: Optional[torch.Tensor], bias: Optional[torch.Tensor]):
    """
    ### Shape checks

    The input must *end* in `normalized_shape`; `weight` and `bias` must *be* `normalized_shape`.
    A mismatch is the most common mistake with LayerNorm (passing the batch or sequence length
    in `normalized_shape`). The checks run in PyTorch's order (parameters first) and the
    messages are PyTorch's, word for word (`size[3, 5]` without a space included), so code that
    matches on them keeps working.
    """
    for name, t in (('weight', weight), ('bias', bias)):
        if t is not None and tuple(t.shape) != shape:
            raise NormalizationError(f'Expected {name} to be of same shape as normalized_shape, '
                                     f'but got {name} of shape {list(t.shape)} and '
                                     f'normalized_shape = {list(shape)}')
    if input.dim() < len(shape) or tuple(input.shape[input.dim() - len(shape):]) != shape:
        raise NormalizationError(f'Given normalized_shape={list(shape)}, expected input with '
                                 f'shape [*, {", ".join(map(str, shape))}], '
                                 f'but got input of size{list(input.shape)}')


class NormalizationError(ValueError, RuntimeError):
    """
    ### The error class

    A bad argument is a `ValueError` in Python; PyTorch's own checks raise `RuntimeError`. This
    class is both, so `except ValueError` and an `except RuntimeError` written for `torch.nn`
    catch it. Every page of this site that checks shapes raises it.
    """


def statistics_dtype(dtype: torch.dtype) -> torch.dtype:
    """
    ### The dtype the statistics are computed in

    `float16` and `bfloat16` inputs are computed in `float32`; every other dtype in itself.
    One rule, used by every module of this site that normalizes.
    """
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


# ## The geometry: a hyperplane and a sphere
#
# Without $\gamma$ and $\beta$, LayerNorm does two things to a sample $x$ of $H$ numbers:
#
# * subtracting $\mu$ projects $x$ orthogonally onto the hyperplane $\sum_i x_i = 0$:
#   $x - \mu\mathbf{1} = x - \frac{x \cdot \mathbf{1}}{H}\mathbf{1}$ removes the component along
#   $\mathbf{1} = (1, \dots, 1)$;
# * dividing by $\sigma$ puts the result on the sphere of radius $\sqrt{H}$, because
#   $\lVert x - \mu\mathbf{1} \rVert^2 = H\sigma^2$.
#
# So $\hat{x} \cdot \mathbf{1} = 0$ and $\lVert \hat{x} \rVert = \sqrt{H}$: exactly for
# $\epsilon = 0$, and up to the factor $\sigma / \sqrt{\sigma^2 + \epsilon}$ otherwise (`_test()`
# asserts both). [RMSNorm](../rms_norm/index.md) skips the projection: its output lies on the same
# sphere, but anywhere on it.
#
# That is also why $\gamma$ and $\beta$ exist. Without them, every layer after a LayerNorm would
# see inputs of mean 0 and norm $\sqrt{H}$, whatever it needs. $\gamma$ stretches each coordinate
# and $\beta$ moves the output off the hyperplane, so the next layer gets the scale and offset
# the LayerNorm learns. They are shared by all samples, so they cannot undo the normalization
# itself: with $\gamma = \sigma$ and $\beta = \mu$ of *one* sample, LayerNorm returns that
# sample unchanged (up to $\epsilon$), and every other sample still normalized with its own
# statistics (`_test()` asserts both).
#
# {{ layer_norm_geometry }}
#
@check_group
def _check_geometry():
    r"""
    ### The hyperplane and the sphere

    In `float64`: $\hat{x} \cdot \mathbf{1} = 0$ and $\lVert \hat{x} \rVert = \sqrt{H}$ for
    $\epsilon = 0$; with the default $\epsilon$, the norm is $\sqrt{H}\,\sigma/\sqrt{\sigma^2 +
    \epsilon}$. Then $\gamma = \sigma$, $\beta = \mu$ of sample 0 returns sample 0.
    """
    H = 64
    x = torch.randn(32, H, dtype=torch.float64) * 3 + 2
    x_hat = layer_norm(x, H, eps=0.0)
    check_close('x_hat . 1 = 0 (on the hyperplane)', x_hat.sum(-1),
                torch.zeros(32, dtype=torch.float64), rtol=0, atol=1e-12)
    check_close('|x_hat| = sqrt(H) = 8 (on the sphere), eps = 0', x_hat.norm(dim=-1),
                torch.full((32,), H ** 0.5, dtype=torch.float64), rtol=0, atol=1e-12)
    var = x.var(-1, unbiased=False)
    check_close('eps = 1e-5: |x_hat| = sqrt(H) sigma / sqrt(sigma^2 + eps)',
                layer_norm(x, H).norm(dim=-1), H ** 0.5 * (var / (var + 1e-5)).sqrt(),
                rtol=0, atol=1e-12)
    sigma, mu = (var[0] + 1e-5).sqrt(), x[0].mean()
    y = layer_norm(x, H, sigma.expand(H), mu.expand(H))
    check_close('gamma = sigma, beta = mu of sample 0: sample 0 comes back', y[0], x[0])
    check('... the other samples do not', (y[1:] - x[1:]).abs().max().item() > 1,
          f'max |y - x| over the others {(y[1:] - x[1:]).abs().max().item():.1f}')


# ## What LayerNorm's output ignores
#
# [Ba et al., §5.1](https://arxiv.org/abs/1607.06450) compare the invariances of batch, weight
# and layer normalization (their Table 1). For a layer $a = Wx + b$ followed by LayerNorm, the
# output does not change when
#
# * the whole weight matrix (and bias) is scaled, $W \to \delta W$, $b \to \delta b$: $a$ scales,
#   and so do $\mu$ and $\sigma$;
# * the whole weight matrix is re-centred, $W \to W + \mathbf{1}v^\top$ (every row gets the
#   same $v$, every bias the same $c$): every $a_i$ gains the same $v^\top x + c$, which the
#   mean removes;
# * a single training case is scaled, $x \to \delta x$ for that one sample (with $b = 0$): its
#   $a$ scales, and LayerNorm divides by that sample's own $\sigma$.
#
# The last one is what separates LayerNorm from BatchNorm: BatchNorm's statistics are those of the
# batch, so scaling one sample changes the normalized output of *every other* sample in the batch
# (asserted). Scaling *every* sample by the same $\delta$ (re-scaling the data set) leaves
# BatchNorm's output unchanged as well (asserted), so a check that scales the whole batch cannot
# tell the two apart.
#
# It *does* change when one neuron's weight vector (one row of $W$) is scaled: that neuron's
# $a_i$ changes relative to the others. (Batch and weight normalization normalize each neuron
# separately, so they are invariant to that one.) The scalings are exact in real arithmetic
# only for $\epsilon = 0$ ($\epsilon$ is not scaled along); `_test()` asserts each case in
# `float64` with $\epsilon = 0$, and the re-centring also with the default $\epsilon$.
# Each of these is stated in the text of §5.1 ("Weight re-scaling and re-centering", with
# $W' = \delta W + \mathbf{1}\gamma^\top$, and "Data re-scaling and re-centering"), which Table 1
# summarises; `_test()` checks each one.
#
@check_group
def _check_invariances():
    r"""
    ### The invariances of Ba et al. §5.1, against BatchNorm's

    A `Linear` layer followed by LayerNorm, in `float64`. The scalings need $\epsilon = 0$ to be
    exact; the re-centring holds with any $\epsilon$. Then one sample scaled against the whole
    batch scaled, for LayerNorm and for BatchNorm (batch statistics, $\epsilon = 10^{-30}$, which
    leaves a `float64` variance near 1 unchanged).
    """
    from labml_nn_norm.batch_norm import BatchNorm

    lin_in, lin_out, f64 = 10, 16, {'dtype': torch.float64}
    W, bias = torch.randn(lin_out, lin_in, **f64), torch.randn(lin_out, **f64)  # the `Linear`
    x = torch.randn(5, lin_in, **f64)  # 5 samples
    gamma, beta = torch.randn(lin_out, **f64), torch.randn(lin_out, **f64)

    def lin_ln(W_lin, b_lin, inputs, eps=0.0):  # `Linear`, then LayerNorm with gamma, beta
        return layer_norm(inputs @ W_lin.T + b_lin, lin_out, gamma, beta, eps)

    base = lin_ln(W, bias, x)
    check_close('whole weight matrix (and bias) scaled by 7', lin_ln(7 * W, 7 * bias, x), base,
                rtol=0, atol=1e-12)
    v, c = torch.randn(lin_in, dtype=torch.float64), 0.3
    for eps in (0.0, 1e-5):
        check_close(f'whole weight matrix re-centred, W + 1 v^T, b + c (eps={eps})',
                    lin_ln(W + v, bias + c, x, eps), lin_ln(W, bias, x, eps), rtol=0, atol=1e-12)
    W_one_row = W.clone()
    W_one_row[0] *= 3
    changed = (lin_ln(W_one_row, bias, x) - base).abs().max().item()
    check('NOT invariant: one weight vector (one row of W) scaled by 3', changed > 0.1,
          f'max change of the output {changed:.2f}')
    #
    # One training case scaled (sample 0 by 3, the others unchanged), against the whole batch
    # scaled by 3; no `Linear` bias
    zero = torch.zeros_like(bias)
    one_case = x.clone()
    one_case[0] *= 3
    check_close('one training case (sample 0) scaled by 3: LayerNorm output unchanged',
                lin_ln(W, zero, one_case), lin_ln(W, zero, x), rtol=0, atol=1e-12)
    bn = BatchNorm(lin_out, eps=1e-30, affine=False, track_running_stats=False).double()
    a, a_one = x @ W.T, one_case @ W.T
    others = (bn(a_one)[1:] - bn(a)[1:]).abs().max().item()
    check('... BatchNorm: the OTHER samples\' outputs change', others > 0.1,
          f'max change {others:.2f}')
    check_close('whole batch scaled by 3: BatchNorm output unchanged too (so that check cannot '
                'tell them apart)', bn(3 * a), bn(a), rtol=0, atol=1e-12)


# ### What the invariance does to training
#
# Because the output does not change when the weights $W$ before a LayerNorm are scaled (here
# without a bias), the loss is constant along the ray $\delta W$, so its gradient has no component
# along $W$: $\langle \nabla_W L, W \rangle = 0$ (differentiate $L(\delta W)$ at $\delta = 1$).
# Two consequences follow, and `_test()` asserts all three statements in `float64` with
# $\epsilon = 0$:
#
# * a plain gradient step only makes the weights longer, by Pythagoras:
#   $\lVert W - \eta g \rVert^2 = \lVert W \rVert^2 + \eta^2 \lVert g \rVert^2$;
# * the gradient shrinks as the weights grow, $\nabla L(\delta W) = \nabla L(W) / \delta$, while
#   turning $W$ by a given angle takes a step proportional to $\lVert W \rVert$: the effective
#   learning rate for the direction of $W$ falls like $\eta / \lVert W \rVert^2$.
#
# Weight decay works against that growth. Common recipes exempt LayerNorm's own $\gamma$ and
# $\beta$, and biases, from it: nanoGPT's `configure_optimizers` decays only parameters with two or
# more dimensions, "all weight tensors in matmuls + embeddings decay, all biases and layernorms
# don't" ([`model.py` L268-L274](https://github.com/karpathy/nanoGPT/blob/3adf61e154c3fe3fca428ad6bc3818b27a3b8291/model.py#L268-L274)).
# We have not measured what the exemption does to training.
#
@check_group
def _check_training_invariance():
    r"""
    ### Scale invariance in training

    `Linear(bias=False)` then LayerNorm ($\epsilon = 0$) and a loss, in `float64`: the gradient of
    $W$ is orthogonal to $W$, a gradient step makes $W$ longer by Pythagoras, and the gradient at
    $2W$ is half that at $W$.
    """
    x = torch.randn(16, 10, dtype=torch.float64)
    target = torch.randn(16, 12, dtype=torch.float64)
    gamma, beta = torch.randn(12, dtype=torch.float64), torch.randn(12, dtype=torch.float64)

    def grad_at(W):
        W = W.clone().requires_grad_()
        loss = (layer_norm(x @ W.T, 12, gamma, beta, 0.0) - target).square().mean()
        loss.backward()
        return W.grad

    W = torch.randn(12, 10, dtype=torch.float64)
    g = grad_at(W)
    cosine = ((g * W).sum() / (g.norm() * W.norm())).item()
    check('<grad W, W> = 0 (cosine to rounding)', abs(cosine) < 1e-12, f'cosine {cosine:.1e}')
    lr = 0.5
    check_close('|W - lr g|^2 = |W|^2 + lr^2 |g|^2', (W - lr * g).norm() ** 2,
                W.norm() ** 2 + lr ** 2 * g.norm() ** 2, rtol=1e-12, atol=0)
    check_close('grad at 2W = (grad at W) / 2', grad_at(2 * W), g / 2, rtol=1e-10, atol=1e-14)


# ### A batch of one, in BatchNorm
#
# BatchNorm's dependence on the batch shows most plainly in a batch of one. In training,
# PyTorch's `BatchNorm1d` refuses a `(1, C)` input (one value per channel, a `ValueError`),
# while `BatchNorm2d` accepts a `(1, C, H, W)` image and normalizes each channel over that
# image's own positions: it silently becomes instance normalization (`F.instance_norm`).
# `_test()` asserts both. In data-parallel training PyTorch's BatchNorm uses each device's
# part of the batch; statistics of the whole batch are opt-in, with `nn.SyncBatchNorm`, which
# gathers every device's per-channel statistics with `all_gather`
# ([`_functions.py` L59-L86](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L59-L86);
# see [across devices](../distributed/index.md)). LayerNorm has neither problem.
#
@check_group(fold=True)
def _check_why_it_exists():
    """
    ### `BatchNorm1d` and `BatchNorm2d` on a batch of one, in training mode

    PyTorch's modules in training mode: `(1, C)` is refused, `(1, C, H, W)` is instance norm.
    """
    import torch.nn.functional as F

    check_raises('BatchNorm1d(3) on a (1, 3) input: refused', ValueError, nn.BatchNorm1d(3),
                 torch.randn(1, 3), match='more than 1 value per channel')
    image = torch.randn(1, 3, 5, 5) * 2 + 1
    check_close('BatchNorm2d(3) on a (1, 3, 5, 5) image == F.instance_norm',
                nn.BatchNorm2d(3)(image), F.instance_norm(image))


# ## `normalized_shape=(T, C)` is not per-token normalization
#
# Some posts describe LayerNorm on a `[batch_size, seq_len, emb_dim]` input as normalizing each
# sample's whole `[seq_len, emb_dim]` matrix, i.e. `nn.LayerNorm((T, C))`. Transformers use
# `nn.LayerNorm(C)`: one mean and variance *per token*. With `(T, C)` there is one mean over all
# tokens of the sequence, and `_test()` shows the three consequences:
#
# * tokens mix: changing one token changes the output of every other token;
# * padding leaks in: appending padding tokens changes the output of the real ones (with `C` the
#   outputs stay bitwise equal);
# * in a causal decoder, position $t$ sees the future: the output at $t$ has a non-zero gradient
#   with respect to later tokens (with `C` that gradient is exactly $0$).
#
@check_group
def _check_per_token():
    r"""
    ### `normalized_shape=(T, C)` against the per-token `C`

    On one sequence of $T$ tokens: tokens mix, padding leaks in, and position $t$ sees the future.
    """
    T, C, P = 6, 8, 3  # tokens, channels, padding tokens
    x = torch.randn(T, C, dtype=torch.float64) * 2 + 1
    per_token, per_seq = LayerNorm(C).double(), LayerNorm((T, C)).double()
    x_changed = x.clone()
    x_changed[-1] += 5
    check('(T, C): changing the last token changes token 0\'s output',
          (per_seq(x_changed)[0] - per_seq(x)[0]).abs().max().item() > 1e-2)
    check('C: the other tokens\' outputs are bitwise unchanged',
          torch.equal(per_token(x_changed)[:-1], per_token(x)[:-1]))
    padded = torch.cat([x, torch.zeros(P, C, dtype=x.dtype)])
    check('(T, C) -> (T + P, C): padding changes the real tokens\' outputs',
          (LayerNorm((T + P, C)).double()(padded)[:T] - per_seq(x)).abs().max().item() > 1e-2)
    check('C: padding leaves them bitwise unchanged',
          torch.equal(per_token(padded)[:T], per_token(x)))
    # The gradient of (a random projection of) token $t$'s output with respect to every input token
    t, proj = 2, torch.randn(C, dtype=x.dtype)
    future = {}  # the largest |gradient| on the tokens after t
    for name, ln in (('(T, C)', per_seq), ('C', per_token)):
        xg = x.clone().requires_grad_()
        (ln(xg)[t] * proj).sum().backward()
        future[name] = xg.grad[t + 1:].abs().max().item()
    check(f'(T, C): output at t={t} depends on tokens after t (sees the future)',
          future['(T, C)'] > 1e-3, f'max |grad| on future tokens = {future["(T, C)"]:.2e}')
    check(f'C: output at t={t} has exactly zero gradient w.r.t. tokens after t',
          future['C'] == 0.0, f'max |grad| on future tokens = {future["C"]}')


# ## Why a zero prints as `1.1921e-07`
#
# In the `[3, 4]` example the middle element, $x_{1,1} = 3$, equals the mean, so its output is
# exactly $0$. Our `layer_norm` prints `0.`; a blog post this project started from (in Chinese;
# we found no public address for it, so we cannot link it) shows `1.1921e-07` from
# `nn.LayerNorm([3, 4])`, and `nn.LayerNorm([3, 4])` of PyTorch 2.13 on our (AVX-512) CPU prints
# `1.3765e-07`.
# Neither is a bug: both are one rounding step of the *mean*. PyTorch's CPU kernel gets
# $\mu$ from a running (Welford) update in `float32`, $m_k = m_{k-1} + (x_k - m_{k-1})/k$, and on
# these twelve numbers that lands one `float32` step below 3, on $3 - 2^{-22} = 2.9999998$
# (`welford_mean` below reproduces it). Then
#
# * $(x - \mu)\cdot\frac{1}{\sigma} = 2^{-22} \cdot 0.57735 = 1.3765 \cdot 10^{-7}$
#   (what PyTorch 2.13 prints);
# * $x\cdot\frac{1}{\sigma} + \big(-\mu\cdot\frac{1}{\sigma}\big)$, the form of
#   [PyTorch's older CPU kernel](https://github.com/pytorch/pytorch/blob/0354b60c4e0ee0cb32307500f92bb03e8d0ed344/aten/src/ATen/native/cpu/layer_norm_kernel.cpp#L47-L52),
#   is the difference of two `float32` numbers near $1.732$, one step apart:
#   $2^{-23} =$ `torch.finfo(torch.float32).eps` $= 1.1921 \cdot 10^{-7}$ (what the blog printed).
#
# The blog does not say which PyTorch it ran; that it combined the Welford mean with the second
# form is our inference from the number, which that combination reproduces exactly. The 2019
# kernel linked above summed plainly and got $\mu = 3$ exactly here; replaying its `float32` loop
# step by step (`kernel_2019_replay` below, without fused multiply-adds) gives exactly $0$. We have
# not run a 2019 build, so that $0$ is the replay's, not a printed one. `_test()` asserts each of
# these numbers. PyTorch's own `1.3765e-07` is asserted only on a CPU with 16-float (AVX-512)
# registers, where our model of its mean applies; on other CPUs the check prints "skipped", with
# the mean and the value PyTorch gave there.
#
def welford_mean(x: torch.Tensor) -> torch.Tensor:
    r"""
    ### The running (Welford) mean

    $m_k = m_{k-1} + (x_k - m_{k-1}) / k$ over the last dimension, one element at a time, in
    the input's dtype. PyTorch's CPU moments
    ([`moments_utils.h`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/aten/src/ATen/native/cpu/moments_utils.h#L174-L180))
    apply this update to the elements left over after whole vector registers; a row of 12
    `float32` numbers on a CPU with 16-float (AVX-512) registers is all leftover. (That the
    layer-norm kernel takes its mean from these moments we saw in copies of
    `layer_norm_kernel.cpp` we could not pin to 2.13; the matching number is our evidence.)
    It is here only to reproduce PyTorch's mean of the worked example, not to be fast.
    Each step rounds, so the result can differ from `x.mean()` in the last bit.
    """
    m = torch.zeros(x.shape[:-1], dtype=x.dtype)
    for k in range(x.shape[-1]):
        # $m \leftarrow m + (x_k - m)/k$, rounded to the dtype at every step
        m = m + (x[..., k] - m) / (k + 1)
    return m


def kernel_2019_replay(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    r"""
    ### The 2019 CPU kernel, replayed

    [Its loop](https://github.com/pytorch/pytorch/blob/0354b60c4e0ee0cb32307500f92bb03e8d0ed344/aten/src/ATen/native/cpu/layer_norm_kernel.cpp#L32-L52)
    in `float32` tensors, one rounding per operation (no fused multiply-add): plain running sums
    of $x$ and $x^2$, times $c = 1/H$, the one-pass variance clamped at 0, and
    $y = x \cdot r + (-r\mu)$. One row of `x` only, here to reproduce its $0$.
    """
    one = torch.ones((), dtype=x.dtype)
    total, total_sq = torch.zeros((), dtype=x.dtype), torch.zeros((), dtype=x.dtype)
    for v in x:
        total, total_sq = total + v, total_sq + v * v
    c = one / x.numel()
    mean = total * c
    # $\max(\mathbb{E}[x^2] - \mu^2, 0)$, then $r = 1 / \sqrt{\sigma^2 + \epsilon}$
    var = torch.clamp(total_sq * c - mean * mean, min=0)
    rstd = one / torch.sqrt(var + eps)
    return x * rstd + (-rstd * mean)


@check_group
def _check_printed_zero():
    r"""
    ### The zero that is not printed as zero, number by number

    $x_{1,1} = 3 = \mu$. Our mean is exactly 3; PyTorch's is the `float32` Welford mean, one step
    ($2^{-22}$) below 3; the 2019 kernel's plain sum gives 3 again.
    """
    a = _worked_example()
    ours = LayerNorm([3, 4])(a)[1, 1].item()
    check('ours: exactly 0 (our mean is exactly 3)', ours == 0.0, f'{ours}')
    # The running mean in `float32`, and $1/\sigma$ as `float32` computes it
    mu = welford_mean(a.reshape(12))
    r = torch.rsqrt(a.var(unbiased=False) + 1e-5)
    check('float32 Welford mean = 3 - 2^-22', mu.item() == 3 - 2 ** -22, f'{mu.item():.9f}')
    centred_first = ((a[1, 1] - mu) * r).item()
    check('(x - mu) * rstd = 2^-22 * rstd = 1.3765e-07',
          centred_first == 2 ** -22 * r.item() and abs(centred_first - 1.3765e-7) < 5e-12,
          f'{centred_first:.4e}')
    scale_bias = (a[1, 1] * r + (-mu * r)).item()
    check('x * rstd + (-mu * rstd) = 2^-23 = finfo(float32).eps = 1.1921e-07 (the blog\'s number)',
          scale_bias == 2 ** -23 == torch.finfo(torch.float32).eps and
          abs(scale_bias - 1.1921e-7) < 5e-12, f'{scale_bias:.4e}')
    replay = kernel_2019_replay(a.reshape(12))[5].item()
    check('replay of the 2019 kernel (plain sums, no FMA): exactly 0', replay == 0.0, f'{replay}')


@check_group(fold=True)
def _check_printed_zero_torch():
    r"""
    ### PyTorch's own mean and printed zero, on an AVX-512 CPU

    PyTorch's own numbers depend on the CPU's vector width: our Welford model is that of a CPU
    with 16-float registers, where the 12 numbers are all left over. On another CPU this group
    says "skipped" and prints what PyTorch gave there.
    """
    a = _worked_example()
    mu = welford_mean(a.reshape(12))
    centred_first = ((a[1, 1] - mu) * torch.rsqrt(a.var(unbiased=False) + 1e-5)).item()
    cpu = torch.backends.cpu.get_cpu_capability()
    y_pt = nn.LayerNorm([3, 4])(a)[1, 1].item()
    _, mean_pt, _ = torch.native_layer_norm(a, [3, 4], None, None, 1e-5)
    if cpu == 'AVX512':
        check('torch.native_layer_norm\'s mean == our float32 Welford mean (AVX-512 CPU)',
              mean_pt.item() == mu.item(), f'{mean_pt.item():.9f}')
        check('nn.LayerNorm([3, 4]) prints (x - mu) * rstd = 1.3765e-07 (AVX-512 CPU)',
              y_pt == centred_first, f'{y_pt:.4e}')
    else:
        skipped('PyTorch\'s mean and its 1.3765e-07',
                f'our model of its mean is for AVX-512 registers, this CPU is {cpu}: its mean is '
                f'{mean_pt.item():.9f}, nn.LayerNorm([3, 4]) prints {y_pt:.4e}')


def variance_shortcut(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""
    ## The trap: the one-pass variance

    $\mathbb{E}[x^2] - \mathbb{E}[x]^2$ is algebraically equal to the two-pass variance, and
    popular because it needs one pass over the data: the [labml implementation](https://github.com/labmlai/annotated_deep_learning_paper_implementations/blob/56a460a243676fd04d73e386679ddc6b7a508fce/labml_nn/normalization/layer_norm/__init__.py#L109-L114)
    this project started from uses it, and so did
    [PyTorch's CPU kernel of 2019](https://github.com/pytorch/pytorch/blob/0354b60c4e0ee0cb32307500f92bb03e8d0ed344/aten/src/ATen/native/cpu/layer_norm_kernel.cpp#L41-L45)
    (clamped at 0). In floating point, for a row with mean $10^4$ and spread 1, both terms are
    about $10^8$, where `float32` numbers are 8 apart, so their difference (the true variance,
    1) is lost in rounding.
    """
    return x.square().mean(dim) - x.mean(dim).square()


@check_group
def _check_one_pass_variance():
    r"""
    ### The one-pass variance, measured on `float32` rows with mean 1e4

    The one-pass variance on `float32` rows with mean $10^4$ goes wrong, often NaN after the
    square root, while the two-pass form used above stays accurate.

    The [numerics page](../numerics/index.md) compares all the ways to compute the variance.
    """
    import numpy as np
    import torch.nn.functional as F

    check('float32 numbers near 1e8 are 8 apart', np.spacing(np.float32(1e8)) == 8)
    x = torch.randn(64, 256, dtype=torch.float64) + 1e4  # 64 rows, mean 1e4, spread 1
    x32, exact = x.float(), x.var(-1, unbiased=False)
    shortcut = variance_shortcut(x32).double()  # (64,)
    two_pass = (x32 - x32.mean(-1, keepdim=True)).square().mean(-1).double()
    y_short = (x32 - x32.mean(-1, keepdim=True)) / (shortcut.float()[:, None] + 1e-5).sqrt()
    nan_rows = y_short.isnan().any(-1).sum().item()
    check('shortcut: NaN rows after the square root', nan_rows > 0, f'{nan_rows} of 64 rows')
    err_short, err_two = (((v - exact).abs() / exact).max().item() for v in (shortcut, two_pass))
    check('shortcut: relative error of the variance > 10%', err_short > 0.1, f'max {err_short:.2f}')
    check('two-pass: relative error of the variance < 1e-3', err_two < 1e-3, f'max {err_two:.1e}')
    # Even the two-pass form loses digits here: the mean itself is a `float32` sum of
    # numbers near $10^4$. Against float64 arithmetic on the same inputs, our error is
    # PyTorch's own (within 2x), not the shortcut's.
    reference = F.layer_norm(x32.double(), (256,))
    ours_err = (LayerNorm(256)(x32).detach().double() - reference).abs().max().item()
    torch_err = (F.layer_norm(x32, (256,)).double() - reference).abs().max().item()
    check('LayerNorm error within 2x of F.layer_norm error', ours_err <= 2 * torch_err,
          f'ours {ours_err:.1e}, PyTorch {torch_err:.1e}')
    note('for comparison, the shortcut\'s rows that are not NaN',
         f'max error {(y_short.double() - reference).nan_to_num(0).abs().max().item():.1e}')


# ## Matching PyTorch, to within rounding
#
# "Match" means *to within rounding*, not bit for bit: PyTorch's kernel computes the mean in
# another order than `x.mean()` does, so the last bits differ. `_test()` compares with
# `torch.testing.assert_close` at its default tolerances (`float32`: relative $1.3 \cdot 10^{-6}$,
# absolute $10^{-5}$; `float64`: $10^{-7}$ and $10^{-7}$) and prints the largest difference. It
# asserts bitwise equality (`torch.equal`) only where it holds: the first worked example above.
# For `float16` and `bfloat16` inputs ours and PyTorch's both compute in `float32` and round once at
# the end, but they sum in different orders, so the `float32` values before that rounding differ in
# their last bits, and an output that lands near a rounding boundary of the half type rounds the
# other way. On the CPU, over 200 random `(8, 64)` draws (seed 0, 102,400 outputs per dtype),
# `_test()` counts the outputs that differ from `F.layer_norm`'s, prints the counts and asserts
# that fewer than 1 in 1,000 differ for each dtype and that none is more than one rounding step
# away (one step of the half type at the output's magnitude, or at 1 for outputs below 1).
#
@check_group(fold=True)
def _check_against_torch():
    """
    ### Against `torch.nn.LayerNorm`: outputs and gradients, `float32`

    The worked example, bitwise. Then random, shifted inputs of several shapes and every flag:
    outputs and gradients of the input, `weight` and `bias` against `torch.nn.LayerNorm` with the
    same (random) parameters, at `assert_close`'s default tolerances for `float32`. Each line
    prints the largest difference of the outputs over all three flag settings.
    """
    a = _worked_example()
    check('worked example, normalized_shape=4: bitwise equal to nn.LayerNorm(4)',
          torch.equal(LayerNorm(4)(a), nn.LayerNorm(4)(a)))
    cases = [((4, 16), 16), ((2, 7, 32), 32), ((2, 3, 4, 5), (4, 5)),
             ((3, 2, 3, 4), torch.Size([2, 3, 4])), ((0, 8), 8), ((5,), [5])]
    for shape, ns in cases:
        outputs, references = [], []
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
            outputs.append(y)
            references.append(y_ref)
        check_close(f'input {tuple(shape)}, normalized_shape={ns}, outputs of all 3 flag settings',
                    tuple(outputs), tuple(references))


@check_group(fold=True)
def _check_dtypes():
    """
    ### `float64` and half precision against `F.layer_norm`, on the CPU

    The functional form in `float64`; then half precision, counted over many draws: statistics in
    `float32`, output in the input's dtype, and how many outputs round differently from PyTorch's.
    """
    import torch.nn.functional as F

    x = torch.randn(3, 2, 3, 4, dtype=torch.float64) * 3 + 50
    check_close('layer_norm == F.layer_norm, float64', layer_norm(x, (3, 4)),
                F.layer_norm(x, (3, 4)))
    draws, gen = 200, torch.Generator().manual_seed(0)
    for dtype in (torch.float16, torch.bfloat16):
        differ, steps, gap32 = 0, 0.0, 0.0
        for _ in range(draws):
            x = (torch.randn(8, 64, generator=gen) + 3).to(dtype)
            w = torch.randn(64, generator=gen).to(dtype)
            b = torch.randn(64, generator=gen).to(dtype)
            y, y_ref = layer_norm(x, 64, w, b), F.layer_norm(x, (64,), w, b)
            differ += (y != y_ref).sum().item()
            # One rounding step of the dtype at the output's magnitude (at 1 below 1)
            big = torch.maximum(y.double().abs(), y_ref.double().abs()).clamp_min(1.0)
            step = torch.finfo(dtype).eps * torch.exp2(torch.floor(torch.log2(big)))
            steps = max(steps, ((y.double() - y_ref.double()).abs() / step).max().item())
            # The `float32` values before the rounding, on the same numbers given as `float32`
            x32, w32, b32 = x.float(), w.float(), b.float()
            gap32 = max(gap32, (layer_norm(x32, 64, w32, b32) -
                                F.layer_norm(x32, (64,), w32, b32)).abs().max().item())
        total = draws * 8 * 64
        check(f'{dtype} in, {dtype} out', y.dtype == dtype, str(y.dtype))
        check(f'{dtype}: fewer than 1 in 1000 outputs differ from F.layer_norm '
              f'({draws} draws of (8, 64), seed 0)', differ < total / 1000,
              f'{differ} of {total}')
        check(f'{dtype}: each differing output is at most one rounding step away', steps <= 1,
              f'max {steps:.0f} step')
        note(f'{dtype}: the same draws in float32, ours vs F.layer_norm', f'max |Δ| = {gap32:.1e}')
    # Why not compute the statistics in half precision: the two numbers quoted in `layer_norm`
    check('float16: 256^2 overflows to inf',
          torch.tensor(256., dtype=torch.float16).square().isinf().item())
    check('bfloat16: 256 + 1 rounds to 256',
          (torch.tensor(256., dtype=torch.bfloat16) + 1).item() == 256)


# ## Under autocast
#
# Under `torch.autocast` on CUDA, `layer_norm` runs in `float32`: PyTorch's
# [AMP documentation](https://pytorch.org/docs/stable/amp.html#cuda-ops-that-can-autocast-to-float32)
# lists it among the "CUDA Ops that can autocast to float32", and 2.13's shared op list
# `AT_FORALL_FP32` holds `layer_norm`, `native_layer_norm`, `rms_norm` and `group_norm`
# ([`autocast_mode.h` L854-L876](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/aten/src/ATen/autocast_mode.h#L854-L876)).
# We could not run CUDA here. CPU autocast has lists of its own, which we did not read; what we
# measured on the CPU (asserted) is that under `torch.autocast('cpu', dtype=torch.bfloat16)`,
# `F.layer_norm` returns `float32` for a `float32` input and `bfloat16` for a `bfloat16` input,
# while a `Linear` layer's output is `bfloat16`.
#
@check_group(fold=True)
def _check_autocast():
    """
    ### `F.layer_norm` and `Linear` under CPU autocast (`bfloat16`)

    What `F.layer_norm` returns under `torch.autocast('cpu', dtype=torch.bfloat16)`, next to a
    `Linear` layer (which autocast runs in `bfloat16`).
    """
    import torch.nn.functional as F

    x = torch.randn(4, 8)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        from_32, from_16 = F.layer_norm(x, (8,)), F.layer_norm(x.bfloat16(), (8,))
        linear = nn.Linear(8, 8)(x)
    check('F.layer_norm: float32 in, float32 out', from_32.dtype == torch.float32,
          str(from_32.dtype))
    check('F.layer_norm: bfloat16 in, bfloat16 out', from_16.dtype == torch.bfloat16,
          str(from_16.dtype))
    check('Linear: float32 in, bfloat16 out', linear.dtype == torch.bfloat16, str(linear.dtype))


# ## A drop-in, and where it is not
#
# `LayerNorm` takes `torch.nn.LayerNorm`'s arguments in the same order and has the same `weight`
# and `bias` (or `None`), `repr`, `state_dict`, outputs and gradients. Its errors are a
# `NormalizationError`, a class derived from both `ValueError` (Python's class for a bad argument)
# and `RuntimeError` (the class PyTorch's checks raise), so an `except RuntimeError:` written for
# `torch.nn.LayerNorm` still catches ours after the swap. For an input or a `weight` or `bias`
# that does not fit, the message is PyTorch's, word for word. What remains different, each
# asserted in `_test()`:
#
# * an empty `normalized_shape`, `[]`: PyTorch builds the module and raises at the first forward; we
#   raise at construction (with PyTorch's message);
# * a negative size: both raise at construction, PyTorch while creating `weight`, with another
#   message;
# * mixed dtypes: PyTorch's CPU kernel refuses a `float32` input with `bfloat16` parameters
#   ("mixed dtype (CPU): expect parameter to have scalar type of Float"); ours casts the
#   parameters to the computation dtype, so it gives what `float32` parameters would give;
# * it is not an instance of `torch.nn.LayerNorm`, so code that looks for LayerNorms with
#   `isinstance` does not find it.
#
# `tests/test_properties.py` swaps it, with our RMSNorm and BatchNorm, into a small PyTorch model
# and checks outputs, `state_dict` and that `except RuntimeError` catches a bad shape.
#
@check_group(fold=True)
def _check_drop_in():
    """
    ### Drop-in: `state_dict`, `repr`, PyTorch's errors, and what remains different

    A `state_dict` loads both ways, the printed module reads like PyTorch's, PyTorch's messages
    and an error class that `except RuntimeError` catches; then each remaining difference.
    """
    import torch.nn.functional as F

    ours, ref = LayerNorm([4, 5], bias=False), nn.LayerNorm([4, 5], bias=False)
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(nn.LayerNorm([4, 5], bias=False).state_dict())
    check('state_dict loads both ways, bias=False -> bias is None',
          ours.bias is None and ref.bias is None)
    check('repr matches torch', repr(ours) == repr(ref), repr(ours))
    ours.eval()
    x = torch.randn(3, 4, 5)
    check('eval() changes nothing (no running statistics)', torch.equal(ours(x), ours.train()(x)))
    #
    # The same exception, caught the same way, with the same text
    bad_calls = [('input of size [3, 5], normalized_shape=[4]', (torch.randn(3, 5), [4])),
                 ('input of size [3, 5], normalized_shape=[2, 4]', (torch.randn(3, 5), [2, 4])),
                 ('weight of shape [5]', (torch.randn(3, 4), [4], torch.ones(5))),
                 ('bias of shape [5]', (torch.randn(3, 4), [4], torch.ones(4), torch.ones(5)))]
    for name, args in bad_calls:
        messages = []
        for fn in (layer_norm, F.layer_norm):
            try:
                fn(*args)
            except RuntimeError as e:
                messages.append(str(e))
        check(f'{name}: both raise a RuntimeError, same message', len(messages) == 2 and
              messages[0] == messages[1], messages[0] if messages else 'nothing raised')
    check('NormalizationError is a ValueError and a RuntimeError',
          issubclass(NormalizationError, ValueError)
          and issubclass(NormalizationError, RuntimeError))
    #
    # What differs: an empty shape (when), a negative size (when, text), mixed dtypes, `isinstance`
    empty = nn.LayerNorm([])
    check_raises('[]: torch builds the module, raises at forward', RuntimeError, empty,
                 torch.randn(3), match='at least 1-dimensional')
    check_raises('[]: ours raises at construction, same text', RuntimeError, LayerNorm, [],
                 match='at least 1-dimensional')
    check_raises('negative size: torch raises creating weight', RuntimeError, nn.LayerNorm, -1,
                 match='negative dimension')
    check_raises('negative size: ours raises at construction, another text', RuntimeError,
                 LayerNorm, -1, match='negative sizes')
    x32, w16 = torch.randn(3, 4), torch.randn(4, dtype=torch.bfloat16)
    check_raises('float32 input, bfloat16 parameters: torch (CPU) refuses', RuntimeError,
                 F.layer_norm, x32, (4,), w16, w16, match='mixed dtype (CPU)')
    y = layer_norm(x32, 4, w16, w16)
    check('... ours computes it in float32, as with float32 parameters',
          y.dtype == torch.float32 and torch.equal(y, layer_norm(x32, 4, w16.float(), w16.float())))
    check('not an instance of torch.nn.LayerNorm', not isinstance(LayerNorm(4), nn.LayerNorm))


@check_group(fold=True)
def _check_errors():
    """
    ### Errors: bad shapes and a bad `normalized_shape`

    Bad input gets a clear error that names what was expected and what came; shape errors are
    `NormalizationError`, which `except ValueError` and `except RuntimeError` both catch.
    """
    check_raises('input does not end in normalized_shape', RuntimeError, layer_norm,
                 torch.randn(3, 5), [4], match='[*, 4]')
    check_raises('... also a ValueError', ValueError, layer_norm, torch.randn(3, 5), [4],
                 match='[*, 4]')
    check_raises('empty normalized_shape', NormalizationError, LayerNorm, [],
                 match='at least 1-dimensional')
    check_raises('weight of the wrong shape', NormalizationError, layer_norm,
                 torch.randn(3, 4), 4, torch.ones(5), match='weight of shape [5]')
    check_raises('normalized_shape of the wrong type', TypeError, LayerNorm, 4.0, match='float')


# ## Figures
#
# Every figure on this site is an SVG string that the page's own functions draw from the page's
# own computations, so a change to the code changes the picture. Text, axes and outlines are
# `currentColor`, the page's text colour, so they follow the light and the dark palette; the
# data colours below have a contrast of at least 3:1 against white and against the dark
# background `#1e2129`.
FIGURE_COLOURS = {'blue': '#2f80ed', 'orange': '#d9730d', 'green': '#1a9e62',
                  'purple': '#a855f7', 'grey': '#7f8694'}


def svg_figure(body: str, width: int, height: int, label: str, caption: str) -> str:
    """
    The figure as one line of HTML (a blank line would end Markdown's HTML block): the SVG with
    `role="img"` and `aria-label`, the name a screen reader reads, then the caption.
    """
    from html import escape
    return (f'<figure class="lit-figure"><svg xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(label)}" font-family="sans-serif" font-size="12" '
            f'fill="currentColor">{body}</svg><figcaption>{escape(caption, quote=False)}'
            '</figcaption></figure>')


def check_figure(name: str, html: str, changed: str, max_bytes: int = 12_000):
    """
    What every figure must satisfy, asserted by the page that draws it: well-formed SVG with
    `role="img"`, a non-empty accessible name and a caption, a few kilobytes, and a different
    drawing when an input of the drawing function changes (`changed`).
    """
    import re
    import xml.etree.ElementTree as ET
    svg = re.search(r'<svg.*</svg>', html).group(0)
    root = ET.fromstring(svg)
    label = root.get('aria-label', '').strip()
    caption = re.search(r'<figcaption>(.+)</figcaption>', html)
    check(f'{name}: SVG with role="img", an accessible name and a caption',
          root.get('role') == 'img' and bool(label) and caption is not None,
          f'{len(label)} characters of name')
    check(f'{name}: under {max_bytes // 1000} KB, and redrawn when its input changes',
          len(html.encode()) < max_bytes and changed != html, f'{len(html.encode())} bytes')


def svg_path(points, closed: bool = False) -> str:
    # A polyline through screen points `(n, 2)`, one decimal each
    d = 'M' + 'L'.join(f'{x:.1f},{y:.1f}' for x, y in points.tolist())
    return d + ('Z' if closed else '')


def svg_dots(points, r: float = 3.0, **attributes) -> str:
    # One `<circle>` per screen point, all with the same attributes
    extra = ' '.join(f'{k.replace("_", "-")}="{v}"' for k, v in attributes.items())
    return ''.join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" {extra}/>'
                   for x, y in points.tolist())


def svg_legend(items, x: float, y: float, step: float = 62.0) -> str:
    # A row of `(colour, filled, label)` markers, left to right from `(x, y)`
    out = []
    for k, (colour, filled, label) in enumerate(items):
        fill = f'fill="{colour}"' if filled else f'fill="none" stroke="{colour}" stroke-width="1.5"'
        out.append(f'<circle cx="{x + k * step:.1f}" cy="{y - 4:.1f}" r="3.5" {fill}/>'
                   f'<text x="{x + k * step + 7:.1f}" y="{y:.1f}">{label}</text>')
    return ''.join(out)


def view_2d(points: torch.Tensor, centre=(0.0, 0.0), scale: float = 1.0,
            azimuth: float = 120.0, elevation: float = 30.0) -> torch.Tensor:
    r"""
    ### A fixed view of 3-D points

    Orthographic: each point $p$ goes to $(p \cdot r, -p \cdot u)$, with $r$ and $u$ the screen's
    right and up directions for a camera at the given azimuth and elevation ($x_3$ up), then
    scaled and moved to `centre` (screen $y$ grows downwards). A sphere stays a circle of the
    same radius.
    """
    a, e = math.radians(azimuth), math.radians(elevation)
    right = torch.tensor([-math.sin(a), math.cos(a), 0.0], dtype=points.dtype)
    up = torch.tensor([-math.sin(e) * math.cos(a), -math.sin(e) * math.sin(a), math.cos(e)],
                      dtype=points.dtype)
    return torch.stack([centre[0] + scale * (points @ right),
                        centre[1] - scale * (points @ up)], -1)


def plane_circle(radius: float = 1.0, n: int = 72, dtype=torch.float64) -> torch.Tensor:
    # `n` points on the circle of `radius` in the plane $\sum_i x_i = 0$, from two orthonormal
    # vectors of that plane
    a = torch.tensor([1.0, -1.0, 0.0], dtype=dtype) / math.sqrt(2)
    b = torch.tensor([1.0, 1.0, -2.0], dtype=dtype) / math.sqrt(6)
    t = torch.linspace(0, 2 * math.pi, n + 1, dtype=dtype)[:-1, None]
    return radius * (torch.cos(t) * a + torch.sin(t) * b)


def geometry_inputs(n: int = 8, seed: int = 1) -> torch.Tensor:
    # The figure's cloud: `n` vectors of $H = 3$ around $(1.2, 1.2, 1.2)$, off the plane
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=g, dtype=torch.float64) * 0.8 + 1.2


def geometry_points(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> dict:
    r"""
    ### What the geometry figure draws

    All from `layer_norm` and `LayerNorm` with $\epsilon = 0$: the centred vectors
    $x - \mu\mathbf{1}$, the outputs $\hat{x}$, and the circle they lie on, which is LayerNorm
    itself applied to the points of a circle in the plane (any radius: LayerNorm rescales it).
    Then `LayerNorm` with $\gamma$ = `weight` and $\beta$ = `bias` applied to both.
    """
    H = x.shape[-1]
    ring = layer_norm(plane_circle(), H, eps=0.0)
    affine = LayerNorm(H, eps=0.0, dtype=x.dtype)
    with torch.no_grad():
        affine.weight.copy_(weight)
        affine.bias.copy_(bias)
        return {'x': x, 'centred': x - x.mean(-1, keepdim=True),
                'x_hat': layer_norm(x, H, eps=0.0), 'ring': ring,
                'y': affine(x), 'y_ring': affine(plane_circle()), 'bias': bias}


GEOMETRY_WEIGHT = (1.6, 0.6, 1.0)
GEOMETRY_BIAS = (0.6, -1.2, 1.4)


def geometry_panel(p: dict, centre, scale: float = 28.0) -> str:
    r"""
    The left panel, which the [RMSNorm page](../rms_norm/index.md) puts beside its own: the
    plane $\sum_i x_i = 0$ (a disc), the axes, each input (grey) dropped along $\mathbf{1}$ onto
    the plane (blue), then pushed along its ray onto the circle of radius $\sqrt{3}$ (orange).
    """
    c = FIGURE_COLOURS
    v = lambda q: view_2d(q, centre, scale)  # noqa: E731
    axes = torch.eye(3, dtype=torch.float64) * 3.2
    out = [f'<path d="{svg_path(v(plane_circle(3.4)), True)}" fill="{c["grey"]}" '
           f'fill-opacity="0.18" stroke="{c["grey"]}"/>']
    for k, end in enumerate(v(axes).tolist()):
        o = v(torch.zeros(1, 3, dtype=torch.float64))[0].tolist()
        out.append(f'<path d="M{o[0]:.1f},{o[1]:.1f}L{end[0]:.1f},{end[1]:.1f}" '
                   f'stroke="currentColor" stroke-opacity="0.5"/>')
        out.append(f'<text x="{end[0]:.1f}" y="{end[1] - 3:.1f}" font-size="11" '
                   f'text-anchor="middle">x{"₁₂₃"[k]}</text>')
    for a, b in zip(v(p['x']).tolist(), v(p['centred']).tolist()):
        out.append(f'<path d="M{a[0]:.1f},{a[1]:.1f}L{b[0]:.1f},{b[1]:.1f}" '
                   f'stroke="{c["grey"]}" stroke-dasharray="3 2"/>')
    out.append(f'<path d="{svg_path(v(p["ring"]), True)}" fill="none" stroke="{c["orange"]}" '
               f'stroke-width="2"/>')
    out.append(svg_dots(v(p['x']), fill=c['grey']))
    out.append(svg_dots(v(p['centred']), fill='none', stroke=c['blue'], stroke_width=1.5))
    out.append(svg_dots(v(p['x_hat']), fill=c['orange']))
    return ''.join(out)


def figure_geometry(x: Optional[torch.Tensor] = None, weight=GEOMETRY_WEIGHT,
                    bias=GEOMETRY_BIAS) -> str:
    r"""
    ### The geometry figure

    Two panels in the same view: centring and scaling on the left; on the right the circle again
    (faint), $\gamma \odot \hat{x} + \beta$ (green) and $\beta$ itself (purple arrow).
    """
    x = geometry_inputs() if x is None else x
    p = geometry_points(x, torch.tensor(weight, dtype=x.dtype), torch.tensor(bias, dtype=x.dtype))
    c, w, h = FIGURE_COLOURS, 270, 262
    v = lambda q: view_2d(q, (w + w / 2, 140), 28.0)  # noqa: E731
    o, b = v(torch.zeros(1, 3, dtype=x.dtype))[0].tolist(), v(p['bias'][None])[0].tolist()
    right = [
        f'<path d="{svg_path(v(plane_circle(3.4)), True)}" fill="{c["grey"]}" '
        f'fill-opacity="0.18" stroke="{c["grey"]}"/>',
        f'<path d="{svg_path(v(p["ring"]), True)}" fill="none" stroke="{c["orange"]}" '
        f'stroke-opacity="0.45" stroke-width="2"/>',
        f'<path d="M{o[0]:.1f},{o[1]:.1f}L{b[0]:.1f},{b[1]:.1f}" stroke="{c["purple"]}" '
        f'stroke-width="2"/>' + svg_dots(v(p['bias'][None]), 3.5, fill=c['purple']),
        f'<text x="{b[0] + 6:.1f}" y="{b[1] + 4:.1f}" fill="{c["purple"]}">β</text>',
        f'<path d="{svg_path(v(p["y_ring"]), True)}" fill="none" stroke="{c["green"]}" '
        f'stroke-width="2"/>', svg_dots(v(p['y']), fill=c['green'])]
    radius = p['x_hat'].norm(dim=-1).mean().item()
    body = (geometry_panel(p, (w / 2, 140)) + ''.join(right)
            + f'<text x="{w / 2}" y="16" text-anchor="middle">x → x − μ → x̂</text>'
            + f'<text x="{w * 1.5}" y="16" text-anchor="middle">γ ⊙ x̂ + β</text>'
            + svg_legend([(c['grey'], True, 'x'), (c['blue'], False, 'x − μ'),
                          (c['orange'], True, 'x̂')], 40, h - 8)
            + svg_legend([(c['green'], True, 'γ ⊙ x̂ + β'), (c['purple'], True, 'β')],
                         w + 60, h - 8, 90))
    label = (f'Two 3-D views. Left: {len(x)} grey input vectors, each dropped onto the plane '
             f'x₁ + x₂ + x₃ = 0 (blue), then moved along its ray to the orange circle of radius '
             f'{radius:.3f}. Right: gamma and beta turn that circle into the green ellipse, '
             f'moved off the plane by the purple arrow beta.')
    caption = (f'Centring drops each vector onto the plane x₁ + x₂ + x₃ = 0, scaling puts it on '
               f'the circle of radius √3 = {radius:.3f} in that plane, and γ, β stretch the '
               f'circle and move it off the plane.')
    return svg_figure(body, 2 * w, h, label, caption)


def _artifacts():
    """
    ### The figure, made when the site is built
    """
    return {'layer_norm_geometry': figure_geometry()}


@check_group(fold=True)
def _check_geometry_figure():
    r"""
    ### The geometry figure: its points, and its SVG

    The figure's points, $H = 3$: what its caption says.
    """
    p = geometry_points(geometry_inputs(), torch.tensor(GEOMETRY_WEIGHT, dtype=torch.float64),
                        torch.tensor(GEOMETRY_BIAS, dtype=torch.float64))
    check_close('figure: every x - mu and every x_hat on the plane',
                (p['centred'].sum(-1), p['x_hat'].sum(-1), p['ring'].sum(-1)),
                (torch.zeros(8, dtype=torch.float64), torch.zeros(8, dtype=torch.float64),
                 torch.zeros(72, dtype=torch.float64)), rtol=0, atol=1e-12)
    check_close('figure: every x_hat and the drawn circle at radius sqrt(3)',
                torch.cat([p['x_hat'], p['ring']]).norm(dim=-1),
                torch.full((80,), 3 ** 0.5, dtype=torch.float64), rtol=0, atol=1e-12)
    off = p['y_ring'].sum(-1).abs().max().item()
    check('figure: gamma, beta move the circle off the plane', off > 1,
          f'largest |row sum| on the moved circle {off:.2f}')
    check_figure('figure', figure_geometry(), figure_geometry(geometry_inputs(seed=2)))


# ## Exercises
#
# 1. **A constant row.** What does `layer_norm` return for a row whose elements are all equal, with
#    the default $\epsilon$ and with $\epsilon = 0$? What does that tell you about $\epsilon$?
# 2. **One shape, two ways.** `normalized_shape=[3, 4]` normalizes twelve numbers together. Get the
#    same output from `LayerNorm(12)`, by reshaping the input and the parameters.
# 3. **Break the one-pass formula.** For rows of spread 1 and mean $10^k$, $k = 0, 1, \dots, 5$,
#    find the first $k$ at which `variance_shortcut` in `float32` is more than 10% off. Predict it
#    first from the spacing of `float32` numbers near $10^{2k}$, the size of $\mathbb{E}[x^2]$.
# 4. **Derive the gradient.** Without $\gamma$ and $\beta$, and with $\epsilon = 0$, show that
#    $\frac{\partial L}{\partial x} = \frac{1}{\sigma}(g - \bar{g} - \hat{x}\,\overline{g\hat{x}})$,
#    with $g = \partial L / \partial \hat{x}$ and a bar for the mean over the normalized elements,
#    and check it against autograd. [The backward pass](backward.md) derives it step by step.
#
@check_group(fold=True)
def _exercise_1():
    r"""
    ## Solution 1: a constant row

    Every $x_i - \mu$ is exactly 0. With $\epsilon > 0$ the root is $\sqrt{\epsilon}$ and the
    output is $0$ (then $\beta$); with $\epsilon = 0$ it is $0 \cdot \infty$, NaN, in PyTorch too.
    $\epsilon$ is what makes a constant row safe.
    """
    x = torch.full((2, 8), 3.0)  # two constant rows
    check('default eps: all zeros', torch.equal(layer_norm(x, 8), torch.zeros(2, 8)))
    check('eps = 0: all NaN, ours and F.layer_norm',
          layer_norm(x, 8, eps=0.0).isnan().all().item()
          and torch.nn.functional.layer_norm(x, (8,), eps=0.0).isnan().all().item())


@check_group(fold=True)
def _exercise_2():
    """
    ## Solution 2: `normalized_shape=[3, 4]` as `LayerNorm(12)`

    Flatten the last two dimensions of the input and of `weight` and `bias`, normalize, and
    reshape back.
    """
    a = _worked_example()  # (3, 4)
    ln_34 = LayerNorm([3, 4])
    with torch.no_grad():
        ln_34.weight.normal_()
        ln_34.bias.normal_()
    ln_12 = LayerNorm(12)
    ln_12.load_state_dict({k: v.reshape(12) for k, v in ln_34.state_dict().items()})
    check_close('LayerNorm(12) on the flattened input, reshaped == LayerNorm([3, 4])',
                ln_12(a.reshape(12)).reshape(3, 4), ln_34(a))


@check_group(fold=True)
def _exercise_3():
    r"""
    ## Solution 3: where the one-pass formula breaks

    The error of $\mathbb{E}[x^2] - \mathbb{E}[x]^2$ is a few rounding steps of $\mathbb{E}[x^2]
    \approx 10^{2k}$, against a variance of 1. `float32` numbers near $10^4$ are $0.001$ apart,
    near $10^6$ they are $0.0625$ apart: $k = 3$ is the first to be more than 10% off.
    """
    import numpy as np
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(64, 256, generator=gen, dtype=torch.float64)  # spread 1
    errors, spacings = [], []
    for k in range(6):
        x = base + 10.0 ** k
        exact = x.var(-1, unbiased=False)
        errors.append(((variance_shortcut(x.float()).double() - exact).abs() / exact).max().item())
        spacings.append(float(np.spacing(np.float32(10.0 ** (2 * k)))))
    first = next(k for k, e in enumerate(errors) if e > 0.1)
    check('the first k with more than 10% error is 3 (mean 1000)', first == 3,
          'errors ' + ', '.join(f'{e:.0e}' for e in errors))
    check('for every k the error is 1 to 10 float32 spacings near 10^(2k)',
          all(1 <= e / s <= 10 for e, s in zip(errors, spacings)),
          'errors / spacing ' + ', '.join(f'{e / s:.1f}' for e, s in zip(errors, spacings)))


@check_group(fold=True)
def _exercise_4():
    r"""
    ## Solution 4: the gradient of LayerNorm

    With $\hat{x}_i = (x_i - \mu)/\sigma$: $\partial \mu / \partial x_j = 1/H$ and
    $\partial \sigma / \partial x_j = \hat{x}_j / H$, so
    $\partial \hat{x}_i / \partial x_j = \frac{1}{\sigma}\big(\delta_{ij} - \frac{1}{H} -
    \frac{\hat{x}_i \hat{x}_j}{H}\big)$; multiply by $g_i$ and sum over $i$.
    """
    x = torch.randn(4, 16, dtype=torch.float64) * 2 + 1
    g = torch.randn(4, 16, dtype=torch.float64)  # dL/dx_hat, any upstream gradient
    xr = x.clone().requires_grad_()
    layer_norm(xr, 16, eps=0.0).backward(g)
    sigma = x.var(-1, unbiased=False, keepdim=True).sqrt()  # (4, 1)
    x_hat = (x - x.mean(-1, keepdim=True)) / sigma
    dx = (g - g.mean(-1, keepdim=True) - x_hat * (g * x_hat).mean(-1, keepdim=True)) / sigma
    check_close('the formula == autograd\'s gradient (float64)', dx, xr.grad)


def _test():
    """
    ## Checks against PyTorch
    """
    torch.manual_seed(0)
    # The groups in the order the page reads, then the solutions of the exercises
    for group in (_check_worked_examples, _check_by_hand, _check_geometry, _check_invariances,
                  _check_training_invariance, _check_why_it_exists, _check_per_token,
                  _check_printed_zero, _check_printed_zero_torch, _check_one_pass_variance,
                  _check_against_torch, _check_dtypes, _check_autocast, _check_drop_in,
                  _check_errors, _check_geometry_figure,
                  _exercise_1, _exercise_2, _exercise_3, _exercise_4):
        group()


# ## Sources
#
# * Ba, Kiros, Hinton, [Layer Normalization](https://arxiv.org/abs/1607.06450), 2016: §3 (the
#   definition: statistics over the summed inputs of one layer for one training case), §5.1
#   (invariances: the whole weight matrix re-scaled and re-centred,
#   $W' = \delta W + \mathbf{1}\gamma^\top$, a single training case re-scaled; not one weight vector
#   re-scaled, unlike batch and weight normalization), summarised in Table 1; `_test()` asserts
#   each.
# * PyTorch 2.13.0, [`torch/nn/modules/normalization.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/normalization.py#L188-L235):
#   `LayerNorm`'s arguments, their order and defaults (`eps=1e-5`, `elementwise_affine=True`,
#   `bias=True`), `weight`/`bias` as `None` when absent, initialization to ones and zeros,
#   `extra_repr`; the docstring above it ([L120-L121](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/normalization.py#L120-L121))
#   says the variance is the biased one.
# * PyTorch 2.13.0, [`torch/nn/functional.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/functional.py#L2966-L2989):
#   `F.layer_norm` calls `torch.layer_norm`.
# * PyTorch 2.13.0, [`torch/testing/_comparison.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/testing/_comparison.py#L83-L91):
#   the default tolerances of `assert_close` quoted above.
# * PyTorch 2.13.0, [`aten/src/ATen/native/cpu/moments_utils.h`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/aten/src/ATen/native/cpu/moments_utils.h#L174-L180):
#   the scalar Welford update of the CPU moments, computed in `opmath_t` (`float` for
#   `float16`/`bfloat16`). Read in the header shipped with the wheel; its line numbers there are one
#   higher (the wheel adds a guard line at the top).
# * PyTorch, [`aten/src/ATen/native/cpu/layer_norm_kernel.cpp` at a 2019 commit](https://github.com/pytorch/pytorch/blob/0354b60c4e0ee0cb32307500f92bb03e8d0ed344/aten/src/ATen/native/cpu/layer_norm_kernel.cpp#L41-L52):
#   the older CPU kernel, with the one-pass variance $\mathbb{E}[x^2] - \mathbb{E}[x]^2$ clamped at
#   0 and the output as $x \cdot r + (-\mu r)$.
# * labml.ai, [`labml_nn/normalization/layer_norm/__init__.py`](https://github.com/labmlai/annotated_deep_learning_paper_implementations/blob/56a460a243676fd04d73e386679ddc6b7a508fce/labml_nn/normalization/layer_norm/__init__.py#L109-L114):
#   the implementation this project started from, with the one-pass variance.
# * [pytorch/pytorch issue 108048](https://github.com/pytorch/pytorch/issues/108048) (2023,
#   "LayerNorm with bias=False doesn't work"): a maintainer calls the fix "a critical fix for a new
#   feature introduced in 2.1".
# * PyTorch 2.13.0, [`torch/nn/modules/_functions.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L59-L86):
#   `SyncBatchNorm` gathers every rank's per-channel statistics with `all_gather`.
# * PyTorch 2.13.0, [`aten/src/ATen/autocast_mode.h`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/aten/src/ATen/autocast_mode.h#L854-L876):
#   the `AT_FORALL_FP32` op list with `layer_norm`, `native_layer_norm`, `rms_norm`, `group_norm`
#   (read in the header shipped with the wheel, where its line numbers are one higher); the
#   [AMP documentation](https://pytorch.org/docs/stable/amp.html#cuda-ops-that-can-autocast-to-float32),
#   "CUDA Ops that can autocast to float32".
# * nanoGPT, [`model.py` `configure_optimizers`](https://github.com/karpathy/nanoGPT/blob/3adf61e154c3fe3fca428ad6bc3818b27a3b8291/model.py#L268-L274):
#   weight decay only for parameters with two or more dimensions.
# * The blog posts this project started from (in Chinese; we found no public address for them, so
#   they cannot be linked): the worked examples and the printed `1.1921e-07`; the description of
#   LayerNorm over `[seq_len, emb_dim]`.

