r"""
---
title: Batch Normalization
summary: BatchNorm from scratch, one class for BatchNorm1d/2d/3d, exact to PyTorch in training and evaluation, as the contrast LayerNorm is defined against.
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
spatial or time dimensions. For each channel $c$, BatchNorm takes the $m = N \cdot \prod *$
values of that channel across the *whole batch* and every position, and computes

$$\mu_c = \frac{1}{m}\sum_{j=1}^{m} x_{j,c} \qquad
\sigma^2_c = \frac{1}{m}\sum_{j=1}^{m} \left(x_{j,c} - \mu_c\right)^2$$

$$y_{j,c} = \frac{x_{j,c} - \mu_c}{\sqrt{\sigma^2_c + \epsilon}}\,\gamma_c + \beta_c$$

One $\gamma$ and one $\beta$ per *channel*, where LayerNorm has one per normalized element.

### Why it needs running statistics

A sample's output depends on the rest of its batch. At inference there may be no batch (one
request at a time), and an output that changes with its neighbours is not what we want, so
during training BatchNorm keeps exponential moving averages of $\mu_c$ and $\sigma^2_c$ in
buffers and uses *those* in evaluation mode. That is why `train()` and `eval()` change what
BatchNorm computes, and why it is awkward for small batches, RNNs (statistics per time step?)
and [data-parallel training](../distributed/index.md), where the batch is split across devices.
"""

from typing import Optional

import torch
from torch import nn


class BatchNorm(nn.Module):
    r"""
    ## The module

    * `num_features` is $C$, the size of dimension 1 of the input
    * `eps` is $\epsilon$, added to the variance inside the square root
    * `momentum` is the weight of the new batch in the running averages; `None` means a
      cumulative (equal-weight) average over all batches seen
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
            raise ValueError(f'num_features must be a positive int (the channel count C), got {num_features!r}')
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = {'device': device, 'dtype': dtype}
        #
        # $\gamma$ and $\beta$: one per channel. Missing ones are registered as `None`, as in PyTorch.
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
            self.register_buffer('num_batches_tracked', torch.tensor(0, dtype=torch.long, device=device))
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
            raise ValueError(f'BatchNorm expects a 2D to 5D input (N, C, *), got a {x.dim()}D input '
                             f'of size {list(x.shape)}')
        if x.shape[1] != self.num_features:
            raise ValueError(f'BatchNorm expects {self.num_features} channels in dimension 1, got input '
                             f'of size {list(x.shape)} ({x.shape[1]} channels)')

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._check_input(input)
        # Shape the per-channel statistics as $(1, C, 1, \dots)$ so they broadcast over the input
        C = self.num_features
        stat_shape = (1, C) + (1,) * (input.dim() - 2)
        # Every dimension except the channel one is reduced: the batch and all positions
        dims = [0] + list(range(2, input.dim()))
        # $m$, the number of values per channel
        m = input.numel() // C
        #
        # Half-precision inputs keep their statistics in `float32`, as PyTorch's kernels do
        compute_dtype = torch.float32 if input.dtype in (torch.float16, torch.bfloat16) else input.dtype
        x = input.to(compute_dtype)
        #
        # Batch statistics are used in training, and in evaluation when there are no running ones
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            # A channel with a single value has zero variance and normalizes to 0: training on
            # it would teach nothing, so PyTorch refuses, and so do we
            if m == 1:
                raise ValueError(f'Expected more than 1 value per channel when training, '
                                 f'got input size {list(input.shape)}')
            mean = x.mean(dim=dims)
            # The *biased* variance ($1/m$) normalizes the batch ...
            var = (x - mean.view(stat_shape)).square().mean(dim=dims)
        else:
            mean, var = self.running_mean.to(compute_dtype), self.running_var.to(compute_dtype)
        #
        if self.training and self.track_running_stats:
            self._update_running_stats(mean, var, m)
        #
        # $\hat{x} = (x - \mu) / \sqrt{\sigma^2 + \epsilon}$, then $y = \gamma \hat{x} + \beta$ per channel
        y = (x - mean.view(stat_shape)) * torch.rsqrt(var.view(stat_shape) + self.eps)
        if self.weight is not None:
            y = y * self.weight.to(compute_dtype).view(stat_shape)
        if self.bias is not None:
            y = y + self.bias.to(compute_dtype).view(stat_shape)
        return y.to(input.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, m: int):
        r"""
        ### Updating the running statistics

        Under `torch.no_grad()`: the running averages are bookkeeping, not part of the graph,
        and updating them must not keep every batch's graph alive.
        """
        self.num_batches_tracked.add_(1)
        # `momentum=None`: the $k$-th batch gets weight $1/k$, an equal-weight cumulative average
        factor = 1.0 / self.num_batches_tracked.item() if self.momentum is None else self.momentum
        # An empty batch has no statistics: the step is counted, the averages stay as they are
        if m == 0:
            return
        # ... but the running variance stores the *unbiased* estimate $\frac{m}{m - 1}\sigma^2$,
        # since it stands for the variance of the data, not of this particular batch
        unbiased_var = var * (m / (m - 1))
        # $\hat{\mu} \leftarrow (1 - \text{momentum})\,\hat{\mu} + \text{momentum}\cdot\mu_{\mathcal{B}}$,
        # in place, so the buffers stay the same tensors
        self.running_mean.mul_(1 - factor).add_(mean.to(self.running_mean.dtype), alpha=factor)
        self.running_var.mul_(1 - factor).add_(unbiased_var.to(self.running_var.dtype), alpha=factor)

    def extra_repr(self) -> str:
        return ('{num_features}, eps={eps}, momentum={momentum}, affine={affine}, bias={use_bias}, '
                'track_running_stats={track_running_stats}'.format(**self.__dict__,
                                                                   use_bias=self.bias is not None))


def _torch_batch_norm(dim: int, *args, **kwargs) -> nn.Module:
    """PyTorch's module for an input with `dim` dimensions: the reference we test against."""
    cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[dim]
    return cls(*args, **kwargs)


def _test():
    """
    ## Checks against PyTorch

    Ours and PyTorch's are run side by side for several steps of training and then evaluation,
    comparing outputs, gradients of the input, $\\gamma$ and $\\beta$, and the buffers after every step.
    """
    from labml_nn_norm._check import check, check_close, check_raises, run_side_by_side, section

    torch.manual_seed(0)
    section('Training steps, then eval, against torch.nn.BatchNorm1d/2d/3d')
    shapes = [(8, 6), (4, 6, 10), (4, 6, 5, 3), (2, 6, 3, 4, 2)]
    configs = [dict(), dict(momentum=None), dict(affine=False), dict(bias=False),
               dict(track_running_stats=False), dict(momentum=0.3, eps=1e-3)]
    for shape in shapes:
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
                # Shifted, scaled inputs: per-channel means far from 0
                x = (torch.randn(shape) * 2 + torch.linspace(-5, 20, 6).view((1, 6) + (1,) * (len(shape) - 2)))
                y, y_ref = run_side_by_side(ours, ref, x, buffers=True)
            ours.eval()
            ref.eval()
            torch.testing.assert_close(ours(x.detach()), ref(x.detach()))
        check_close(f'input {shape}: 3 train steps + eval, {len(configs)} configurations', y, y_ref)
    #
    # What the buffers hold: the running variance is the *unbiased* batch variance (momentum 1),
    # while the output was normalized with the biased one.
    section('What the running statistics are')
    bn = BatchNorm(3, momentum=1.0)
    x = torch.randn(5, 3) * 3 + 7
    y = bn(x)
    check_close('momentum=1: running_var == unbiased batch variance', bn.running_var, x.var(0, unbiased=True))
    check_close('output normalized with the biased variance',
                y.detach(), (x - x.mean(0)) / (x.var(0, unbiased=False) + 1e-5).sqrt())
    check('running statistics are not part of the graph', not bn.running_mean.requires_grad
          and bn.running_mean.grad_fn is None)
    #
    # `momentum=None` is an equal-weight average over the batches: after $k$ batches the running mean
    # is the mean of the $k$ batch means
    bn = BatchNorm(3, momentum=None)
    batches = [torch.randn(4, 3) + i for i in range(5)]
    for b in batches:
        bn(b)
    check_close('momentum=None: running_mean == mean of batch means', bn.running_mean,
                torch.stack([b.mean(0) for b in batches]).mean(0))
    #
    section('Edge cases')
    for config in (dict(), dict(momentum=None)):
        ours, ref = BatchNorm(3, **config), nn.BatchNorm1d(3, **config)
        y, y_ref = ours(torch.randn(0, 3)), ref(torch.randn(0, 3))
        check(f'empty batch {config}: empty output, buffers as torch',
              y.shape == y_ref.shape == (0, 3) and
              all(torch.equal(b, b_ref) for b, b_ref in zip(ours.buffers(), ref.buffers())),
              f'num_batches_tracked={ours.num_batches_tracked.item()}')
    for dtype in (torch.float16, torch.bfloat16):
        x = torch.randn(16, 4, 8) + 3
        ours, ref = BatchNorm(4).to(dtype), nn.BatchNorm1d(4).to(dtype)
        y, y_ref = ours(x.to(dtype)), ref(x.to(dtype))
        # PyTorch's CPU kernel folds $\gamma$ and $\beta$ into one multiply-add per element, so a
        # half-precision output can differ from ours by one unit in the last place
        ulp = torch.finfo(dtype).eps
        check_close(f'{dtype} module and input (to 1 ulp)', y, y_ref, atol=4 * ulp, rtol=ulp)
        check_close(f'{dtype} running_var', ours.running_var, ref.running_var)
    ours, ref = BatchNorm(4), nn.BatchNorm1d(4)
    check_close('float16 input, float32 module', ours(x.half()), ref(x.half()))
    #
    # The `state_dict` moves between ours and PyTorch's, both ways, and the repr reads the same
    ours, ref = BatchNorm(6), nn.BatchNorm2d(6)
    ours(torch.randn(4, 6, 3, 3))
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(nn.BatchNorm3d(6).state_dict())
    check('state_dict loads both ways; same keys as torch',
          list(ours.state_dict()) == list(ref.state_dict()), ', '.join(ours.state_dict()))
    check('repr matches torch', repr(ours) == repr(ref).replace('BatchNorm2d', 'BatchNorm'), repr(ours))
    #
    section('Errors')
    check_raises('one value per channel in training', ValueError, BatchNorm(3), torch.randn(1, 3),
                 match='more than 1 value per channel')
    check_raises('wrong channel count', ValueError, BatchNorm(3), torch.randn(4, 5, 2), match='expects 3 channels')
    check_raises('1D input', ValueError, BatchNorm(3), torch.randn(3), match='2D to 5D')
    check_raises('num_features not a positive int', ValueError, BatchNorm, 0, match='positive int')


if __name__ == '__main__':
    _test()
