r"""
---
title: Batch Normalization
summary: BatchNorm from scratch, one class for BatchNorm1d/2d/3d, with PyTorch's outputs, gradients
  and running statistics in training and evaluation, as the contrast LayerNorm is defined against.
section: The BatchNorm contrast
order: 11
---

# Batch Normalization

This is a from-scratch implementation of
[Batch Normalization](https://arxiv.org/abs/1502.03167) (Ioffe and Szegedy, 2015), one class
that does what `torch.nn.BatchNorm1d`, `BatchNorm2d` and `BatchNorm3d` do, with the same
arguments, the same parameter and buffer names and the same numbers, step by step, in
training and in evaluation. It is here as the contrast that
[Layer Normalization](../layer_norm/index.md) is defined against; the
[side-by-side comparison](../ln_vs_bn/index.md) puts the two next to each other.

### What it computes

The input is $(N, C, *)$: a batch of $N$ samples with $C$ channels (features) and any number of
spatial or time dimensions. For each channel $c$, BatchNorm takes the $n = N \cdot \prod *$
values of that channel across the *whole batch* and every position, and computes

$$\mu_c = \frac{1}{n}\sum_{j=1}^{n} x_{j,c} \qquad
\sigma^2_c = \frac{1}{n}\sum_{j=1}^{n} \left(x_{j,c} - \mu_c\right)^2$$

$$y_{j,c} = \frac{x_{j,c} - \mu_c}{\sqrt{\sigma^2_c + \epsilon}}\,\gamma_c + \beta_c$$

One $\gamma$ and one $\beta$ per *channel*, where LayerNorm has one per normalized element.

### What you will learn

* why BatchNorm needs [running statistics](#why-it-needs-running-statistics), and what
  [they hold](#what-the-running-statistics-are) after a few steps;
* why [a bias before BatchNorm](#a-bias-before-batchnorm-cancelled-in-training-not-yet-in-eval)
  is wasted in training, and how to [fold](#folding-batchnorm-into-the-layer-before-it) an
  evaluation-mode BatchNorm into the layer before it (and why LayerNorm cannot be folded);
* that PyTorch's and Keras's [momentum](#two-conventions-for-momentum) mean opposite things;
* where one class differs from `torch.nn.BatchNorm1d/2d/3d` [as a drop-in](#as-a-drop-in).
"""

import functools
import math
from typing import Optional

import torch
from torch import nn

from labml_nn_norm._check import (
    check,
    check_close,
    check_group,
    check_raises,
    note,
    run_side_by_side,
)
from labml_nn_norm.layer_norm import NormalizationError, statistics_dtype

# ### Why it was proposed, and what later work found
#
# Ioffe and Szegedy call the change in the distribution of a layer's inputs during training, as
# the layers below it learn, *internal covariate shift*, and propose BatchNorm as a mechanism
# that "takes a step towards reducing internal covariate shift" with "a normalization step that
# fixes the means and variances of layer inputs" (§1; §2 argues that whitening each layer's
# inputs would remove the shift's "ill effects"). Whitening over the whole training set after
# every step is too costly, so §3 makes two
# simplifications: normalize each feature on its own, and estimate its mean and variance from
# the mini-batch (Algorithm 1, the equations above). Their MNIST experiment shows the
# input distributions of a sigmoid moving less with BatchNorm (§4.1, Figure 1(b, c)).
#
# Santurkar et al. (2018) question that explanation. Their abstract says "such distributional
# stability of layer inputs has little to do with the success of BatchNorm" and that BatchNorm
# instead "makes the optimization landscape significantly smoother", which gives "more
# predictive and stable behavior of the gradients". We could read only the abstract of that
# paper here, not its body; the experiment it is known for (random noise with a non-zero mean
# and a non-unit variance, changing at every step, added after each BatchNorm layer so the
# inputs of the next layer shift on purpose) is described from secondary summaries, and we
# quote no section, figure or number from it. Nothing on this page measures training speed:
# the checks below are about what the layer computes.


class BatchNorm(nn.Module):
    r"""
    ## The module

    * `num_features` is $C$, the size of dimension 1 of the input
    * `eps` is $\epsilon$, added to the variance inside the square root
    * `momentum` is the weight of the *new* batch in the running averages (Keras's `momentum` is
      the weight of the old average, see above); `None` means a cumulative (equal-weight)
      average over all batches seen, as PyTorch documents it
    * `affine` says whether to learn $\gamma$ (`weight`) and $\beta$ (`bias`)
    * `track_running_stats` says whether to keep the running averages; without them the batch
      statistics are used in evaluation too
    * `bias` (keyword-only, as in PyTorch 2.13) says whether to learn $\beta$

    The positional order is PyTorch's, so `BatchNorm(64, 1e-5, 0.1)` means the same thing in both.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None,
                 *, bias: bool = True):
        super().__init__()
        if not isinstance(num_features, int) or isinstance(num_features, bool) or num_features <= 0:
            raise NormalizationError('num_features must be a positive int (the channel count C), '
                             f'got {num_features!r}')
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = {'device': device, 'dtype': dtype}
        #
        # $\gamma$ and $\beta$: one per channel. Missing ones are registered as `None`, as in
        # PyTorch.
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, **factory))
            if bias:
                self.bias = nn.Parameter(torch.zeros(num_features, **factory))
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)
        #
        # The running averages are *buffers*: saved in the `state_dict`, moved by `.to()`,
        # but not trained. `num_batches_tracked` counts training steps; it is what
        # `momentum=None` divides by.
        if track_running_stats:
            self.register_buffer('running_mean', torch.zeros(num_features, **factory))
            self.register_buffer('running_var', torch.ones(num_features, **factory))
            self.register_buffer('num_batches_tracked',
                                 torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer('running_mean', None)
            self.register_buffer('running_var', None)
            self.register_buffer('num_batches_tracked', None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            nn.init.ones_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def _check_input(self, x: torch.Tensor):
        """
        ### Input checks

        One class serves 1d, 2d and 3d, so it accepts `(N, C)`, `(N, C, L)`, `(N, C, H, W)` and
        `(N, C, D, H, W)`. The channel dimension is dimension 1 (not the last one, as in
        LayerNorm): a `(batch, tokens, features)` tensor must be transposed to
        `(batch, features, tokens)` first, a common source of this error.
        """
        if not 2 <= x.dim() <= 5:
            raise NormalizationError(f'BatchNorm expects a 2D to 5D input (N, C, *), '
                                     f'got a {x.dim()}D input of size {list(x.shape)}')
        # Like PyTorch, the channel count is checked against the tensors that have one (`weight`,
        # `running_mean`); with neither, any number of channels is normalized
        has_channels = self.weight is not None or self.running_mean is not None
        if has_channels and x.shape[1] != self.num_features:
            raise NormalizationError(f'BatchNorm expects {self.num_features} channels in '
                                     f'dimension 1, got input of size {list(x.shape)} '
                                     f'({x.shape[1]} channels)')

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._check_input(input)
        # $\epsilon$ must keep $\sigma^2 + \epsilon$ positive when batch statistics are used (a
        # batch's variance can be 0); `F.batch_norm` checks it on every call, and so do we
        batch_stats = self.training or not self.track_running_stats
        if self.eps < 0 or (batch_stats and self.eps <= 0):
            need = 'positive during training' if batch_stats else 'non-negative'
            raise NormalizationError(f'batch_norm eps must be {need}, but got {self.eps}')
        # Shape the per-channel statistics as $(1, C, 1, \dots)$ so they broadcast over the input
        C = input.shape[1]
        stat_shape = (1, C) + (1,) * (input.dim() - 2)
        # Every dimension except the channel one is reduced: the batch and all positions
        dims = [0] + list(range(2, input.dim()))
        # $n$, the number of values per channel (the paper's $m$; here $m$ is the momentum)
        n = input.numel() // max(C, 1)
        #
        # Half-precision inputs get their statistics (and the whole computation) in `float32`: a
        # `float16` sum overflows past 65504. `_test()` checks the result against the exact one,
        # also on an input whose `float16` sum is `inf`, and prints how far PyTorch's is.
        compute_dtype = statistics_dtype(input.dtype)
        x = input.to(compute_dtype)
        #
        # ### Why it needs running statistics
        #
        # A sample's output depends on the rest of its batch. The paper's §3.1 says this
        # dependence "is neither necessary nor desirable during inference; we want the output to
        # depend only on the input, deterministically", so at inference BatchNorm uses
        # *population* statistics instead: Algorithm 2 averages the mini-batch means and
        # variances over many training batches, with the unbiased estimate
        # $\mathrm{Var}[x] = \frac{n}{n-1}\,\mathbb{E}_{\mathcal{B}}[\sigma^2_{\mathcal{B}}]$,
        # and §3.1 adds that moving averages can be used instead, to track the model's accuracy
        # as it trains. PyTorch keeps such averages in buffers and uses them in evaluation mode;
        # that is why `train()` and `eval()` change what BatchNorm computes. Ba et al. list what
        # this costs ([Layer Normalization](https://arxiv.org/abs/1607.06450), §1): the effect
        # depends on the mini-batch size, applying it to RNNs "appears to require different
        # statistics for different time-steps", and it cannot be used for online learning or for
        # very large distributed models whose mini-batches must be small. In [data-parallel
        # training](../distributed/index.md) each device sees only its part of the batch.
        #
        # Batch statistics are used in training, and in evaluation when there are no running ones
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            # One value per channel: it equals its own mean and would normalize to 0. PyTorch
            # refuses this in training (`_verify_batch_size` in `torch/nn/functional.py`), and
            # so do we, with the same message
            if n == 1:
                raise NormalizationError(f'Expected more than 1 value per channel when '
                                         f'training, got input size {input.size()}')
            mean = x.mean(dim=dims)  # (C,)
            # The *biased* variance ($1/n$) normalizes the batch ...
            var = (x - mean.view(stat_shape)).square().mean(dim=dims)  # (C,)
        else:
            mean, var = self.running_mean.to(compute_dtype), self.running_var.to(compute_dtype)
        #
        if self.training and self.track_running_stats:
            self._update_running_stats(mean, var, n)
        #
        # $\hat{x} = (x - \mu) / \sqrt{\sigma^2 + \epsilon}$, then $y = \gamma \hat{x} + \beta$ per
        # channel
        x_hat = (x - mean.view(stat_shape)) * torch.rsqrt(var.view(stat_shape) + self.eps)
        y = x_hat
        if self.weight is not None:
            y = y * self.weight.to(compute_dtype).view(stat_shape)
        if self.bias is not None:
            y = y + self.bias.to(compute_dtype).view(stat_shape)
        return y.to(input.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, n: int):
        r"""
        ### Updating the running statistics

        Under `torch.no_grad()`: the running averages are bookkeeping, not part of the graph,
        and updating them must not keep every batch's graph alive.
        """
        self.num_batches_tracked.add_(1)
        # `momentum=None`: the $k$-th batch gets weight $1/k$, an equal-weight cumulative average
        factor = 1.0 / self.num_batches_tracked.item() if self.momentum is None else self.momentum
        # An empty batch has no statistics: the step is counted, the averages stay as they are
        if n == 0:
            return
        # ... but the running variance stores the *unbiased* estimate $\frac{n}{n - 1}\sigma^2$,
        # as the paper's Algorithm 2 does for its population variance and PyTorch documents
        unbiased_var = var * (n / (n - 1))
        # $\hat{\mu} \leftarrow (1 - \text{factor})\,\hat{\mu} + \text{factor}\,\mu_{\mathcal{B}}$,
        # in place, so the buffers stay the same tensors
        self.running_mean.mul_(1 - factor).add_(mean.to(self.running_mean.dtype), alpha=factor)
        self.running_var.mul_(1 - factor).add_(unbiased_var.to(self.running_var.dtype),
                                               alpha=factor)

    def extra_repr(self) -> str:
        return ('{num_features}, eps={eps}, momentum={momentum}, affine={affine}, bias={use_bias}, '
                'track_running_stats={track_running_stats}'.format(**self.__dict__,
                                                                   use_bias=self.bias is not None))

    # PyTorch's version 2 added `num_batches_tracked`; an older `state_dict` without it loads with
    # the count at 0, as in PyTorch
    _version = 2

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get('version', None)
        key = prefix + 'num_batches_tracked'
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = torch.tensor(0, dtype=torch.long)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


@check_group
def _check_running_stats():
    r"""
    ## What the running statistics are

    The running variance is the *unbiased* batch variance (momentum 1), while the output was
    normalized with the biased one. `momentum=None` is an equal-weight average over the batches:
    after $k$ batches the running mean is the mean of the $k$ batch means.
    """

    bn = BatchNorm(3, momentum=1.0)
    x = torch.randn(5, 3) * 3 + 7
    y = bn(x)
    check_close('momentum=1: running_var == unbiased batch variance', bn.running_var,
                x.var(0, unbiased=True))
    check_close('output normalized with the biased variance',
                y.detach(), (x - x.mean(0)) / (x.var(0, unbiased=False) + 1e-5).sqrt())
    check('running statistics are not part of the graph', not bn.running_mean.requires_grad
          and bn.running_mean.grad_fn is None)
    #
    # `momentum=None`, over five batches
    bn = BatchNorm(3, momentum=None)
    batches = [torch.randn(4, 3) + i for i in range(5)]
    for b in batches:
        bn(b)
    check_close('momentum=None: running_mean == mean of batch means', bn.running_mean,
                torch.stack([b.mean(0) for b in batches]).mean(0))
    # ... and the running variance is Algorithm 2's
    # $\frac{n}{n-1}\mathbb{E}_{\mathcal{B}}[\sigma^2_{\mathcal{B}}]$ for these equal-size batches
    # ($n = 4$)
    biased = torch.stack([b.var(0, unbiased=False) for b in batches])
    check_close('momentum=None: running_var == n/(n-1) · mean of biased batch variances (Alg. 2)',
                bn.running_var, 4 / 3 * biased.mean(0))
    check('num_batches_tracked counts the training steps', bn.num_batches_tracked.item() == 5,
          f'{bn.num_batches_tracked.item()} after 5 batches')
    bn.eval()
    bn(batches[0])
    check('... and not the evaluation ones', bn.num_batches_tracked.item() == 5,
          f'{bn.num_batches_tracked.item()} after one more call in eval()')


@check_group
def _check_bias_before_bn():
    r"""
    ## A bias before BatchNorm: cancelled in training, not yet in `eval()`

    BatchNorm usually follows a linear or convolution layer, $x = Wu + b$. In training mode $b$
    adds the same constant to every value of its channel, so it moves $\mu_{\mathcal{B}}$ by
    exactly $b$ and leaves $\sigma^2_{\mathcal{B}}$ alone: $x - \mu_{\mathcal{B}}$ does not
    contain $b$. Ioffe and Szegedy note this (§3.2: "the bias b can be ignored since its effect
    will be canceled by the subsequent mean subtraction (the role of the bias is subsumed by
    $\beta$ in Alg. 1)"), which is why such layers are built with `bias=False`. `_test()` asserts
    that `Linear(bias=True)` + BatchNorm and `Linear(bias=False)` + BatchNorm give the same output
    and the same gradient of $W$ in training mode, and that the bias's own gradient is zero up to
    rounding. One caveat it also asserts: in *evaluation* mode the two differ until the running
    mean has caught up with the bias, by $(1 - m)^k\, b\, \gamma / \sqrt{\hat{\sigma}^2 + \epsilon}$
    after $k$ training steps from the initial running mean of 0.
    """

    with_b, without_b = nn.Linear(5, 4), nn.Linear(5, 4, bias=False)
    with torch.no_grad():
        without_b.weight.copy_(with_b.weight)
        with_b.bias.copy_(torch.randn(4) * 10)
    bn_b, bn_0 = BatchNorm(4), BatchNorm(4)
    u = torch.randn(16, 5)
    dy = torch.randn(16, 4)
    y_b, y_0 = bn_b(with_b(u)), bn_0(without_b(u))
    y_b.backward(dy)
    y_0.backward(dy)
    check_close('Linear(bias=True) + BN == Linear(bias=False) + BN: output', y_b, y_0,
                atol=1e-5, rtol=1e-5)
    check_close('... gradient of W', with_b.weight.grad, without_b.weight.grad,
                atol=1e-5, rtol=1e-5)
    check_close('... gradient of b is 0 (up to rounding)', with_b.bias.grad, torch.zeros(4),
                atol=1e-5, rtol=0)
    # In eval() the running mean has absorbed only $1 - (1 - m)^k$ of $b$ after $k$ steps
    for _ in range(2):
        bn_b(with_b(u)), bn_0(without_b(u))
    bn_b.eval(), bn_0.eval()
    with torch.no_grad():
        gap = bn_b(with_b(u)) - bn_0(without_b(u))
        expected = 0.9 ** 3 * with_b.bias / torch.sqrt(bn_b.running_var + bn_b.eps) * bn_b.weight
    check_close('eval() after k=3 steps: outputs differ by 0.9^k · b · γ / sqrt(running_var + eps)',
                gap, expected.expand_as(gap), atol=1e-4, rtol=1e-4)


# ### Folding BatchNorm into the layer before it
#
# In evaluation mode BatchNorm is a fixed affine map per channel,
# $y = a_c x + c_c$ with $a_c = \gamma_c / \sqrt{\hat{\sigma}^2_c + \epsilon}$ and
# $c_c = \beta_c - a_c \hat{\mu}_c$. After a linear or convolution layer $x = Wu + b$, the two
# fold into one layer with weight $a \odot W$ (row $c$ scaled by $a_c$) and bias $a \odot b + c$, so
# inference pays nothing for the BatchNorm (`fold_batch_norm` below; `_test()` asserts the folded
# `Linear` and `Conv2d` against the unfolded pair). LayerNorm cannot be folded: its $\mu$ and
# $\sigma$ are those of each input, so it is not one affine map. `_test()` fits the best affine map
# to LayerNorm's outputs over 512 random inputs (least squares) and asserts that it still misses
# by more than 0.1; LayerNorm of $2x$ equals LayerNorm of $x$, which no affine map with a non-zero
# linear part can do for every $x$.


def fold_batch_norm(layer: nn.Module, bn: BatchNorm) -> nn.Module:
    r"""
    ## Folding an evaluation-mode BatchNorm into the layer before it

    `layer` is a `Linear` or a `Conv*d` whose output channel $c$ is BatchNorm's channel $c$.
    Returns a copy with weight $a \odot W$ and bias $a \odot b + \beta - a \hat{\mu}$, where
    $a = \gamma / \sqrt{\hat{\sigma}^2 + \epsilon}$.
    """
    import copy

    # $a_c$ and $c_c$ of the per-channel affine map that BatchNorm is in `eval()`
    a = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        a = a * bn.weight
    shift = -a * bn.running_mean
    if bn.bias is not None:
        shift = shift + bn.bias
    #
    folded = copy.deepcopy(layer)
    with torch.no_grad():
        # Scale output channel $c$ of the weight (dimension 0) by $a_c$
        folded.weight.mul_(a.view((-1,) + (1,) * (layer.weight.dim() - 1)))
        bias = layer.bias if layer.bias is not None else torch.zeros_like(a)
        folded.bias = nn.Parameter(a * bias + shift)
    return folded


@check_group
def _check_fold():
    """
    ## Folding, and why LayerNorm cannot be folded

    A `Linear` and a `Conv2d` followed by a trained BatchNorm in `eval()`, against the folded
    layer; then the best affine map to LayerNorm's outputs, by least squares.
    """
    from labml_nn_norm.layer_norm import LayerNorm

    for layer, shape in ((nn.Linear(6, 4), (32, 6)), (nn.Conv2d(3, 4, 3), (8, 3, 7, 7))):
        bn = BatchNorm(4)
        with torch.no_grad():
            bn.weight.normal_()
            bn.bias.normal_()
            for _ in range(5):
                bn(layer(torch.randn(shape) * 2 + 1))
        bn.eval()
        u = torch.randn(shape)
        with torch.no_grad():
            check_close(f'{type(layer).__name__} + BatchNorm(eval) == folded '
                        f'{type(layer).__name__}', fold_batch_norm(layer, bn)(u), bn(layer(u)),
                        rtol=1e-5, atol=1e-5)
    #
    # The best affine map $y \approx x A + c$ to LayerNorm(16) over 512 inputs
    x = torch.randn(512, 16, dtype=torch.float64) * torch.rand(512, 1, dtype=torch.float64) * 4
    y = LayerNorm(16, elementwise_affine=False).double()(x)
    design = torch.cat([x, torch.ones(512, 1, dtype=torch.float64)], dim=1)
    fit = torch.linalg.lstsq(design, y).solution
    miss = (design @ fit - y).abs().max().item()
    check('LayerNorm: the best affine map over 512 inputs still misses by > 0.1', miss > 0.1,
          f'max |miss| {miss:.2f}')


# ### Two conventions for "momentum"
#
# Both PyTorch (`BatchNorm*d`) and Keras (`BatchNormalization`) call the weight of the moving
# average `momentum`, and they mean opposite things. With $\hat{x}$ a running statistic and
# $x_{\mathcal{B}}$ this batch's value:
#
# | library | update | default | stored variance |
# | --- | --- | --- | --- |
# | PyTorch | $\hat{x} \leftarrow (1 - m)\,\hat{x} + m\,x_{\mathcal{B}}$ | $m = 0.1$ | unbiased |
# | Keras | $\hat{x} \leftarrow k\,\hat{x} + (1 - k)\,x_{\mathcal{B}}$ | $k = 0.99$ | biased |
#
# PyTorch's `momentum` is the weight of the *new* batch
# ([note in `batchnorm.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L335-L341));
# Keras's is the weight of the *old* average
# ([docstring](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/layers/normalization/batch_normalization.py#L61-L65),
# [update](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/layers/normalization/batch_normalization.py#L385-L391)).
# So PyTorch $m$ is Keras $k = 1 - m$, and the two defaults differ: PyTorch 0.1 is Keras 0.9,
# and Keras 0.99 is PyTorch 0.01, a ten times slower average. Porting a model means converting,
# not copying, the number (`_test()` runs both formulas side by side). The variance differs
# too: PyTorch stores the unbiased batch variance $\frac{n}{n-1}\sigma^2_{\mathcal{B}}$ (the
# `BatchNorm1d` docstring,
# [L321-L324](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L321-L324)),
# while Keras stores what `keras.ops.moments` returns, the biased $\sigma^2_{\mathcal{B}}$ (its
# documented example, the variance of `[0, 1, 2, 3, 100]` as 1553.36, is the $1/n$ variance: [L2383-L2387](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/ops/nn.py#L2383-L2387);
# `_test()` checks that number). Keras's defaults also differ in $\epsilon$ ($10^{-3}$ against
# PyTorch's $10^{-5}$) and in the channel axis (the last one, `axis=-1`, against PyTorch's
# dimension 1) ([L160-L164](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/layers/normalization/batch_normalization.py#L160-L164)).


def keras_moving_average(moving: torch.Tensor, batch_value: torch.Tensor,
                         keras_momentum: float) -> torch.Tensor:
    r"""
    ## Keras's update, for comparison

    `moving * momentum + batch_value * (1 - momentum)`, as Keras 3 writes it: the momentum
    multiplies the *old* value. `_test()` feeds it the same batches as our `BatchNorm`
    (PyTorch's formula) with `keras_momentum = 1 - momentum`.
    """
    return moving * keras_momentum + batch_value * (1 - keras_momentum)


@check_group
def _check_keras_momentum():
    r"""
    ## PyTorch's momentum and Keras's

    PyTorch's $m$ and Keras's $k = 1 - m$ give the same running mean; the running variances
    differ by the unbiased factor, since Keras averages the biased batch variance.
    """

    for m in (0.1, 0.01, 0.3):
        bn = BatchNorm(3, momentum=m)
        k_mean, k_var, k_var_unbiased = torch.zeros(3), torch.ones(3), torch.ones(3)
        for step in range(6):
            b = torch.randn(8, 3) * (step + 1) + 2 * step
            bn(b)
            k_mean = keras_moving_average(k_mean, b.mean(0), 1 - m)
            k_var = keras_moving_average(k_var, b.var(0, unbiased=False), 1 - m)
            k_var_unbiased = keras_moving_average(k_var_unbiased, b.var(0, unbiased=True), 1 - m)
        check_close(f'm={m}: running_mean == Keras formula with momentum {1 - m:g}',
                    bn.running_mean, k_mean)
        check_close(f'm={m}: running_var == Keras formula fed the unbiased variance',
                    bn.running_var, k_var_unbiased)
        gap = (bn.running_var - k_var).abs().max().item()
        check(f'm={m}: ... and != Keras formula fed the biased variance (what Keras stores)',
              gap > 1e-3, f'max |Δ| = {gap:.3f} after 6 batches of 8')
    # Keras's `ops.moments` example: the variance of [0, 1, 2, 3, 100] is 1553.36, the $1/n$
    # variance
    v = torch.tensor([0., 1., 2., 3., 100.])
    check_close('Keras docs: mean 21.2, variance 1553.36 of [0, 1, 2, 3, 100] == biased variance',
                (v.mean(), v.var(unbiased=False)), (torch.tensor(21.2), torch.tensor(1553.36)))
    check('... not the unbiased one', abs(v.var(unbiased=True).item() - 1553.36) > 100,
          f'unbiased: {v.var(unbiased=True).item():.2f}')


# What the two defaults mean in practice: this page's `BatchNorm` fed 400 batches of 32 values
# from $\mathcal{N}(3, 2^2)$ (`running_stats_trace()` below), with PyTorch's default momentum, with
# Keras's default written the PyTorch way (0.01), and with the cumulative average (`None`). After
# each training step the same batch goes through `eval()` as well; the third plot is how much its
# output changes.
#
# {{ running_stats }}


@functools.lru_cache(maxsize=4)
def running_stats_trace(momenta=(0.1, 0.01, None), steps: int = 400, batch: int = 32,
                        mean: float = 3.0, std: float = 2.0, seed: int = 0) -> dict:
    """
    ## The running statistics over time

    For each `momentum`, a fresh `BatchNorm(1)` is fed `steps` batches of `batch` values from
    $\\mathcal{N}(\\text{mean}, \\text{std}^2)$, the same batches for every momentum. After each
    training step it records `running_mean`, `running_var`, and how far the same batch's output
    in `eval()` is from its output in `train()` (the mean absolute difference).
    """
    g = torch.Generator().manual_seed(seed)
    batches = torch.randn(steps, batch, 1, generator=g) * std + mean
    traces = {}
    for m in momenta:
        bn, rows = BatchNorm(1, momentum=m), []
        for b in batches:
            y_train = bn.train()(b)
            y_eval = bn.eval()(b)
            rows.append((bn.running_mean.item(), bn.running_var.item(),
                         (y_train - y_eval).abs().mean().item()))
        traces[m] = torch.tensor(rows)  # (steps, 3): mean, var, gap
    return traces


def steps_to_reach(trace: torch.Tensor, target: float, tolerance: float) -> int:
    # The first step after which the running mean stays within `tolerance` of `target`
    outside = ((trace[:, 0] - target).abs() >= tolerance).nonzero()
    return int(outside[-1]) + 2 if len(outside) else 1


def figure_running_stats(traces: Optional[dict] = None, mean: float = 3.0,
                         std: float = 2.0) -> str:
    r"""
    ## The figure

    Three small plots sharing a logarithmic step axis: the two buffers, with the data's mean
    and variance dashed, and the train/eval gap.
    """
    from labml_nn_norm.layer_norm import FIGURE_COLOURS, svg_figure, svg_legend, svg_path

    traces = running_stats_trace(mean=mean, std=std) if traces is None else traces
    c = FIGURE_COLOURS
    colours = dict(zip(traces, (c['blue'], c['orange'], c['green'])))
    steps = len(next(iter(traces.values())))
    pw, ph, top, left, gap_x = 150, 110, 26, 36, 40  # each plot's size, margins
    panels = [('running_mean', 0, mean), ('running_var', 1, std ** 2),
              ('|y_train − y_eval|', 2, None)]
    out = []
    for k, (title, col, target) in enumerate(panels):
        x0 = left + k * (pw + gap_x)
        y_max = max(float(t[:, col].max()) for t in traces.values()) * 1.1
        if target is not None:
            y_max = max(y_max, target * 1.25)

        def to_xy(step, value):
            # Step $1 \dots$ `steps` on a log axis; value $0 \dots$ `y_max` upwards
            return (x0 + pw * math.log(step) / math.log(steps),
                    top + ph - ph * min(value, y_max) / y_max)
        out.append(f'<path d="M{x0},{top}V{top + ph}H{x0 + pw}" fill="none" '
                   f'stroke="currentColor" stroke-opacity="0.6"/>'
                   f'<text x="{x0 + pw / 2}" y="{top - 8}" text-anchor="middle">{title}</text>')
        for tick in (1, 10, 100):
            tx = to_xy(tick, 0)[0]
            out.append(f'<text x="{tx:.1f}" y="{top + ph + 14}" text-anchor="middle" '
                       f'font-size="10">{tick}</text>')
        out.append(f'<text x="{x0 - 4}" y="{top + 4}" text-anchor="end" font-size="10">'
                   f'{y_max:.1f}</text><text x="{x0 - 4}" y="{top + ph}" text-anchor="end" '
                   f'font-size="10">0</text>')
        if target is not None:
            ty = to_xy(1, target)[1]
            out.append(f'<path d="M{x0},{ty:.1f}h{pw}" stroke="currentColor" '
                       f'stroke-dasharray="4 3" stroke-opacity="0.7"/>')
        for m, trace in traces.items():
            points = torch.tensor([to_xy(s + 1, v) for s, v in enumerate(trace[:, col].tolist())])
            # Every step near the start, fewer later: the log axis squeezes them together
            keep = sorted({int(round(math.exp(i / 40 * math.log(steps)))) - 1 for i in range(41)})
            out.append(f'<path d="{svg_path(points[keep])}" fill="none" stroke="{colours[m]}" '
                       f'stroke-width="1.8"/>')
    height = top + ph + 44
    out.append(f'<text x="{left + 1.5 * pw + gap_x}" y="{top + ph + 28}" '
               f'text-anchor="middle" font-size="11">step</text>')
    out.append(svg_legend([(colours[m], True, f'm = {m}') for m in traces], left + 8,
                          height - 2, 90))
    reach = {m: steps_to_reach(t, mean, 0.1 * mean) for m, t in traces.items()}
    floor = {m: t[-100:, 2].mean().item() for m, t in traces.items()}
    names = list(traces)
    label = (f'Three line plots against the training step, log scale, for momentum '
             f'{", ".join(str(m) for m in names)}: running_mean rising from 0 to the data mean '
             f'{mean:g}, running_var moving from 1 to the data variance {std ** 2:g}, and the gap '
             f'between the train and eval outputs of the same batch shrinking.')
    caption = (f'The running mean stays within 10% of the data\'s mean {mean:g} from step '
               f'{reach[names[0]]} with momentum {names[0]}, step {reach[names[1]]} with '
               f'{names[1]} and step {reach[names[2]]} with {names[2]}; over the last 100 steps '
               f'eval() still changes outputs by {min(floor.values()):.2f} to '
               f'{max(floor.values()):.2f} on average, whatever the momentum.')
    width = left + 3 * pw + 2 * gap_x + 10
    return svg_figure(''.join(out), width, height, label, caption)


@check_group(fold=True)
def _check_running_stats_figure():
    r"""
    ## The running-statistics figure

    What its caption says, from the same traces: how many steps the running mean needs, against
    the expectation for a constant input, $1 - (1 - m)^k \ge 0.9$ at
    $k = \lceil \ln 0.1 / \ln(1 - m) \rceil$, and the gap between `train()` and `eval()` that
    remains, which is the batches' own sampling noise.
    """
    from labml_nn_norm.layer_norm import check_figure

    traces = running_stats_trace()
    reach = {m: steps_to_reach(t, 3.0, 0.3) for m, t in traces.items()}
    for m in (0.1, 0.01):
        expected = math.ceil(math.log(0.1) / math.log(1 - m))
        check(f'momentum {m}: within 10% of the mean after a number of steps within 2x of '
              f'{expected}', expected / 2 <= reach[m] <= 2 * expected, f'{reach[m]} steps')
    check('momentum None: within 10% after at most 5 steps', reach[None] <= 5,
          f'{reach[None]} steps')
    floor = {m: t[-100:, 2].mean().item() for m, t in traces.items()}
    check('over the last 100 steps eval() still changes the output by 0.1 to 0.3 on average',
          all(0.1 < f < 0.3 for f in floor.values()),
          ', '.join(f'{m}: {f:.2f}' for m, f in floor.items()))
    check_figure('figure', figure_running_stats(traces),
                 figure_running_stats(running_stats_trace(steps=100)))


# ### As a drop-in
#
# One class stands for `torch.nn.BatchNorm1d`, `2d` and `3d`, with their arguments, parameter and
# buffer names, `state_dict` (version 2, so an older one without `num_batches_tracked` loads as in
# PyTorch) and `repr` (with the class name `BatchNorm`). Its errors are the
# [LayerNorm page's](../layer_norm/index.md) `NormalizationError`, a `ValueError` and a
# `RuntimeError` at once: PyTorch raises `ValueError` for a wrong number of dimensions, one value
# per channel and a bad $\epsilon$, and `RuntimeError` for a wrong channel count, and an `except`
# written for either still catches ours. The messages for one value per channel and for
# $\epsilon$ are PyTorch's. What remains different, each asserted in `_test()`:
#
# * a wrong channel count: PyTorch says `running_mean should contain 5 elements not 3` (or
#   `weight should ...` without running statistics); we say which dimension and what came;
# * the number of dimensions: one class accepts 2D to 5D inputs, where `BatchNorm1d` refuses a 4D
#   one (`expected 2D or 3D input (got 4D input)`);
# * `num_features=0`: PyTorch builds the module, we refuse at construction;
# * mixed dtypes: PyTorch's CPU kernel refuses a `float32` input to a `bfloat16` module ("mixed
#   dtype (CPU): expect parameter to have scalar type of Float"); ours computes it in `float32`
#   and returns `float32`;
# * it is not an instance of PyTorch's `_BatchNorm`, so `SyncBatchNorm.convert_sync_batchnorm`
#   and other `isinstance` checks skip it.


def _torch_batch_norm(dim: int, *args, **kwargs) -> nn.Module:
    """PyTorch's module for an input with `dim` dimensions: the reference we test against."""
    cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[dim]
    return cls(*args, **kwargs)


@check_group(fold=True)
def _check_against_torch():
    r"""
    ## Against `torch.nn.BatchNorm1d/2d/3d`

    Ours and PyTorch's are run side by side for several steps of training and then evaluation,
    comparing outputs, gradients of the input, $\gamma$ and $\beta$, and the buffers after every
    step.
    """

    shapes = [(8, 6), (4, 6, 10), (4, 6, 5, 3), (2, 6, 3, 4, 2)]
    configs = [dict(), dict(momentum=None), dict(affine=False), dict(bias=False),
               dict(track_running_stats=False), dict(momentum=0.3, eps=1e-3)]
    for shape in shapes:
        # Per-channel means far from 0, from -5 to 20, broadcast over the other dimensions
        channel_means = torch.linspace(-5, 20, 6).view((1, 6) + (1,) * (len(shape) - 2))
        ys, y_refs = [], []  # every output, of every configuration, step and eval
        for config in configs:
            ours = BatchNorm(6, **config)
            ref = _torch_batch_norm(len(shape), 6, **config)
            if ref.weight is not None:
                with torch.no_grad():
                    ref.weight.normal_()
                    if ref.bias is not None:
                        ref.bias.normal_()
            ours.load_state_dict(ref.state_dict())
            for step in range(3):
                # Shifted, scaled inputs
                x = torch.randn(shape) * 2 + channel_means
                y, y_ref = run_side_by_side(ours, ref, x, buffers=True)
                ys.append(y.detach())
                y_refs.append(y_ref.detach())
            ours.eval()
            ref.eval()
            ys.append(ours(x.detach()).detach())
            y_refs.append(ref(x.detach()).detach())
        # The outputs of all configurations and steps at once, so max |Δ| is the largest of them
        check_close(f'input {shape}: outputs of 3 train steps + eval, {len(configs)} '
                    f'configurations (max over all)', torch.stack(ys), torch.stack(y_refs))


def _exact_bn(x: torch.Tensor) -> torch.Tensor:
    # The exact (`float64`) normalization of a $(N, C, L)$ input, for the half-precision checks
    xd = x.double()
    dims = (0, 2)
    var = xd.var(dims, unbiased=False, keepdim=True)
    return (xd - xd.mean(dims, keepdim=True)) / torch.sqrt(var + 1e-5)


def _ulps(y: torch.Tensor, exact: torch.Tensor) -> float:
    # The spacing of `y.dtype` numbers around each exact value, and that of 1 below $|y| = 1$
    # (an absolute error there, since $x - \mu$ cancels)
    octave = torch.exp2(torch.floor(torch.log2(exact.abs().clamp_min(1.0))))
    spacing = torch.finfo(y.dtype).eps * octave
    return ((y.double() - exact).abs() / spacing).max().item()


@check_group(fold=True)
def _check_edge_cases():
    """
    ## Edge cases: an empty batch, half precision

    **Half precision.** Both outputs are compared with the exact (`float64`) normalization of the
    same half-precision input, in units in the last place (ulp) of each exact value (of 1, for
    values below 1). Ours is computed in `float32` and rounded once, so it is within half an ulp
    plus the small error of a `float32` mean (0.6 ulp is asserted); PyTorch's CPU output is a
    little further off (the measured ulps are printed; we have not read its kernel to say why).
    """

    for config in (dict(), dict(momentum=None)):
        ours, ref = BatchNorm(3, **config), nn.BatchNorm1d(3, **config)
        y, y_ref = ours(torch.randn(0, 3)), ref(torch.randn(0, 3))
        check(f'empty batch {config}: empty output, buffers as torch',
              y.shape == y_ref.shape == (0, 3) and
              all(torch.equal(b, b_ref) for b, b_ref in zip(ours.buffers(), ref.buffers())),
              f'num_batches_tracked={ours.num_batches_tracked.item()}')
    #
    # `float16` and `bfloat16`, in the module's dtype; then a `float16` input to a `float32` module
    for dtype in (torch.float16, torch.bfloat16):
        x = (torch.randn(16, 4, 8) + 3).to(dtype)
        ours, ref = BatchNorm(4).to(dtype), nn.BatchNorm1d(4).to(dtype)
        y, y_ref = ours(x), ref(x)
        exact = _exact_bn(x)
        check(f'{dtype}: ours within 0.6 ulp of exact', _ulps(y, exact) <= 0.6,
              f'{_ulps(y, exact):.2f} ulp')
        note(f'{dtype}: torch.nn.BatchNorm1d', f'{_ulps(y_ref, exact):.2f} ulp from exact')
        eps = torch.finfo(dtype).eps
        check_close(f'{dtype}: ours vs torch, to 4·eps', y, y_ref, atol=4 * eps, rtol=eps)
        check_close(f'{dtype} running_var', ours.running_var, ref.running_var)
    ours, ref = BatchNorm(4), nn.BatchNorm1d(4)
    check_close('float16 input, float32 module', ours(x.half()), ref(x.half()))


@check_group(fold=True)
def _check_half_overflow():
    """
    ## Past the `float16` range

    A `float16` input whose per-channel sum is past the `float16` range: both layers still agree.
    """

    big = (torch.randn(64, 4, 512) + 200).half()
    ours, ref = BatchNorm(4).half(), nn.BatchNorm1d(4).half()
    y, y_ref = ours(big), ref(big)
    check('float16 sum of each channel overflows to inf', bool(big.sum((0, 2)).isinf().all()),
          f'{big.numel() // 4} values ≈ 200 per channel')
    exact = _exact_bn(big)
    check('... ours: finite, within 0.6 ulp of exact',
          bool(y.isfinite().all()) and _ulps(y, exact) <= 0.6,
          f'{_ulps(y, exact):.2f} ulp')
    check('... torch: finite', bool(y_ref.isfinite().all()))
    note('... torch.nn.BatchNorm1d', f'{_ulps(y_ref, exact):.2f} ulp from exact')
    check_close('... running_mean, running_var', (ours.running_mean, ours.running_var),
                (ref.running_mean, ref.running_var))


@check_group(fold=True)
def _check_drop_in():
    """
    ## Drop-in: `state_dict` and `repr`

    The `state_dict` moves between ours and PyTorch's, both ways, and the repr reads the same.
    """

    ours, ref = BatchNorm(6), nn.BatchNorm2d(6)
    ours(torch.randn(4, 6, 3, 3))
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(nn.BatchNorm3d(6).state_dict())
    check('state_dict loads both ways; same keys as torch',
          list(ours.state_dict()) == list(ref.state_dict()), ', '.join(ours.state_dict()))
    check('repr matches torch', repr(ours) == repr(ref).replace('BatchNorm2d', 'BatchNorm'),
          repr(ours))


@check_group(fold=True)
def _check_errors():
    """
    ## Errors, and what else differs from PyTorch

    PyTorch's exception classes keep catching ours, the messages PyTorch shares with us are the
    same, and each remaining difference.
    """

    check_raises('one value per channel in training', ValueError, BatchNorm(3), torch.randn(1, 3),
                 match='more than 1 value per channel')
    check_raises('wrong channel count', ValueError, BatchNorm(3), torch.randn(4, 5, 2),
                 match='expects 3 channels')
    check_raises('1D input', ValueError, BatchNorm(3), torch.randn(3), match='2D to 5D')
    check_raises('num_features not a positive int', ValueError, BatchNorm, 0, match='positive int')
    for bn in (BatchNorm(3, eps=0.0), nn.BatchNorm1d(3, eps=0.0)):
        check_raises(f'{type(bn).__name__}: eps=0 in training', ValueError, bn, torch.randn(4, 3),
                     match='eps must be positive during training')
    ones = torch.ones(2, 3)
    check('eps=0 is allowed in eval() with running statistics, as in torch',
          torch.equal(BatchNorm(3, eps=0.0).eval()(ones), nn.BatchNorm1d(3, eps=0.0).eval()(ones)))
    check_raises('eps < 0 in eval()', ValueError, BatchNorm(3, eps=-1.0).eval(), torch.randn(4, 3),
                 match='non-negative')
    #
    # PyTorch's classes: RuntimeError for the channel count, ValueError for the rest
    check_raises('wrong channel count: torch raises RuntimeError', RuntimeError,
                 nn.BatchNorm1d(3), torch.randn(4, 5, 2), match='running_mean should contain')
    check_raises('... ours is a RuntimeError too, another text', RuntimeError, BatchNorm(3),
                 torch.randn(4, 5, 2), match='expects 3 channels')
    check_raises('... torch without running statistics: about weight', RuntimeError,
                 nn.BatchNorm1d(3, track_running_stats=False), torch.randn(4, 5, 2),
                 match='weight should contain')
    free = torch.randn(4, 5, 2)
    check_close('neither weight nor running statistics: both normalize 5 channels given 3',
                BatchNorm(3, affine=False, track_running_stats=False)(free),
                nn.BatchNorm1d(3, affine=False, track_running_stats=False)(free))
    messages = []
    for bn in (BatchNorm(3), nn.BatchNorm1d(3)):
        try:
            bn(torch.randn(1, 3))
        except ValueError as e:
            messages.append(str(e))
    check('one value per channel: both ValueError, same message',
          len(messages) == 2 and messages[0] == messages[1], messages[0] if messages else '')
    check_raises('4D input: torch.nn.BatchNorm1d refuses', ValueError, nn.BatchNorm1d(3),
                 torch.randn(2, 3, 4, 4), match='expected 2D or 3D input')
    image = torch.randn(2, 3, 4, 4)
    check_close('... ours, one class for 1d/2d/3d, takes it as BatchNorm2d does',
                BatchNorm(3)(image), nn.BatchNorm2d(3)(image))
    check('num_features=0: torch builds the module', nn.BatchNorm1d(0).num_features == 0)
    check_raises('... ours refuses at construction', RuntimeError, BatchNorm, 0,
                 match='positive int')
    x32 = torch.randn(4, 3)
    check_raises('float32 input, bfloat16 module: torch (CPU) refuses', RuntimeError,
                 nn.BatchNorm1d(3).to(torch.bfloat16), x32, match='mixed dtype (CPU)')
    y = BatchNorm(3).to(torch.bfloat16)(x32)
    check('... ours computes it in float32', y.dtype == torch.float32, str(y.dtype))
    check('not an instance of torch.nn.modules.batchnorm._BatchNorm',
          not isinstance(BatchNorm(3), nn.modules.batchnorm._BatchNorm))
    old = nn.BatchNorm1d(3).state_dict()
    del old['num_batches_tracked']
    old._metadata[''] = {'version': 1}
    restored = BatchNorm(3)
    restored.load_state_dict(old)
    check('a version-1 state_dict without num_batches_tracked loads, count 0',
          restored.num_batches_tracked.item() == 0)


# ## Exercises
#
# 1. You port a Keras model whose `BatchNormalization` layers keep the default `momentum=0.99`.
#    Which `momentum` does `BatchNorm` (or `torch.nn.BatchNorm2d`) need, and do the two running
#    variances then agree?
# 2. Give one channel the same value in every sample and train one step. What does BatchNorm
#    output for that channel, and what would it output with `eps=0`?
# 3. A fresh `BatchNorm` with momentum $m$ sees the same batch $k$ times. Derive its running
#    mean and running variance after $k$ steps, and check them for $m = 0.2$, $k = 7$.
# 4. Make `BatchNorm` compute LayerNorm: for an $(N, C)$ input, without $\gamma$ and $\beta$,
#    which transposes turn `BatchNorm` in training into `LayerNorm(C)`?


@check_group(fold=True)
def _exercise_1():
    """
    ## Solution 1: Keras's momentum 0.99 is PyTorch's 0.01
    """
    # PyTorch weights the *new* batch by $m$, Keras the *old* average by $k$: $m = 1 - k$
    bn = BatchNorm(2, momentum=1 - 0.99)
    keras_mean, keras_var = torch.zeros(2), torch.ones(2)  # Keras's initial moving values
    for step in range(20):
        b = torch.randn(16, 2) + step  # (16, 2)
        bn(b)
        keras_mean = keras_moving_average(keras_mean, b.mean(0), 0.99)
        keras_var = keras_moving_average(keras_var, b.var(0, unbiased=False), 0.99)
    check_close('momentum=0.01: running_mean == Keras with momentum 0.99', bn.running_mean,
                keras_mean)
    # The variances do not agree: each batch adds its unbiased variance here, its biased one there
    check('... running_var is larger than Keras\'s (unbiased batch variances, 16/15 of biased)',
          bool((bn.running_var > keras_var).all()),
          ', '.join(f'{a:.3f} > {b:.3f}' for a, b in zip(bn.running_var, keras_var)))


@check_group(fold=True)
def _exercise_2():
    """
    ## Solution 2: a constant channel
    """
    x = torch.randn(8, 3)
    x[:, 1] = 5.0  # channel 1: the same value in every sample
    y = BatchNorm(3)(x)
    # $x - \mu = 0$ exactly, so the output is $0 \cdot \gamma + \beta = \beta = 0$
    check_close('a constant channel normalizes to its beta, 0', y[:, 1], torch.zeros(8),
                rtol=0, atol=0)
    # With $\epsilon = 0$ it would be $0 / \sqrt{0} = 0 / 0$, which is why training refuses `eps=0`
    c = x[:, 1]
    by_hand = (c - c.mean()) / torch.sqrt(c.var(unbiased=False) + 0.0)
    check('... with eps=0: 0 / 0 = NaN', bool(by_hand.isnan().all()))


@check_group(fold=True)
def _exercise_3():
    r"""
    ## Solution 3: the same batch k times
    """
    # Each step keeps $1 - m$ of the old value: after $k$ steps $(1 - m)^k$ of the start remains,
    # so $\hat\mu_k = (1 - (1 - m)^k)\,\mu$ and
    # $\hat\sigma^2_k = (1 - m)^k \cdot 1 + (1 - (1 - m)^k)\,s^2$, $s^2$ the unbiased variance
    m, k = 0.2, 7
    bn = BatchNorm(3, momentum=m)
    x = torch.randn(10, 3) * 2 + 4  # (10, 3)
    for _ in range(k):
        bn(x)
    kept = (1 - m) ** k
    check_close('running_mean == (1 - (1 - m)^k) μ', bn.running_mean, (1 - kept) * x.mean(0))
    check_close('running_var == (1 - m)^k + (1 - (1 - m)^k) s²', bn.running_var,
                kept + (1 - kept) * x.var(0, unbiased=True))


@check_group(fold=True)
def _exercise_4():
    """
    ## Solution 4: BatchNorm as LayerNorm, by a transpose
    """
    from labml_nn_norm.layer_norm import LayerNorm

    x = torch.randn(6, 16) * 3 + 2  # (N, C)
    # BatchNorm reduces dimension 0 for each index of dimension 1; in $x^T$, $(C, N)$, that is
    # every feature of one sample: the $N$ samples become BatchNorm's "channels"
    y = BatchNorm(6, affine=False)(x.T).T  # (N, C)
    check_close('BatchNorm(N) of x.T, transposed back == LayerNorm(C)', y,
                LayerNorm(16, elementwise_affine=False)(x))


def _artifacts():
    """
    ## The figure, made when the site is built
    """
    return {'running_stats': figure_running_stats()}


def _test():
    """
    ## Run all the checks
    """
    torch.manual_seed(0)
    _check_against_torch()
    _check_running_stats()
    _check_keras_momentum()
    _check_running_stats_figure()
    _check_bias_before_bn()
    _check_edge_cases()
    _check_half_overflow()
    _check_drop_in()
    _check_fold()
    _check_errors()
    _exercise_1()
    _exercise_2()
    _exercise_3()
    _exercise_4()

# ## Sources
#
# * Ioffe and Szegedy, [Batch Normalization: Accelerating Deep Network Training by Reducing Internal
#   Covariate Shift](https://arxiv.org/abs/1502.03167), 2015: §1 and §2 (internal covariate shift,
#   "a step towards reducing" it, fixing means and variances), §3 and Algorithm 1 (per-feature
#   mini-batch statistics, $\gamma$, $\beta$), §3.1 and Algorithm 2 (population statistics at
#   inference, the unbiased variance, $\frac{m}{m-1}$ in the paper's notation, moving averages
#   as an alternative), §3.2 (the
#   bias cancelled by the mean subtraction; one $\gamma$, $\beta$ per feature map), §4.1 and
#   Figure 1 (the MNIST input distributions).
# * Santurkar, Tsipras, Ilyas and Madry, [How Does Batch Normalization Help Optimization?](https://arxiv.org/abs/1805.11604),
#   2018, abstract only (the quotes above). We could not read the body of the paper here, so we
#   quote no section, figure or number from it.
# * Ba, Kiros and Hinton, [Layer Normalization](https://arxiv.org/abs/1607.06450), 2016, §1: what
#   batch statistics cost (mini-batch size, RNN time steps, online learning, small per-device
#   batches).
# * PyTorch 2.13.0, `torch/nn/modules/batchnorm.py`: the buffers and `num_batches_tracked` ([L66-L88](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L66-L88)),
#   keyword-only `bias` ([L38-L49](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L38-L49)),
#   `reset_*` and `extra_repr` ([L91-L115](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L91-L115)),
#   `momentum=None` as $1/k$ and batch statistics in `eval()` without buffers ([L176-L224](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L176-L224)),
#   the biased/unbiased variance and the momentum note ([L317-L360](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L317-L360)).
# * PyTorch 2.13.0, `torch/nn/functional.py`: one value per channel refused in training ([L2840-L2856](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/functional.py#L2840-L2856)),
#   the $\epsilon$ checks ([L2887-L2896](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/functional.py#L2887-L2896)).
#   `_test()` compares every configuration with `torch.nn.BatchNorm1d/2d/3d` itself.
# * Keras 3, `keras/src/layers/normalization/batch_normalization.py`: the documented update ([L61-L65](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/layers/normalization/batch_normalization.py#L61-L65)),
#   the defaults `axis=-1`, `momentum=0.99`, `epsilon=1e-3` ([L160-L164](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/layers/normalization/batch_normalization.py#L160-L164)),
#   the update of `moving_mean` and `moving_variance` with the batch `variance` from `ops.moments` ([L363-L391](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/layers/normalization/batch_normalization.py#L363-L391),
#   [L434-L440](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/layers/normalization/batch_normalization.py#L434-L440));
#   `keras/src/ops/nn.py`, the `moments` example, a $1/n$ variance ([L2383-L2387](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/ops/nn.py#L2383-L2387));
#   the PyTorch backend's `moments`, $\mathbb{E}[x^2] - \mathbb{E}[x]^2$
#   ([`keras/src/backend/torch/nn.py` L1035-L1043](https://github.com/keras-team/keras/blob/3422977a5e38fb2f7709aaa9a08e47f0c43d0f60/keras/src/backend/torch/nn.py#L1035-L1043)).
