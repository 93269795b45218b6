r"""
---
title: Normalization across devices
summary: In data-parallel training BatchNorm needs a collective to see the whole batch and
  LayerNorm needs none - a from-scratch SyncBatchNorm on torch.distributed, compared line by line
  with PyTorch's, measured.
section: The BatchNorm contrast
order: 13
notebook_checks: installed
---

# Normalization across devices

In data-parallel training each device (a *rank*) gets a shard of the batch, runs the model on it,
and the parameter gradients are combined across ranks. Any layer whose output depends only on its
own sample is unaffected: [LayerNorm](../layer_norm/index.md) normalizes each sample (each token)
over its own features, so every rank computes exactly what one big machine would, with **zero
communication** (`_test()` checks this: LayerNorm on each shard equals LayerNorm on the whole
batch, and with every `torch.distributed` collective wrapped, LayerNorm's forward and
backward call none).

[BatchNorm](../batch_norm/index.md) is different: its statistics span the *batch*
([which elements](../ln_vs_bn/index.md)). Left alone, each rank normalizes with the statistics of
its own shard: with 8 ranks of 2 samples, BatchNorm sees batches of 2 and normalizes each with
its own noisy statistics (`_test()` shows it). Its running statistics do not drift apart across
ranks, though: `DistributedDataParallel` overwrites every rank's buffers with rank 0's at the
start of each forward ([below](#plain-batchnorm-under-ddp-rank-0s-running-statistics)), so
training keeps rank 0's running average of its own small batches, and pays one more collective
per forward for it. The fix, *synchronized*
BatchNorm, makes the ranks exchange per-channel statistics in the forward pass and two per-channel
gradient sums in the backward pass. This page builds it from scratch on `torch.distributed` (the
gloo backend, processes on one machine talking over the loopback interface), checks it against
one process on the whole batch, and compares it, line by line, with PyTorch's
`torch.nn.SyncBatchNorm` (version 2.13.0), which we cannot run here: it only accepts GPU-like
inputs (below).

## What you will learn

* why LayerNorm needs no communication when the batch is split, and what plain BatchNorm does
  instead:
  [across ranks](#one-batch-split-across-ranks-against-one-process-on-the-whole-batch),
  [without synchronization](#without-synchronization-8-devices-of-2-samples-vs-one-batch-of-16);
* how the shards' statistics merge exactly, and why the ranks send $(n, \bar{x}, M_2)$ and not
  the sums: [the synchronized function](#the-synchronized-function),
  [why not the sums](#why-send-the-mean-and-m2-not-the-sums);
* the backward pass as two sums per channel and one `all_reduce`:
  [backward](#backward-two-sums-per-channel);
* what DDP does to plain BatchNorm's running statistics:
  [rank 0's running statistics](#plain-batchnorm-under-ddp-rank-0s-running-statistics);
* how ours compares with PyTorch's `SyncBatchNorm`, and what it all costs:
  [where ours differs](#where-ours-differs), [the cost, measured](#the-cost-measured).
"""

import io
import json
import os
import platform
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional

import torch
import torch.distributed as dist

from labml_nn_norm._check import check, check_close, check_group, note, section
from labml_nn_norm.batch_norm import BatchNorm

# Bytes moved by collectives in this process: (name, bytes) per call
COMM_LOG: List[tuple] = []


def _all_gather(t: torch.Tensor) -> List[torch.Tensor]:
    # Every rank's copy of `t`; counted as the gathered output, own copy included
    out = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(out, t)
    COMM_LOG.append(('all_gather', t.numel() * t.element_size() * len(out)))
    return out


def _all_reduce(t: torch.Tensor) -> torch.Tensor:
    dist.all_reduce(t)
    COMM_LOG.append(('all_reduce', t.numel() * t.element_size()))
    return t


def _validate_shards(x: torch.Tensor, num_features: int):
    """
    ### Checking the set-up on every rank

    We reject a rank with an empty shard (PyTorch instead lets it take part with a count of 0)
    and ranks with different channel counts. A check on one rank alone would leave the other ranks
    waiting inside the next collective; one tiny `all_gather` of (channels, values per channel)
    lets *every* rank see the problem and raise the same error together.
    """
    if x.dim() < 2 or x.shape[1] != num_features:
        raise ValueError(f'SyncBatchNorm expects input (N, {num_features}, *), got {list(x.shape)}')
    info = _all_gather(torch.tensor([x.shape[1], x.numel() // max(x.shape[1], 1)],
                                    dtype=torch.long))
    channels = [int(t[0]) for t in info]
    counts = [int(t[1]) for t in info]
    if len(set(channels)) > 1:
        raise RuntimeError(f'SyncBatchNorm: every rank must have the same channel count; '
                           f'expected {channels[0]} (rank 0), got {channels}')
    empty = [r for r, n in enumerate(counts) if n == 0]
    if empty:
        raise ValueError(f'SyncBatchNorm: rank(s) {empty} got an empty shard '
                         f'(values per channel: {counts}); every rank needs at least one sample')
    if sum(counts) <= 1:
        raise ValueError(f'Expected more than 1 value per channel when training, '
                         f'got {sum(counts)} across ranks')


def chan_merge(counts: torch.Tensor, means: torch.Tensor, m2s: torch.Tensor):
    r"""
    ### Chan's merge of all shards at once

    `counts` is $(R,)$ or $(R, 1)$, `means` and `m2s` are $(R, C)$, one row per rank. Returns
    $N$, $\mu$ and the biased $\sigma^2$ per channel.
    """
    counts = counts.reshape(-1, 1)
    N = counts.sum(0)
    # $\mu = \sum_r n_r \bar{x}_r / N$
    mean = (counts * means).sum(0) / N
    # Each shard's $M_2$ plus its mean's squared distance from $\mu$, times its count
    var = (m2s + counts * (means - mean).square()).sum(0) / N
    return N, mean, var


class SyncBatchNormFunction(torch.autograd.Function):
    r"""
    ## The synchronized function

    ### Forward: merge the shards' statistics

    Each rank $r$ computes, per channel, its count $n_r$, mean $\bar{x}_r$ and sum of squared
    deviations $M_{2,r}$. One collective (`all_gather`) gives every rank every shard's triple, and
    [Chan's merge](../numerics/index.md) combines them exactly:

    $$N = \sum_r n_r \qquad \mu = \frac{1}{N}\sum_r n_r \bar{x}_r \qquad
    \sigma^2 = \frac{1}{N}\sum_r \Big(M_{2,r} + n_r (\bar{x}_r - \mu)^2\Big)$$
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps: float,
                momentum: Optional[float], num_batches_tracked):
        C = x.shape[1]
        dims = [0] + list(range(2, x.dim()))
        stat_shape = (1, C) + (1,) * (x.dim() - 2)
        xc = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        # This shard's $(n_r, \bar{x}_r, M_{2,r})$ per channel
        n_r = xc.numel() // C
        mean_r = xc.mean(dim=dims)  # (C,)
        m2_r = (xc - mean_r.view(stat_shape)).square().sum(dim=dims)  # (C,)
        #
        # One collective: every rank gets every shard's $C$ means, $C$ values of $M_2$ and its
        # count, packed as one tensor of $2C + 1$ numbers (PyTorch's size too)
        packed = torch.cat([mean_r, m2_r, mean_r.new_full((1,), float(n_r))])
        parts = torch.stack(_all_gather(packed))  # (world, 2C + 1)
        N, mean, var = chan_merge(parts[:, 2 * C], parts[:, :C], parts[:, C:2 * C])
        #
        # Running statistics: the *global* mean and unbiased variance, as one process would keep
        if running_mean is not None:
            with torch.no_grad():
                num_batches_tracked.add_(1)
                f = 1.0 / num_batches_tracked.item() if momentum is None else momentum
                n = N.item()
                running_mean.mul_(1 - f).add_(mean.to(running_mean.dtype), alpha=f)
                running_var.mul_(1 - f).add_((var * n / (n - 1)).to(running_var.dtype), alpha=f)
        #
        rstd = torch.rsqrt(var + eps)
        x_hat = (xc - mean.view(stat_shape)) * rstd.view(stat_shape)
        y = x_hat
        if weight is not None:
            y = y * weight.view(stat_shape)
        if bias is not None:
            y = y + bias.view(stat_shape)
        ctx.save_for_backward(x_hat, rstd, weight, N)
        ctx.has_bias = bias is not None
        return y.to(x.dtype)

    @staticmethod
    def backward(ctx, dy):
        r"""
        ### Backward: two sums per channel

        From the [backward pass page](../layer_norm/backward.md), with the roles of rows and columns
        swapped (BatchNorm's "row" is a channel across the whole batch),

        $$dx = \frac{\gamma}{\sigma}\Big(dy - \frac{1}{N}\sum dy
        - \hat{x}\,\frac{1}{N}\sum dy\,\hat{x}\Big)$$

        where the sums run over the *whole* batch. Each rank computes its local $\sum dy$ and
        $\sum dy\,\hat{x}$ per channel, one `all_reduce` adds them up, and each rank finishes its
        own $dx$. $d\gamma$ and $d\beta$ stay local: they are parameter gradients, and data-parallel
        training combines those across ranks anyway. PyTorch's `DistributedDataParallel` all-reduces
        them and divides by the number of ranks, i.e. *averages* them ([its note on summed
        losses](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L546-L555));
        PyTorch's SyncBatchNorm leaves them local for the same reason ([`_functions.py`
        L181-L182](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L181-L182)).
        `_test()` *sums* the ranks' $d\gamma, d\beta$ and compares them with one process whose loss
        is summed over the whole batch; under DDP's averaging the same equality needs each rank's
        loss multiplied by the number of ranks.
        """
        x_hat, rstd, weight, N = ctx.saved_tensors
        C = x_hat.shape[1]
        dims = [0] + list(range(2, x_hat.dim()))
        stat_shape = (1, C) + (1,) * (x_hat.dim() - 2)
        dy = dy.to(x_hat.dtype)
        # This shard's $\sum dy$ and $\sum dy\,\hat{x}$ per channel: also its $d\beta$, $d\gamma$
        sum_dy = dy.sum(dim=dims)  # (C,)
        sum_dy_xhat = (dy * x_hat).sum(dim=dims)  # (C,)
        # One all_reduce of both sums, packed as (2, C): the whole batch's sums on every rank
        total = _all_reduce(torch.stack([sum_dy, sum_dy_xhat]))
        #
        # $dx = \frac{\gamma}{\sigma}\big(dy - \overline{dy}
        # - \hat{x}\,\overline{dy\,\hat{x}}\big)$, means over the whole batch
        scale = rstd * (weight if weight is not None else 1.0)
        dx = scale.view(stat_shape) * (dy - (total[0] / N).view(stat_shape)
                                       - x_hat * (total[1] / N).view(stat_shape))
        dweight = sum_dy_xhat.to(weight.dtype) if weight is not None else None
        param_dtype = weight.dtype if weight is not None else dy.dtype
        dbias = sum_dy.to(param_dtype) if ctx.has_bias else None
        return dx, dweight, dbias, None, None, None, None, None


class SyncBatchNorm(BatchNorm):
    """
    ## The module

    Our [BatchNorm](../batch_norm/index.md) with the same arguments, parameters and buffers, so its
    `state_dict` loads into `torch.nn.SyncBatchNorm` and `torch.nn.BatchNorm2d` and back
    (`_test()` checks both ways). In training, with a process group of more than one rank, it
    synchronizes; otherwise it is plain BatchNorm. (PyTorch's falls back to `F.batch_norm` in
    `eval()` and, for GPU-like inputs, with one rank; with one rank and a CPU input it raises.)
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized()
                and dist.get_world_size() > 1):
            return super().forward(input)
        _validate_shards(input, self.num_features)
        track = self.track_running_stats
        return SyncBatchNormFunction.apply(input, self.weight, self.bias,
                                           self.running_mean if track else None,
                                           self.running_var if track else None,
                                           self.eps, self.momentum,
                                           self.num_batches_tracked if track else None)


# ### What PyTorch's `SyncBatchNorm` does (2.13.0)
#
# Read from the source of the installed wheel (links pinned to its commit), and from the CUDA
# kernel at the commit our code index holds:
#
# * **Only GPU-like inputs.** In training, with a process group initialized, an input whose device
#   is not `cuda`, `hpu`, `xpu` or the registered private-use backend raises `ValueError`
#   ([`batchnorm.py` L836-L854](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L836-L854));
#   `_test()` sees this on a gloo rank with a CPU tensor. In `eval()`, or with one rank, it falls
#   back to plain `F.batch_norm`
#   ([L856-L873](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L856-L873));
#   but the device check runs first, so
#   a one-rank group with a CPU tensor raises the same `ValueError` (`_test()` checks this too).
#   The statistics ops it calls, `torch.batch_norm_stats` and
#   `torch.batch_norm_gather_stats_with_counts`, have no CPU kernel in this build (`_test()`
#   asserts the `NotImplementedError`). DDP also refuses a CPU module that contains a SyncBatchNorm
#   ([`distributed.py` L2453-L2460](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L2453-L2460)),
#   and the class docstring says it currently supports DDP only with a single GPU per process
#   ([L690-L694](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L690-L694)).
# * **Forward: one `all_gather` of $2C + 1$ numbers per rank.** Each rank computes per-channel
#   `mean` and `invstd` $= 1/\sqrt{\sigma_r^2 + \epsilon}$ (`torch.batch_norm_stats`), appends its
#   count as *one* number, and concatenates them, $C + C + 1$
#   ([`_functions.py` L36-L49](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L36-L49)).
#   With gloo it uses the list form of `all_gather`; with other backends (NCCL) one flat
#   `all_gather_single`, since gloo lacks `all_gather_into_tensor`
#   ([L59-L86](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L59-L86)).
# * **The merge.** `torch.batch_norm_gather_stats_with_counts`
#   ([L102-L115](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L102-L115))
#   runs a CUDA kernel that, per channel, walks the ranks in order, recovers each rank's variance
#   as $1/\text{invstd}^2 - \epsilon$, and folds it in with the same pairwise (Chan) update as ours;
#   the same kernel updates the running mean and the *unbiased* running variance
#   ([`Normalization.cuh` L426-L470](https://github.com/pytorch/pytorch/blob/3f55db3aea697a6d862197cf18f4a9a8fb3a6001/aten/src/ATen/native/cuda/Normalization.cuh#L426-L470)).
# * **Backward: one `all_reduce` of $2C$ numbers.** `torch.batch_norm_backward_reduce` gives the
#   local $\sum dy$ and $\sum dy\,(x - \mu)$ (`sum_dy`, `sum_dy_xmu`), and also $d\beta = \sum dy$,
#   $d\gamma = \text{invstd} \cdot \sum dy\,(x - \mu)$ ([`_functions.py`
#   L138-L154](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L138-L154),
#   [`Normalization.cuh`
#   L472-L505](https://github.com/pytorch/pytorch/blob/3f55db3aea697a6d862197cf18f4a9a8fb3a6001/aten/src/ATen/native/cuda/Normalization.cuh#L472-L505));
#   the two sums are concatenated and all-reduced, *only if the input needs a gradient*
#   ([L156-L166](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L156-L166)),
#   and $dx$ is the formula above with $\hat{x} = (x - \mu)\,\text{invstd}$ ([`Normalization.cuh`
#   L507-L542](https://github.com/pytorch/pytorch/blob/3f55db3aea697a6d862197cf18f4a9a8fb3a6001/aten/src/ATen/native/cuda/Normalization.cuh#L507-L542)).
# * **Empty shards are allowed.** A rank with no samples sends zeros with count 0, which the others
#   mask out ([L50-L57](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L50-L57),
#   [L96-L100](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L96-L100);
#   the masking is skipped while a CUDA graph is being captured, L88), and in the backward it
#   still joins the `all_reduce` with zeros
#   ([L188-L205](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L188-L205)).
#   The "more than 1 value per channel" error is raised only with a single rank
#   ([L30-L34](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L30-L34)).
# * **Memory layout.** Inputs and output gradients in `channels_last` or `channels_last_3d` layout
#   are kept as they are; any other layout is made contiguous
#   ([L22-L26](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L22-L26),
#   [L129-L133](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L129-L133)).
# * **Conversion.** `SyncBatchNorm.convert_sync_batchnorm(model)` replaces every `_BatchNorm`
#   submodule by a `SyncBatchNorm` with the same settings that takes over its `weight`, `bias` and
#   running buffers
#   ([`batchnorm.py` L889-L951](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L889-L951)).
#
# ### Where ours differs
#
# * We gather $(\bar{x}_r, M_{2,r}, n_r)$, PyTorch gathers $(\bar{x}_r, \text{invstd}_r, n_r)$:
#   the same $2C + 1$ numbers per rank, but our variance never goes through
#   $1/\sqrt{\sigma^2 + \epsilon}$ and back. We merge all ranks at once (sums over the rank axis)
#   instead of PyTorch's rank-by-rank loop; the two are equal in exact arithmetic.
# * We reduce $\sum dy\,\hat{x}$ where PyTorch reduces $\sum dy\,(x - \mu)$; they differ by the
#   factor invstd, which every rank knows. We always run the backward `all_reduce`.
# * We reject an empty shard, on every rank at once (PyTorch accepts it), and for that we spend one
#   more tiny `all_gather` (2 integers per rank) to check the shapes before the real one.
# * Ours runs on CPU with gloo, since it uses only ordinary tensor ops; PyTorch's does not (above).
# * With a one-rank group, ours is plain BatchNorm whatever the device (`_test()` checks it against
#   our BatchNorm on a CPU tensor); PyTorch's raises `ValueError` for that CPU tensor, since its
#   device check comes before its world-size check, and falls back to `F.batch_norm` only for a
#   GPU-like one.
# * Per training step ours makes three blocking collectives per layer (the shape check, the
#   statistics, the gradient sums), PyTorch's two.


def _free_port() -> int:
    # Ask the OS for a free port on the loopback address
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, phases, queue):
    """
    ### One process

    For each phase `(world, port, task, args)` that includes this rank, joins a process group over
    the loopback address only, runs the task, and leaves the group. Its results (or its errors)
    go back to the parent, which makes all the assertions. One process serves several phases,
    because starting a process (and importing torch in it) is most of the cost.
    """
    os.environ['GLOO_SOCKET_IFNAME'] = 'lo'
    torch.set_num_threads(1)
    results = []
    for world, port, task, args in phases:
        if rank >= world:
            results.append(None)
            continue
        try:
            dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                                    rank=rank, world_size=world)
            result = globals()[task](rank, world, *args)
        except Exception as e:  # reported to the parent, which decides
            result = {'error': f'{type(e).__name__}: {e}'}
        finally:
            if dist.is_initialized():
                dist.destroy_process_group()
        results.append(result)
    # As bytes: a tensor put on a torch.multiprocessing queue travels as a shared-memory handle,
    # which breaks if this process exits before the parent has opened it
    buffer = io.BytesIO()
    torch.save(results, buffer)
    queue.put((rank, buffer.getvalue()))


def _single_threaded() -> bool:
    # One Python thread, and (where Linux tells) one OS thread: no lock another thread could hold
    # at the fork
    if __import__('threading').active_count() != 1:
        return False
    try:
        return len(os.listdir('/proc/self/task')) == 1
    except OSError:
        return False


def run_phases(phases: list, timeout: float = 60.0) -> list:
    """
    ### Spawning processes

    `phases` is a list of `(world, task, args)`; as many processes as the largest `world` are
    started once, and each phase runs on ranks `0 .. world - 1` with a fresh port. Returns, per
    phase, the list of its ranks' results. The processes are always joined, and killed if they
    hang, even when something fails.
    """
    import torch.multiprocessing as mp
    # The ranks are forked from this process, which has imported torch, this page and DDP's
    # import of `torch._dynamo` (as slow as torch's own) once for all of them: safe while it runs
    # a single thread, which we check. Otherwise a fork server imports them once and forks the
    # ranks from itself ('spawn' is the fallback where there is neither)
    methods = mp.get_all_start_methods()
    if 'fork' in methods and _single_threaded():
        # (`import torch._dynamo` would make `torch` a local name of this function)
        import torch._dynamo as _dynamo  # noqa: F401  (DDP's constructor imports it)

        from labml_nn_norm import layer_norm  # noqa: F401  (the tasks import it)
        ctx = mp.get_context('fork')
    elif 'forkserver' in methods:
        ctx = mp.get_context('forkserver')
        ctx.set_forkserver_preload(['torch', 'torch._dynamo', __name__])
    else:
        ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    n = max(world for world, _, _ in phases)
    spec = [(world, _free_port(), task, args) for world, task, args in phases]
    procs = [ctx.Process(target=_worker, args=(r, spec, queue), daemon=True) for r in range(n)]
    try:
        for p in procs:
            p.start()
        raw = dict(queue.get(timeout=timeout) for _ in range(n))
        per_rank = [torch.load(io.BytesIO(raw[r]), weights_only=False) for r in range(n)]
        return [[per_rank[r][i] for r in range(world)] for i, (world, _, _) in enumerate(phases)]
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()


def run_ranks(world: int, task: str, *args, timeout: float = 60.0) -> list:
    """`world` processes running one task; the list of their results."""
    return run_phases([(world, task, args)], timeout=timeout)[0]


_COLLECTIVES = ('all_reduce', 'all_gather', 'all_gather_into_tensor', 'all_gather_object',
                'broadcast', 'reduce', 'reduce_scatter', 'reduce_scatter_tensor', 'all_to_all',
                'all_to_all_single', 'gather', 'scatter', 'barrier', 'send', 'recv')


def _collective_calls(fn) -> List[str]:
    """Run `fn()` with every `torch.distributed` collective wrapped; the names of those called."""
    calls, saved = [], {}

    def wrap(name, original):
        def counting(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)
        return counting

    for name in _COLLECTIVES:
        if hasattr(dist, name):
            saved[name] = getattr(dist, name)
            setattr(dist, name, wrap(name, saved[name]))
    try:
        fn()
    finally:
        for name, original in saved.items():
            setattr(dist, name, original)
    return calls


def _task_compare(rank: int, world: int, shards, dy_shards, state):
    """On each rank: synchronized BN, plain BN and LayerNorm on this rank's shard."""
    from labml_nn_norm.layer_norm import LayerNorm
    x = shards[rank].clone().requires_grad_()
    sync, sync_out = SyncBatchNorm(x.shape[1]), []
    sync.load_state_dict(state)

    def run_sync():
        sync_out.append(sync(x))
        sync_out[0].backward(dy_shards[rank])

    # The same watch on SyncBatchNorm, to show that it sees collectives
    sync_calls = _collective_calls(run_sync)
    y = sync_out[0]
    plain = BatchNorm(x.shape[1])
    plain.load_state_dict(state)
    y_plain = plain(shards[rank])
    # LayerNorm forward and backward, watching for any collective
    ln, ln_x, ln_out = LayerNorm(shards[rank].shape[1:]), shards[rank].clone().requires_grad_(), []

    def run_ln():
        ln_out.append(ln(ln_x))
        ln_out[0].backward(dy_shards[rank])

    ln_calls = _collective_calls(run_ln)
    return {'y': y.detach(), 'dx': x.grad, 'dweight': sync.weight.grad, 'dbias': sync.bias.grad,
            'running_mean': sync.running_mean, 'running_var': sync.running_var,
            'plain_y': y_plain.detach(), 'plain_running_var': plain.running_var,
            'ln_y': ln_out[0].detach(), 'ln_comm': ln_calls, 'sync_comm': sync_calls}


def _broadcast_bytes(module: torch.nn.Module, x: torch.Tensor, steps: int = 1) -> List[int]:
    """
    Wrap `module` in DDP (CPU, gloo) and run `steps` training steps on `x`; the bytes of each
    buffer broadcast DDP makes during them, read by wrapping `dist._broadcast_coalesced`, the
    function DDP's `_sync_buffers` calls. The broadcast at construction is not counted.
    """
    from torch.nn.parallel import DistributedDataParallel
    ddp = DistributedDataParallel(module)
    sent, original = [], dist._broadcast_coalesced

    def counting(group, tensors, *args):
        sent.append(sum(t.numel() * t.element_size() for t in tensors))
        return original(group, tensors, *args)

    dist._broadcast_coalesced = counting
    try:
        for _ in range(steps):
            ddp(x).square().sum().backward()
    finally:
        dist._broadcast_coalesced = original
    return sent


def _task_bytes(rank: int, world: int, channels):
    """
    Bytes through our collectives for one forward + backward step of SyncBatchNorm, the bytes of
    DDP's buffer broadcast for one step of a BatchNorm and of a LayerNorm, and the number of
    `torch.distributed` collectives LayerNorm calls, for each channel count.
    """
    from labml_nn_norm.layer_norm import LayerNorm
    out = {}
    for C in channels:
        x = torch.randn(4, C, 8, requires_grad=True)
        COMM_LOG.clear()
        SyncBatchNorm(C)(x).sum().backward()
        sync_bytes = sum(b for _, b in COMM_LOG)
        ln_calls = _collective_calls(lambda: LayerNorm([C, 8])(x).sum().backward())
        out[C] = {'sync': sync_bytes, 'ln_calls': len(ln_calls),
                  'ddp_bn': _broadcast_bytes(BatchNorm(C), x.detach()),
                  'ddp_ln': _broadcast_bytes(LayerNorm([C, 8]), x.detach())}
    COMM_LOG.clear()
    return out


def _task_ddp(rank: int, world: int, steps):
    """
    Plain BatchNorm inside DDP: `steps` training steps (one list of shards per step), then one
    forward in `eval()`. The running variance after each training forward, the final buffers,
    and the bytes of every buffer broadcast.
    """
    from torch.nn.parallel import DistributedDataParallel
    model = BatchNorm(steps[0][rank].shape[1])
    ddp = DistributedDataParallel(model)
    sent, original = [], dist._broadcast_coalesced

    def counting(group, tensors, *args):
        sent.append(sum(t.numel() * t.element_size() for t in tensors))
        return original(group, tensors, *args)

    after_forward = []
    dist._broadcast_coalesced = counting
    try:
        for shards in steps:
            y = ddp(shards[rank])
            after_forward.append(model.running_var.clone())
            y.square().sum().backward()
        ddp.eval()
        with torch.no_grad():
            ddp(steps[-1][rank])
    finally:
        dist._broadcast_coalesced = original
    return {'after_forward': after_forward, 'running_mean': model.running_mean.clone(),
            'running_var': model.running_var.clone(), 'broadcasts': sent}


def _task_sharded_ln(rank: int, world: int, x, weight, bias, eps: float = 1e-5):
    """
    LayerNorm with the hidden dimension split across ranks: this rank holds columns
    `rank * H / world ...` of every row, and one `all_gather` of each row's (mean, M2) over its
    slice gives the whole row's statistics.
    """
    H = x.shape[-1]
    cols = slice(rank * H // world, (rank + 1) * H // world)
    xs = x[:, cols]
    n = xs.shape[-1]

    def run():
        # This slice's mean and $M_2$ per row, then every rank's, merged (Chan)
        mean_r = xs.mean(-1)  # (rows,)
        m2_r = (xs - mean_r[:, None]).square().sum(-1)
        parts = torch.stack(_all_gather(torch.stack([mean_r, m2_r])))  # (world, 2, rows)
        _, mean, var = chan_merge(torch.full((world,), float(n)), parts[:, 0], parts[:, 1])
        y = (xs - mean[:, None]) * torch.rsqrt(var + eps)[:, None]
        out.append(y * weight[cols] + bias[cols])

    out = []
    COMM_LOG.clear()
    calls = _collective_calls(run)
    sent = sum(b for _, b in COMM_LOG)
    COMM_LOG.clear()
    return {'y': out[0], 'calls': calls, 'bytes': sent}


def _task_latency(rank: int, world: int, channels, rounds: int):
    """
    Seconds per collective of one SyncBatchNorm layer, and per forward + backward step of the
    layer (ours synchronized, and plain BatchNorm), on a `(4, C, 8)` shard. Each round starts
    after a barrier; the first 2 rounds of each are warm-up and dropped.
    """
    out = {}
    for C in channels:
        x = torch.randn(4, C, 8)
        sync, plain = SyncBatchNorm(C), BatchNorm(C)

        def step(layer):
            xg = x.clone().requires_grad_()
            layer(xg).sum().backward()

        def gather(t):
            dist.all_gather([torch.empty_like(t) for _ in range(world)], t)

        ops = {'all_gather: shape check (2 int64)':
               lambda: gather(torch.zeros(2, dtype=torch.long)),
               'all_gather: statistics (2C + 1 float32)': lambda: gather(torch.zeros(2 * C + 1)),
               'all_reduce: gradient sums (2C float32)':
               lambda: dist.all_reduce(torch.zeros(2 * C)),
               'step: SyncBatchNorm forward + backward': lambda: step(sync),
               'step: plain BatchNorm forward + backward (no collective)': lambda: step(plain)}
        times = {}
        for name, op in ops.items():
            ts = []
            for _ in range(rounds + 2):
                dist.barrier()
                start = time.perf_counter()
                op()
                ts.append(time.perf_counter() - start)
            times[name] = ts[2:]
        out[C] = times
    COMM_LOG.clear()
    return out


def _task_one_rank(rank: int, world: int, x):
    """A group of one rank: ours against plain BatchNorm, and PyTorch's on a CPU tensor."""
    ours, plain = SyncBatchNorm(x.shape[1]), BatchNorm(x.shape[1])
    out = {'y': ours(x).detach(), 'plain_y': plain(x).detach(), 'world': dist.get_world_size()}
    try:
        torch.nn.SyncBatchNorm(x.shape[1])(x)
        out['torch'] = None
    except ValueError as e:
        out['torch'] = f'ValueError: {e}'
    return out


def _task_bad(rank: int, world: int):
    """Bad set-ups: every rank must raise the same error, and none may hang."""
    errors = {}
    for case in ('empty', 'channels', 'torch_cpu'):
        try:
            if case == 'empty':
                SyncBatchNorm(4)(torch.randn(0 if rank == 1 else 3, 4, 5))
            elif case == 'channels':
                SyncBatchNorm(4 + rank)(torch.randn(3, 4 + rank, 5))
            else:
                # PyTorch's own module, in training, process group up, CPU tensor
                torch.nn.SyncBatchNorm(4)(torch.randn(3, 4, 5))
            errors[case] = None
        except (ValueError, RuntimeError) as e:
            errors[case] = f'{type(e).__name__}: {e}'
    return errors


def _task_all(rank: int, world: int, shards, dy_shards, state, steps, extras):
    """Everything one phase checks; `extras` (2-rank phase only) adds the rest."""
    out = _task_compare(rank, world, shards, dy_shards, state)
    out['ddp'] = _task_ddp(rank, world, steps)
    if extras:
        out['bad'] = _task_bad(rank, world)
        out['bytes'] = _task_bytes(rank, world, CHANNELS)
        out['sharded_ln'] = _task_sharded_ln(rank, world, *extras['sharded_ln'])
    return out


def _shards(x: torch.Tensor, sizes: List[int]) -> List[torch.Tensor]:
    return list(torch.split(x, sizes))


CHANNELS = (64, 256, 1024)
# Timed rounds per collective (after 2 warm-up rounds)
ROUNDS = 30
# The saved timings: `python -m labml_nn_norm.distributed --measure` writes them
RESULTS = Path(__file__).parent / 'results' / 'latency.json'
# What the last `_test()` in this process counted on 2 ranks, reused for the page's tables
_measured = {}


def sync_collectives(C: int, world: int = 2) -> List[tuple]:
    """
    ## The collectives of one SyncBatchNorm layer per training step

    `(pass, collective, what, bytes per rank)` in the order ours calls them, the bytes counted
    as `COMM_LOG` counts them (an `all_gather`'s whole output): the shape check and the
    statistics in the forward, the gradient sums in the backward. `_test()` checks the names
    against the watched calls and the bytes against the counted ones.
    """
    return [('forward', 'all_gather', 'shape check', world * 2 * 8),
            ('forward', 'all_gather', 'statistics', world * (2 * C + 1) * 4),
            ('backward', 'all_reduce', 'gradient sums', 2 * C * 4)]


def ddp_buffer_bytes(C: int) -> int:
    # DDP's broadcast of one BatchNorm's buffers before each forward: two float32 vectors of C and
    # the int64 step count (a LayerNorm has no buffers: 0)
    return 8 * C + 8


def _pytorch_bytes(C: int, world: int = 2) -> int:
    # PyTorch's layout, from its source: gather (2C + 1) float32 from each rank, reduce 2C
    return world * (2 * C + 1) * 4 + 2 * C * 4


def measure(rounds: int = ROUNDS) -> dict:
    """
    ## The timings, measured once and saved

    `python -m labml_nn_norm.distributed --measure` runs `_task_latency` on 2 ranks and writes
    its rounds (seconds, rank 0), with the verdict, to `results/latency.json`; the page draws its
    table and verdict from that file, and `_test()` recomputes the verdict from the saved rounds.
    """
    start = time.time()
    latency = run_ranks(2, '_task_latency', CHANNELS, rounds, timeout=600.0)[0]
    if 'error' in latency:
        raise RuntimeError(latency['error'])
    return {'command': 'python -m labml_nn_norm.distributed --measure',
            'date': datetime.now(timezone.utc).isoformat(timespec='seconds'),
            'torch': torch.__version__, 'python': platform.python_version(),
            'world': 2, 'shard': [4, 'C', 8], 'warmup': 2, 'rounds': rounds,
            'channels': list(CHANNELS), 'wall_time_s': round(time.time() - start, 1),
            'verdict': latency_verdict(latency, rounds),
            'latency': {str(C): times for C, times in latency.items()}}


def load_latency(path: Path = RESULTS) -> dict:
    """The saved record, its `latency` keyed by channel count again (JSON keys are strings)."""
    record = json.loads(path.read_text(encoding='utf-8'))
    for key in ('command', 'date', 'torch', 'rounds', 'channels', 'verdict', 'latency'):
        if key not in record:
            raise KeyError(f'{path.name} has no {key!r}')
    record['latency'] = {int(C): times for C, times in record['latency'].items()}
    return record


def _stats_us(times: List[float]):
    """Median, min and max of a list of seconds, in microseconds."""
    t = torch.tensor(times, dtype=torch.float64) * 1e6
    return t.median().item(), t.min().item(), t.max().item()


def _ratio(hi: List[float], lo: List[float], resamples: int = 2000):
    """
    The ratio of two medians, with a 95% bootstrap interval: both lists of rounds resampled with
    replacement `resamples` times (fixed seed), the 2.5th and 97.5th percentiles of the ratios.
    """
    g = torch.Generator().manual_seed(0)
    a, b = torch.tensor(hi, dtype=torch.float64), torch.tensor(lo, dtype=torch.float64)
    ia = torch.randint(len(a), (resamples, len(a)), generator=g)
    ib = torch.randint(len(b), (resamples, len(b)), generator=g)
    ratios = a[ia].median(1).values / b[ib].median(1).values
    low, high = torch.quantile(ratios, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return (a.median() / b.median()).item(), low, high


# ### The cost, measured
#
# **Bytes.** Payload bytes per rank for one training step (forward and backward) of a `(4, C, 8)`
# `float32` shard on 2 ranks, counted by wrapping the collectives: for `all_gather`, the gathered
# output (every rank's tensor, own included); for `all_reduce`, the tensor reduced; for DDP's
# buffer broadcast, the buffers sent. What the backend puts on the wire depends on its algorithm,
# which we did not measure. PyTorch's column is *computed* from the layout above
# ($2 \times (2C+1)$ gathered plus $2C$ reduced, 4 bytes each), not measured:
#
# {{ comm_table }}
#
# **Time.** The bytes are small; the cost is that every collective is a blocking round trip on the
# critical path. The forward cannot normalize before the statistics arrive, and the layer below
# cannot start its backward before this layer's $dx$, which needs the reduced sums. DDP's gradient
# all-reduce instead runs per bucket while the backward goes on, "so that gradient reduction of
# each bucket can potentially overlap with backward computation"
# ([`distributed.py` L713-L718](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L713-L718)).
# A network with $L$
# BatchNorm layers makes $2L$ such round trips per step with PyTorch's SyncBatchNorm, $3L$ with
# ours. `figure_timeline()` draws one training step of two such networks, one with our
# SyncBatchNorm and one with LayerNorm, from the page's own list of collectives and their sizes
# (`sync_collectives()`, whose bytes `_test()` checks against the counted ones):
#
# {{ step_timeline }}
#
# Below, the time of each collective of one layer and of a whole forward + backward step of
# the layer, ours synchronized and plain, on the same `(4, C, 8)` shard: 2 gloo ranks over the
# loopback interface of one CPU machine (processes, one thread each), each call timed on rank 0
# after a barrier, 30 rounds after 2 warm-up rounds, measured once by
# `python -m labml_nn_norm.distributed --measure` and saved in `results/latency.json` (timing is
# not a check, so the build does not repeat it; `_test()` recomputes the verdict from the saved
# rounds); median and range per row, and for the verdict a 95% bootstrap interval of a ratio of
# medians:
#
# {{ latency_table }}
#
# {{ latency_meta }}
#
# {{ latency_verdict }}
#
# This is loopback on one machine: between machines each round trip adds the network's latency, and
# NCCL on GPUs has other constants. What carries over is the structure of the cost: a round trip
# per collective, per layer, per step, that the forward or backward waits for.


def latency_verdict(latency: dict, rounds: int = ROUNDS) -> str:
    """
    ## The verdict on the timings

    The gradient `all_reduce` carries 16 times the bytes at $C = 1024$ as at $C = 64$. If the
    95% bootstrap interval of the ratio of their median times lies below 16, the time grows less
    than the payload: at these sizes the collective costs its round trip, not its bytes. If the
    interval reaches 16, the rounds cannot tell, and the verdict says so.
    """
    name = 'all_reduce: gradient sums (2C float32)'
    r, lo, hi = _ratio(latency[1024][name], latency[64][name])
    verdict = ('latency-bound at these sizes: the time grows less than the bytes'
               if hi < 16 else 'inconclusive: the interval reaches the growth of the bytes')
    step = 'step: SyncBatchNorm forward + backward'
    plain = 'step: plain BatchNorm forward + backward (no collective)'
    s, s_lo, s_hi = _ratio(latency[1024][step], latency[1024][plain])
    return (f'The gradient all_reduce: 16× the bytes from C = 64 to C = 1024, {r:.2f}× the '
            f'median time (95% bootstrap interval {lo:.2f}× to {hi:.2f}×, {rounds} rounds '
            f'each): {verdict}. At C = 1024 the synchronized step takes {s:.1f}× the plain '
            f'step\'s median time (95% bootstrap interval {s_lo:.1f}× to {s_hi:.1f}×).')


# Schematic durations of the timeline, in units of time: not measured (the table above is)
_SPAN = {'compute': 4, 'shape check': 2, 'statistics': 3, 'gradient sums': 3, 'broadcast': 3,
         'bucket': 5}


def step_schedule(layers: int, C: int, world: int = 2, sync: bool = True) -> List[dict]:
    r"""
    ## One training step as a schedule

    Events `(lane, start, span, text)` of one step of a network of `layers` normalization layers
    under DDP: SyncBatchNorm (`sync`), whose collectives from `sync_collectives()` block the
    compute, or LayerNorm, which has none. DDP broadcasts the BatchNorm buffers before the
    forward (blocking too) and all-reduces a bucket of gradients as soon as the backward has
    produced them, while the backward goes on. Here a bucket is one layer's $\gamma$ and
    $\beta$, to keep the drawing small; DDP's default bucket (`bucket_cap_mb`) holds up to
    25 MiB, many layers of a real network.
    """
    events, t = [], 0.0

    def add(lane, span, text, wait=True):
        nonlocal t
        events.append({'lane': lane, 'start': t, 'span': span, 'text': text})
        if wait:
            t += span
    if sync:
        add('ddp', _SPAN['broadcast'], f'{layers * ddp_buffer_bytes(C):,} B')
    ours = sync_collectives(C, world)
    for layer in range(1, layers + 1):
        if sync:
            add('sync', _SPAN['shape check'], f'{ours[0][3]:,} B')
        add('compute', _SPAN['compute'], f'F{layer}')
        if sync:
            add('sync', _SPAN['statistics'], f'{ours[1][3]:,} B')
    for layer in range(layers, 0, -1):
        add('compute', _SPAN['compute'], f'B{layer}')
        if sync:
            add('sync', _SPAN['gradient sums'], f'{ours[2][3]:,} B')
        # This layer's dγ, dβ are ready: DDP starts their bucket's all-reduce and goes on
        add('ddp', _SPAN['bucket'], f'{2 * C * 4:,} B', wait=False)
    return events


def figure_timeline(layers: int = 2, channels: int = 256, world: int = 2) -> str:
    """
    ## The timeline, drawn

    One lane per kind of work, time to the right, for a step of each network: the compute
    (F: a layer's forward, B: its backward), the collectives that block it, and DDP's.
    """
    from labml_nn_norm.layer_norm import FIGURE_COLOURS, svg_figure
    c = FIGURE_COLOURS
    runs = {'sync': step_schedule(layers, channels, world, True),
            'ln': step_schedule(layers, channels, world, False)}
    end = max(e['start'] + e['span'] for es in runs.values() for e in es)
    left, width, lane = 200, 470, 24
    scale = width / end
    lanes = [('sync', 'compute', 'SyncBatchNorm net: compute', c['grey']),
             ('sync', 'sync', 'its blocking collectives', c['orange']),
             ('sync', 'ddp', 'DDP: buffers, gradient buckets', c['blue']),
             ('ln', 'compute', 'LayerNorm net: compute', c['grey']),
             ('ln', 'ddp', 'DDP: gradient buckets', c['blue'])]
    parts, y = [], 30
    for k, (net, kind, name, colour) in enumerate(lanes):
        if k == 3:
            y += 10
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" font-size="11">'
                     f'{name}</text>')
        boxes, texts = [], []
        # DDP's bucket all-reduces may overlap each other: alternate their height
        for i, e in enumerate(e for e in runs[net] if e['lane'] == kind):
            x0, w = left + e['start'] * scale, e['span'] * scale - 1
            dy = 2 + 4 * (i % 2) * (e['span'] == _SPAN['bucket'])
            boxes.append(f'<rect x="{x0:.1f}" y="{y + dy}" width="{w:.1f}" height="{lane - 8}" '
                         'rx="2"/>')
            texts.append(f'<text x="{x0 + w / 2:.1f}" y="{y + dy + 11}">{e["text"]}</text>')
        parts.append(f'<g fill="{colour}" fill-opacity="0.35" stroke="{colour}">'
                     f'{"".join(boxes)}</g><g font-size="8" text-anchor="middle">'
                     f'{"".join(texts)}</g>')
        if net == 'ln' and kind == 'compute':
            parts.append(f'<text x="{left + 4}" y="{y + lane + 4}" font-size="9">'
                         'no collective of its own; no buffers to broadcast</text>')
            y += 8
        y += lane + 4
    parts.append(f'<path d="M{left},{y + 4}H{left + width}M{left + width - 6},{y}L{left + width},'
                 f'{y + 4}L{left + width - 6},{y + 8}" stroke="currentColor" fill="none"/>'
                 f'<text x="{left + width}" y="{y + 20}" text-anchor="end" font-size="10">'
                 'time (schematic); B: bytes per rank</text>'
                 f'<text x="{left}" y="16" font-size="11" font-weight="bold">one training step, '
                 f'{layers} layers, C = {channels}, {world} ranks</text>')
    ours = sync_collectives(channels, world)
    parts.append(f'<text x="0" y="{y + 36}" font-size="10">per layer: '
                 + '; '.join(f'{name} {what}, {b:,} B' for _, name, what, b in ours)
                 + f'; DDP: γ, β {2 * channels * 4:,} B, buffers {ddp_buffer_bytes(channels):,} B'
                 '</text>')
    blocking = layers * len(ours)
    label = (f'Timeline of one DDP training step with {layers} SyncBatchNorm layers and with '
             f'{layers} LayerNorm layers of {channels} channels on {world} ranks: compute, '
             'blocking collectives and the collectives of DDP, one lane each')
    caption = (f'With {layers} layers of {channels} channels on {world} ranks, our SyncBatchNorm '
               f'makes the compute wait on {blocking} collectives per step '
               f'({layers * sum(b for *_, b in ours):,} bytes per rank; PyTorch\'s on '
               f'{2 * layers}) and DDP on a {layers * ddp_buffer_bytes(channels):,}-byte buffer '
               'broadcast, while LayerNorm makes none, so only the gradient all-reduces remain, '
               'and those overlap the backward.')
    return svg_figure(''.join(parts), left + width + 20, y + 44, label, caption)


def _artifacts():
    """
    ## The tables: bytes counted when the site is built, times read from the saved record

    The byte counts come from the 2-rank run of `_test()` (or one run here); the timings, the
    verdict and how they were measured, from `results/latency.json`.
    """
    result = {'bytes': _measured.get('bytes') or run_ranks(2, '_task_bytes', CHANNELS)[0]}
    record = load_latency()
    result['latency'] = record['latency']
    lines = ['| channels C | ours: bytes per rank per step (measured) '
             '| PyTorch\'s layout: bytes (computed) '
             '| DDP buffer broadcast, BatchNorm: bytes per step (measured) '
             '| LayerNorm: collective calls (measured) '
             '| DDP buffer broadcast, LayerNorm: bytes per step (measured) |',
             '| --- | --- | --- | --- | --- | --- |']
    for C in CHANNELS:
        r = result['bytes'][C]
        lines.append(f'| {C} | {r["sync"]:,} | {_pytorch_bytes(C):,} | {sum(r["ddp_bn"]):,} '
                     f'| {r["ln_calls"]} | {sum(r["ddp_ln"]):,} |')
    out = {'comm_table': '\n'.join(lines)}
    lines = ['| channels C | what is timed (rank 0) | median µs | min – max µs |',
             '| --- | --- | --- | --- |']
    for C in CHANNELS:
        for name, times in result['latency'][C].items():
            med, lo, hi = _stats_us(times)
            lines.append(f'| {C} | {name} | {med:,.0f} | {lo:,.0f} – {hi:,.0f} |')
    out['latency_table'] = '\n'.join(lines)
    out['latency_verdict'] = record['verdict']
    out['latency_meta'] = (f'Measured by `{record["command"]}` on {record["date"][:10]}, '
                           f'torch {record["torch"]}, {record["rounds"]} rounds per row after '
                           f'{record["warmup"]} warm-up rounds; saved in `results/latency.json`.')
    out['step_timeline'] = figure_timeline()
    return out


def _one_process() -> dict:
    """
    ## The reference: one process, the whole batch

    8 samples of 4 channels with very different means (one of them 100), and an output gradient.
    BatchNorm and LayerNorm run forward and backward on all of it in one process; the ranks below
    must reproduce BatchNorm's numbers, and LayerNorm's without any communication.
    """
    from labml_nn_norm.layer_norm import LayerNorm

    x = torch.randn(8, 4, 5) * 2 + torch.tensor([0.0, 5.0, -3.0, 100.0]).view(1, 4, 1)
    dy = torch.randn(8, 4, 5)
    reference = BatchNorm(4)
    with torch.no_grad():
        reference.weight.normal_()
        reference.bias.normal_()
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    xr = x.clone().requires_grad_()
    y_ref = reference(xr)
    y_ref.backward(dy)
    xl = x.clone().requires_grad_()
    y_ln = LayerNorm([4, 5])(xl)
    y_ln.backward(dy)
    return {'x': x, 'dy': dy, 'state': state, 'y': y_ref.detach(), 'dx': xr.grad,
            'dweight': reference.weight.grad, 'dbias': reference.bias.grad,
            'running_mean': reference.running_mean, 'running_var': reference.running_var,
            'ln_y': y_ln.detach()}


def _grad_sum_error(dgamma: torch.Tensor, dbeta: torch.Tensor, one: dict) -> float:
    r"""
    The ranks' summed $d\gamma, d\beta$ against one process's, as the largest fraction of a
    float32 rounding bound per channel. Both are float32 sums of $n = 40$ values per channel
    ($d\beta = \sum dy$, $d\gamma = \sum dy\,\hat{x}$), added in another order on the ranks
    (per shard, then over ranks) than in one process, so they agree only to rounding: with
    $u = 2^{-24}$, a reordered sum moves by a few $u \sum |\text{term}|$, and the ranks' $\hat{x}$
    also carries the rounding of the mean (merged from the shards, not taken in one pass), about
    $u\,|\mu| / \sigma$ per value. The bound is 4 times
    $u \sum |dy|\,(|\mu| / \sigma + \max |\hat{x}|)$ for $d\gamma$ and $u \sum |dy|$ for
    $d\beta$, plus $10^{-5}$ of the value; the channel of mean 100 and spread 2 gets about 50
    times the slack of the others. (The float32 default, relative $1.3 \times 10^{-6}$, fails
    there for some seeds.)
    """
    u = 2.0 ** -24
    x, dy = one['x'].double(), one['dy'].double()
    mean, std = x.mean((0, 2)), x.std((0, 2), unbiased=False)  # (C,)
    x_hat = (x - mean.view(1, -1, 1)) / std.view(1, -1, 1)
    abs_dy = dy.abs().sum((0, 2))  # (C,)
    bound_gamma = (1e-5 * one['dweight'].double().abs()
                   + 4 * u * abs_dy * (mean.abs() / std + x_hat.abs().amax((0, 2))))
    bound_beta = 1e-5 * one['dbias'].double().abs() + 4 * u * abs_dy
    return max(((dgamma.double() - one['dweight']).abs() / bound_gamma).max().item(),
               ((dbeta.double() - one['dbias']).abs() / bound_beta).max().item())


@check_group
def _check_ranks() -> list:
    """
    ## One batch, split across ranks, against one process on the whole batch

    One spawn of 4 processes serves three layouts: 4 ranks first, then ranks 0 and 1, then rank 0
    alone. The 2-rank phase also runs the bad set-ups, the byte counts and the hidden-dimension
    split; its results, and the 1-rank phase's, are returned for the groups below.
    """
    one = _one_process()
    layouts = ([1, 2, 2, 3], [3, 5])
    # Three training steps of fresh batches for plain BatchNorm inside DDP
    batches = [torch.randn(8, 4, 5) * 2 + torch.tensor([0.0, 5.0, -3.0, 1.0]).view(1, 4, 1)
               for _ in range(3)]
    ln_x, ln_w, ln_b = torch.randn(6, 16) * 2 + 3, torch.randn(16), torch.randn(16)
    extras = {'sharded_ln': (ln_x, ln_w, ln_b)}
    phases = [(len(sizes), '_task_all',
               (_shards(one['x'], sizes), _shards(one['dy'], sizes), one['state'],
                [_shards(b, sizes) for b in batches], extras if len(sizes) == 2 else None))
              for sizes in layouts]
    phases.append((1, '_task_one_rank', (one['x'],)))
    results = run_phases(phases)
    for sizes, out in zip(layouts, results):
        world = len(sizes)
        section(f'{world} gloo ranks on 127.0.0.1, shards of {sizes} samples')
        errors = [o['error'] for o in out if 'error' in o]
        check('every rank ran', not errors, '; '.join(errors))
        if world == 2:
            two = out
        check_close('SyncBatchNorm output == one process', torch.cat([o['y'] for o in out]),
                    one['y'])
        check_close('input gradients == one process', torch.cat([o['dx'] for o in out]),
                    one['dx'])
        # The sum over ranks (DDP would average: see the prose), within a float32 rounding
        # bound per channel
        dgamma, dbeta = sum(o['dweight'] for o in out), sum(o['dbias'] for o in out)
        worst = _grad_sum_error(dgamma, dbeta, one)
        err = max((dgamma - one['dweight']).abs().max().item(),
                  (dbeta - one['dbias']).abs().max().item())
        check('dγ, dβ summed over ranks == one process', worst <= 1,
              f'max |Δ| = {err:.1e}, {worst:.2f} of the rounding bound')
        check_close('running statistics on every rank == one process',
                    [torch.stack([o['running_mean'] for o in out]),
                     torch.stack([o['running_var'] for o in out])],
                    [one['running_mean'].expand(world, 4), one['running_var'].expand(world, 4)])
        plain_y = torch.cat([o['plain_y'] for o in out])
        plain_diff = (plain_y - one['y']).abs().max().item()
        check('plain (unsynchronized) BatchNorm differs from one process', plain_diff > 0.05,
              f'max |Δ| = {plain_diff:.2f}')
        check_close('LayerNorm on each shard == LayerNorm on the whole batch',
                    torch.cat([o['ln_y'] for o in out]), one['ln_y'])
        sync_calls = out[0]['sync_comm']
        check('SyncBatchNorm forward + backward: all_gather (shapes), all_gather, all_reduce',
              all(o['sync_comm'] == ['all_gather', 'all_gather', 'all_reduce'] for o in out),
              ', '.join(sync_calls))
        calls = [c for o in out for c in o['ln_comm']]
        check('LayerNorm forward + backward, same watch: no torch.distributed collective',
              not calls, f'{len(calls)} calls')
        _check_ddp(out, batches, sizes)
    return two, results[-1][0], (ln_x, ln_w, ln_b)


@check_group
def _check_ddp(out: list, batches: list, sizes: List[int]):
    """
    ### Plain BatchNorm under DDP: rank 0's running statistics

    `DistributedDataParallel` (2.13.0) synchronizes module buffers by default:
    `forward_sync_buffers`, which replaces the deprecated `broadcast_buffers`, is true unless set
    ([`distributed.py` L982-L990](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L982-L990));
    at the start of every forward, `_pre_forward` calls `_sync_buffers`
    ([L1781-L1782](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L1781-L1782)),
    which takes rank 0 as the authoritative copy and broadcasts all buffers from it in one
    `dist._broadcast_coalesced` call
    ([L2405-L2451](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L2405-L2451),
    [L2360-L2365](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L2360-L2365)).
    So each rank updates its running statistics from its own shard during a forward, and the next
    forward replaces them with rank 0's.
    What survives, and what rank 0 writes into a checkpoint, is the running average of rank 0's
    shard statistics alone. `_test()` runs our BatchNorm inside DDP on gloo ranks for 3 training
    steps and one `eval()` forward, and checks this: after the first step the ranks' running
    variances differ; at the end every rank holds exactly what one process running BatchNorm on rank
    0's shards alone holds, which is not what one process on the whole batch holds.

    The broadcast is communication [the bytes table](#the-cost-measured) counts too: $8C + 8$
    bytes per BatchNorm layer
    per forward (two `float32` vectors of $C$ and the `int64` step count), measured by wrapping
    `dist._broadcast_coalesced`. A LayerNorm has no buffers, so DDP broadcasts nothing for it; a
    SyncBatchNorm has BatchNorm's buffers and gets the same broadcast on top of its own collectives,
    though its buffers are already equal on every rank.

    Plain BatchNorm inside DDP, 3 training steps and one `eval()` forward: the buffers every rank
    ends with are rank 0's, i.e. those of one process that saw only rank 0's shards.
    """
    world = len(sizes)
    rank0_only, whole = BatchNorm(4), BatchNorm(4)
    for b in batches:
        rank0_only(_shards(b, sizes)[0])
        whole(b)
    first = torch.stack([o['ddp']['after_forward'][0] for o in out])
    spread = (first - first[0]).abs().max().item()
    check('DDP, plain BatchNorm, after step 1: the ranks\' running variances differ',
          spread > 1e-3, f'max |Δ| from rank 0 = {spread:.3f}')
    check_close('DDP, after 3 steps + an eval() forward: every rank holds the running statistics '
                'of one process that saw only rank 0\'s shards',
                [torch.stack([o['ddp']['running_mean'] for o in out]),
                 torch.stack([o['ddp']['running_var'] for o in out])],
                [rank0_only.running_mean.expand(world, 4),
                 rank0_only.running_var.expand(world, 4)])
    gap = (rank0_only.running_var - whole.running_var).abs().max().item()
    check('... not those of one process on the whole batch', gap > 1e-2,
          f'running variance max |Δ| = {gap:.2f}')
    sent = [o['ddp']['broadcasts'] for o in out]
    expected = [8 * 4 + 8] * (len(batches) + 1)
    check(f'DDP broadcast the buffers once per forward: {len(expected)} × (8C + 8) bytes, C = 4',
          all(s == expected for s in sent), f'{sent[0]}')


@check_group
def _check_per_device():
    """
    ## Without synchronization: 8 devices of 2 samples vs one batch of 16

    Plain BatchNorm on 8 "devices" with 2 samples each vs one batch of 16, in one process.
    """

    x16 = torch.randn(16, 4) * 3 + 1
    whole = BatchNorm(4)
    y_whole = whole(x16)
    per_device = [BatchNorm(4) for _ in range(8)]
    y_split = torch.cat([bn(chunk) for bn, chunk in zip(per_device, x16.split(2))])
    diff = (y_split - y_whole).abs().max().item()
    check('outputs differ: each pair is normalized to ±1', diff > 0.5, f'max |Δ| = {diff:.2f}')
    check_close('with 2 samples, BatchNorm outputs are exactly ±1 (up to eps)',
                y_split.detach().abs(), torch.ones(16, 4), atol=2e-2, rtol=0)


# ### Beyond data parallelism
#
# LayerNorm needs no collective of its own when the *batch* is split. Other ways of splitting a
# model make it communicate:
#
# * **Sequence parallelism** (Megatron-LM), an option that makes tensor parallelism use less memory
#   "by parallelizing layer norms and dropout sequentially", i.e. each tensor-parallel rank runs
#   them on its own part of the sequence
#   ([`model_parallel_config.py` L94-L98](https://github.com/NVIDIA/Megatron-LM/blob/d98e8a64ddf34856e74b24714e3bedb2f5a39553/megatron/core/model_parallel_config.py#L94-L98)):
#   each rank's $d\gamma$, $d\beta$ then sums over its own tokens only. Megatron marks LayerNorm's
#   weight and bias with a `sequence_parallel` attribute
#   ([`fused_layer_norm.py` L116-L120](https://github.com/NVIDIA/Megatron-LM/blob/d98e8a64ddf34856e74b24714e3bedb2f5a39553/megatron/core/fusions/fused_layer_norm.py#L116-L120))
#   and, after the backward pass, sums those gradients across the tensor-parallel group with one
#   `all_reduce` of them all, flattened
#   ([`finalize_model_grads.py` L416-L484](https://github.com/NVIDIA/Megatron-LM/blob/d98e8a64ddf34856e74b24714e3bedb2f5a39553/megatron/core/distributed/finalize_model_grads.py#L416-L484):
#   the selection at L451-L454, the collective at L466-L474, called at
#   [L661](https://github.com/NVIDIA/Megatron-LM/blob/d98e8a64ddf34856e74b24714e3bedb2f5a39553/megatron/core/distributed/finalize_model_grads.py#L661)),
#   on top of the data-parallel gradient reduction.
# * **Fully sharded data parallelism** (FSDP, ZeRO-3): every parameter, $\gamma$ and $\beta$
#   included, is stored as a shard; FSDP all-gathers a group's parameters before its forward (and
#   again in the backward when they were freed after the forward) and reduce-scatters the gradients
#   ([`_fully_shard.py` L114-L121](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/distributed/fsdp/_fully_shard/_fully_shard.py#L114-L121)).
#   LayerNorm's $2H$ numbers travel in the same collective as the rest of their `fully_shard` group
#   ([L134-L140](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/distributed/fsdp/_fully_shard/_fully_shard.py#L134-L140)).
# * **Splitting the hidden dimension** across ranks, as tensor parallelism splits a linear layer's
#   outputs: now a row's statistics span ranks. Each rank computes, per row, the mean and $M_2$ of
#   its slice of columns; one `all_gather` of these 2 numbers per row, merged with the same
#   `chan_merge` as BatchNorm's channels, gives every rank each row's $\mu$ and $\sigma^2$, and
#   each rank normalizes its own slice. `_test()` runs this on 2 gloo ranks and compares the
#   concatenated slices with `F.layer_norm` on the whole rows. Its backward would need the row
#   sums $\sum g$ and $\sum g\hat{x}$ of [the backward formula](../layer_norm/backward.md) added
#   across ranks, one more collective (derived, not run here).


@check_group
def _check_sharded_ln(two: list, inputs):
    """
    ## LayerNorm with the hidden dimension split over 2 gloo ranks

    6 rows of 16 columns, mean 3, on 2 ranks of 8 columns each: one `all_gather` of (mean, $M_2$)
    per row, then each rank normalizes its slice.
    """
    import torch.nn.functional as F

    x, w, b = inputs
    check_close('slices concatenated == F.layer_norm on the whole rows',
                torch.cat([o['sharded_ln']['y'] for o in two], dim=-1),
                F.layer_norm(x, (16,), w, b))
    calls = two[0]['sharded_ln']['calls']
    sent = two[0]['sharded_ln']['bytes']
    check('one all_gather of (mean, M2) per row: 2 ranks × 2 × 6 float32',
          calls == ['all_gather'] and sent == 2 * 2 * 6 * 4, f'{calls}, {sent} bytes')


@check_group
def _check_merge():
    r"""
    ## Why send the mean and M₂, not the sums

    We exchange $(n, \bar{x}, M_2)$ rather than $(n, \sum x, \sum x^2)$ because the latter, merged
    by one `all_reduce`, is the $\mathbb{E}[x^2] - \mathbb{E}[x]^2$ shortcut, which fails for
    channels whose mean is large compared with their spread (`_test()` measures it on a `float32`
    channel of mean $10^4$ and spread 1: the shortcut's variance is off by more than half, the
    merge's by less than $10^{-4}$, relative). PyTorch's stated reason for gathering instead of
    reducing is a different one: the counts may differ across ranks ([`_functions.py`
    L59-L60](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L59-L60)).

    Why each rank sends $(n, \bar{x}, M_2)$ and not $(n, \sum x, \sum x^2)$: one `float32`
    channel, mean $10^4$, spread 1, in two shards of 1000.
    """

    xs = torch.randn(2, 1000, dtype=torch.float64) + 1e4
    truth = xs.var(unbiased=False).item()
    x32 = xs.float()
    m_r = x32.mean(1, keepdim=True)
    _, _, var_chan = chan_merge(torch.full((2,), 1000.0), m_r,
                                (x32 - m_r).square().sum(1, True))
    s1, s2 = x32.sum(), x32.square().sum()
    var_sums = (s2 / 2000 - (s1 / 2000) ** 2).item()
    err_chan, err_sums = abs(var_chan.item() - truth) / truth, abs(var_sums - truth) / truth
    check('E[x²] - E[x]² from summed moments: relative error > 50%', err_sums > 0.5,
          f'{var_sums:.3g} vs {truth:.4f} (error {err_sums:.0%})')
    check('Chan merge of (n, mean, M2): relative error < 1e-4', err_chan < 1e-4,
          f'{var_chan.item():.6f} vs {truth:.6f} (error {err_chan:.1e})')


@check_group(fold=True)
def _check_pytorch(extras: list, one_rank: dict):
    """
    ## PyTorch's `SyncBatchNorm` on this machine

    It refuses a CPU tensor on a gloo rank, also in a group of one rank, where ours is plain
    BatchNorm; its statistics ops have no CPU kernel, and its `state_dict` and ours load into
    each other.
    """

    raised = [o['bad']['torch_cpu'] or '' for o in extras]
    check('torch.nn.SyncBatchNorm, training, gloo group, CPU tensor: ValueError on every rank',
          all(r.startswith('ValueError') and 'GPU' in r for r in raised), raised[0])
    check(f'the same with a group of {one_rank["world"]} rank: ValueError (device check first)',
          one_rank['world'] == 1 and (one_rank['torch'] or '').startswith('ValueError'),
          one_rank['torch'] or 'nothing raised')
    check_close('ours, group of 1 rank, CPU tensor: plain BatchNorm\'s output', one_rank['y'],
                one_rank['plain_y'])
    for op, args in (('batch_norm_stats', (torch.randn(4, 3), 1e-5)),
                     ('batch_norm_gather_stats_with_counts',
                      (torch.randn(4, 3), torch.zeros(2, 3), torch.ones(2, 3), None, None, 0.1,
                       1e-5, torch.tensor([2.0, 2.0])))):
        try:
            getattr(torch, op)(*args)
            message = ''
        except NotImplementedError as e:
            message = str(e).splitlines()[0]
        check(f'torch.{op} has no CPU kernel (NotImplementedError)',
              "from the 'CPU' backend" in message, message[:90])
    ours = SyncBatchNorm(4)
    with torch.no_grad():
        ours.weight.normal_()
        ours.running_var.uniform_(1, 2)
    for ref in (torch.nn.SyncBatchNorm(4), torch.nn.BatchNorm2d(4)):
        ref.load_state_dict(ours.state_dict())
        back = SyncBatchNorm(4)
        back.load_state_dict(ref.state_dict())
        check_close(f'state_dict -> {type(ref).__name__} -> ours, same keys and values',
                    list(back.state_dict().values()), list(ours.state_dict().values()))


@check_group(fold=True)
def _check_bad_setups(extras: list):
    """
    ## Bad set-ups: every rank raises, nobody hangs

    An empty shard on one rank, or different channel counts: every rank raises, nobody hangs.
    """

    for case, kind in (('empty', 'ValueError'), ('channels', 'RuntimeError')):
        raised = [o['bad'][case] or '' for o in extras]
        check(f'{case}: both ranks raise {kind}', all(r.startswith(kind) for r in raised),
              raised[0])


@check_group(fold=True)
def _check_bytes(extras: list):
    """
    ## Bytes per training step (2 ranks, shard (4, C, 8))

    Expected: gather (2 longs, then $2C + 1$ floats) from each of 2 ranks, reduce $2C$ floats;
    DDP's broadcast of a BatchNorm's buffers, $8C + 8$ bytes, and of a LayerNorm's, none. Kept
    for `_artifacts()`.
    """
    _measured.update(bytes=extras[0]['bytes'])
    for C, r in extras[0]['bytes'].items():
        # $2 \times (2 \times 8 + (2C + 1) \times 4) + 2C \times 4$, from `sync_collectives()`
        expected = sum(b for *_, b in sync_collectives(C))
        check(f'C={C}: SyncBatchNorm {r["sync"]:,} bytes, '
              f'LayerNorm {r["ln_calls"]} collective calls',
              r['sync'] == expected and r['ln_calls'] == 0, f'expected {expected:,}')
        check(f'C={C}: DDP buffer broadcast per step: BatchNorm {sum(r["ddp_bn"]):,} bytes, '
              f'LayerNorm {sum(r["ddp_ln"])}',
              r['ddp_bn'] == [ddp_buffer_bytes(C)] and r['ddp_ln'] == [],
              f'expected {ddp_buffer_bytes(C):,} and 0')
        note(f'C={C}: PyTorch\'s layout, computed', f'{_pytorch_bytes(C):,} bytes')


@check_group
def _check_timeline(extras: list):
    """
    ## The timeline figure is drawn from the counted collectives

    `sync_collectives()` names the calls the watch saw, in order, and its bytes add up to those
    counted on 2 ranks; the figure is a well-formed, named SVG that another C redraws.
    """
    from labml_nn_norm.layer_norm import check_figure
    names = [name for _, name, _, _ in sync_collectives(4)]
    check('sync_collectives(): the calls watched on every rank, in order',
          all(o['sync_comm'] == names for o in extras), ', '.join(names))
    counted = {C: r['sync'] for C, r in extras[0]['bytes'].items()}
    check('... and its bytes, summed, the bytes counted for every C',
          all(sum(b for *_, b in sync_collectives(C)) == n for C, n in counted.items()),
          str(counted))
    events = step_schedule(3, 64)
    check('a step of 3 SyncBatchNorm layers: 9 blocking collectives, 3 gradient buckets; '
          'LayerNorm: buckets only',
          sum(e['lane'] == 'sync' for e in events) == 9
          and sum(e['lane'] == 'ddp' for e in events) == 4
          and {e['lane'] for e in step_schedule(3, 64, sync=False)} == {'compute', 'ddp'})
    check_figure('timeline figure', figure_timeline(), figure_timeline(channels=1024))


@check_group(fold=True)
def _check_times():
    """
    ## Time per collective and per step, rank 0, gloo on loopback (saved, then checked)

    The timings are measured by `--measure`, not at every build; here the saved record must hold
    what the page says it holds: the same rows and round counts, and the verdict it states must
    be the one recomputed from its saved rounds. Median, min and max are notes.
    """
    record = load_latency()
    latency = record['latency']
    names = ['all_gather: shape check (2 int64)', 'all_gather: statistics (2C + 1 float32)',
             'all_reduce: gradient sums (2C float32)', 'step: SyncBatchNorm forward + backward',
             'step: plain BatchNorm forward + backward (no collective)']
    check(f'results/latency.json: {record["command"]}, {record["date"]}, torch {record["torch"]}',
          record['command'] == 'python -m labml_nn_norm.distributed --measure'
          and record['channels'] == list(CHANNELS) and sorted(latency) == list(CHANNELS)
          and all(list(t) == names for t in latency.values()), f'channels {record["channels"]}')
    counts = {len(ts) for t in latency.values() for ts in t.values()}
    check(f'every row holds {ROUNDS} timed rounds, all positive',
          record['rounds'] == ROUNDS and counts == {ROUNDS}
          and all(s > 0 for t in latency.values() for ts in t.values() for s in ts),
          f'rounds per row: {sorted(counts)}')
    again = latency_verdict(latency, record['rounds'])
    check('the stated verdict == the one recomputed from the saved rounds',
          again == record['verdict'], again[:90])
    for C, times in latency.items():
        for name, ts in times.items():
            med, lo, hi = _stats_us(ts)
            note(f'C={C}: {name}', f'median {med:,.0f} µs (min {lo:,.0f}, max {hi:,.0f})')
    note(f'verdict ({record["rounds"]} rounds)', record['verdict'])


# ## Exercises
#
# 1. **Unequal shards.** Three ranks hold 1, 5 and 100 samples of one channel. Merge their
#    $(n_r, \bar{x}_r, M_{2,r})$ with `chan_merge` and compare with the whole batch's variance;
#    what does the plain average of the three shard variances give instead?
# 2. **Batches of 2.** Show that BatchNorm in training on a batch of two values $x_1, x_2$
#    outputs $\pm 1 / \sqrt{1 + 4\epsilon / (x_1 - x_2)^2}$, and check it on our `BatchNorm`.
# 3. **Summed or averaged.** With the whole batch's $\hat{x}$, each rank's share of $d\gamma$ is
#    $\sum dy\,\hat{x}$ over its own samples. Show that the shares add up to one process's
#    $d\gamma$, that DDP's average gives $d\gamma / R$, and that multiplying each rank's loss by
#    $R$ undoes it.
# 4. **Where the shortcut breaks.** For `float32` channels of spread 1 and means 10, 100, 1000
#    and $10^4$ (two shards of 1000), compare the relative error of
#    $\mathbb{E}[x^2] - \mathbb{E}[x]^2$ from summed moments with that of Chan's merge.


@check_group(fold=True)
def _exercise_1():
    r"""
    ## Solution 1: unequal shards

    Chan's merge weights each shard by its count and adds the spread *between* the shard means;
    the plain average of the shard variances does neither (the shard of 1 sample has variance 0).
    """
    g = torch.Generator().manual_seed(1)
    shards = [torch.randn(n, 1, generator=g, dtype=torch.float64) * 2 + shift
              for n, shift in ((1, 5.0), (5, -1.0), (100, 0.0))]
    counts = torch.tensor([float(len(s)) for s in shards], dtype=torch.float64)
    means = torch.stack([s.mean(0) for s in shards])  # (3, 1)
    m2s = torch.stack([(s - s.mean(0)).square().sum(0) for s in shards])  # (3, 1)
    N, mean, var = chan_merge(counts, means, m2s)
    whole = torch.cat(shards)  # (106, 1)
    check_close('chan_merge == the whole batch: N, mean, biased variance (float64)',
                [N, mean, var], [torch.tensor([106.0], dtype=torch.float64), whole.mean(0),
                                 whole.var(0, unbiased=False)])
    plain = torch.stack([s.var(0, unbiased=False) for s in shards]).mean().item()
    check('the plain average of the shard variances is wrong by more than 10%',
          abs(plain - var.item()) / var.item() > 0.1, f'{plain:.3f} vs {var.item():.3f}')


@check_group(fold=True)
def _exercise_2():
    r"""
    ## Solution 2: batches of 2

    The mean is $(x_1 + x_2)/2$ and the biased variance $d^2/4$ with $d = x_1 - x_2$, so
    $\hat{x}_1 = \frac{d/2}{\sqrt{d^2/4 + \epsilon}} = 1 / \sqrt{1 + 4\epsilon/d^2}$ and
    $\hat{x}_2 = -\hat{x}_1$: a batch of two carries only a sign.
    """
    x = torch.randn(2, 4, dtype=torch.float64) * 0.05  # small gaps, so eps shows
    bn = BatchNorm(4).double()
    y = bn(x).detach()
    d = (x[0] - x[1]).abs()  # (4,)
    expected = 1 / torch.sqrt(1 + 4 * bn.eps / d.square())
    check_close('|y| == 1 / sqrt(1 + 4 eps / (x1 - x2)²), both samples, 4 channels',
                y.abs(), expected.expand(2, 4))
    check_close('... with opposite signs: y₁ == -y₂', y[0], -y[1])


@check_group(fold=True)
def _exercise_3():
    r"""
    ## Solution 3: summed or averaged

    $d\gamma = \sum_{\text{batch}} dy\,\hat{x}$ splits into the ranks' shares because $\hat{x}$
    uses the whole batch's statistics (that is what synchronizing buys). Averaging $R$ shares
    divides the sum by $R$; a loss scaled by $R$ on each rank scales each share by $R$.
    """
    R = 4
    x = torch.randn(8, 3, 5) * 2 + 1
    dy = torch.randn(8, 3, 5)
    bn = BatchNorm(3)
    bn(x).backward(dy)
    with torch.no_grad():
        x_hat = BatchNorm(3)(x)  # weight 1, bias 0: the output is x̂, (8, 3, 5)
        shares = [(d * xh).sum(dim=(0, 2)) for d, xh in zip(dy.split(2), x_hat.split(2))]
    check_close(f'{R} ranks\' shares of dγ, summed == one process', sum(shares), bn.weight.grad)
    check_close('DDP\'s average == dγ / R', sum(shares) / R, bn.weight.grad / R)
    check_close('each rank\'s loss × R, then averaged == dγ', sum(R * s for s in shares) / R,
                bn.weight.grad)


@check_group(fold=True)
def _exercise_4():
    r"""
    ## Solution 4: where the shortcut breaks

    Both $\mathbb{E}[x^2]$ and $\mathbb{E}[x]^2$ are about $\mu^2$; their difference, 1, is lost
    once $\mu^2$ is so large that `float32`'s rounding error on it (about $6 \times 10^{-8}\mu^2$)
    approaches 1. Chan's merge never forms $\mu^2$.
    """
    errors = {}
    for mean in (10.0, 100.0, 1000.0, 1e4):
        xs = torch.randn(2, 1000, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        xs = xs + mean
        truth = xs.var(unbiased=False).item()
        x32 = xs.float()
        m_r = x32.mean(1, keepdim=True)  # (2, 1)
        _, _, var_chan = chan_merge(torch.full((2,), 1000.0), m_r,
                                    (x32 - m_r).square().sum(1, True))
        var_sums = (x32.square().sum() / 2000 - (x32.sum() / 2000) ** 2).item()
        errors[mean] = (abs(var_sums - truth) / truth, abs(var_chan.item() - truth) / truth)
    detail = ', '.join(f'mean {m:g}: {s:.1e} vs {c:.1e}' for m, (s, c) in errors.items())
    check('shortcut error < 1e-3 at mean 10 and > 0.5 at mean 1e4; Chan < 1e-4 at all four',
          errors[10.0][0] < 1e-3 and errors[1e4][0] > 0.5
          and all(c < 1e-4 for _, c in errors.values()), detail)


def _test():
    """
    ## Run all the checks

    The groups after the first read what the 2-rank and 1-rank phases returned.
    """
    torch.manual_seed(0)
    extras, one_rank, ln_inputs = _check_ranks()
    _check_per_device()
    _check_merge()
    _check_sharded_ln(extras, ln_inputs)
    _check_pytorch(extras, one_rank)
    _check_bad_setups(extras)
    _check_bytes(extras)
    _check_timeline(extras)
    _check_times()
    _exercise_1()
    _exercise_2()
    _exercise_3()
    _exercise_4()


def _main():
    # `--measure`: time the collectives on 2 ranks and save them to results/; otherwise the checks
    if '--measure' not in sys.argv[1:]:
        _test()
        return
    record = measure()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    print(f'wrote {RESULTS.name}: {record["wall_time_s"]} s; {record["verdict"]}')

# ## Sources
#
# * PyTorch 2.13.0, [`torch/nn/modules/_functions.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L7-L210):
#   the autograd function `SyncBatchNorm` (forward L10-L124: what is gathered, gloo vs other
#   backends, empty shards, the merge call; backward L127-L210: the two sums, one `all_reduce`,
#   parameter gradients left local).
# * PyTorch 2.13.0, [`torch/nn/modules/batchnorm.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L650-L951):
#   the module `SyncBatchNorm` (device check L836-L854, before the world-size check L856-L860;
#   fallback L862-L873, DDP note L690-L694,
#   `convert_sync_batchnorm` L889-L951).
# * PyTorch 2.13.0, [`torch/nn/parallel/distributed.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L546-L555):
#   DDP averages gradients across processes (the note on summed losses); it refuses a CPU module
#   with a SyncBatchNorm
#   ([L2453-L2460](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L2453-L2460));
#   it broadcasts the buffers from rank 0 before every forward: `forward_sync_buffers` defaults
#   to true ([L982-L990](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L982-L990)),
#   `_pre_forward` calls `_sync_buffers`
#   ([L1781-L1782](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L1781-L1782)),
#   which broadcasts from rank 0
#   ([L2405-L2451](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L2405-L2451));
#   gradient buckets overlap with the backward
#   ([L713-L718](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L713-L718)).
#   We read the installed copy; `_test()` counts the broadcast.
# * PyTorch 2.13.0, [`torch/distributed/fsdp/_fully_shard/_fully_shard.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/distributed/fsdp/_fully_shard/_fully_shard.py#L114-L140):
#   FSDP all-gathers each group's parameters before forward and reduce-scatters the gradients.
# * Megatron-LM (commit `d98e8a6`): [`model_parallel_config.py` L94-L98](https://github.com/NVIDIA/Megatron-LM/blob/d98e8a64ddf34856e74b24714e3bedb2f5a39553/megatron/core/model_parallel_config.py#L94-L98)
#   (what `sequence_parallel` does), [`fusions/fused_layer_norm.py` L116-L120](https://github.com/NVIDIA/Megatron-LM/blob/d98e8a64ddf34856e74b24714e3bedb2f5a39553/megatron/core/fusions/fused_layer_norm.py#L116-L120)
#   (LayerNorm's weight and bias marked `sequence_parallel`),
#   [`distributed/finalize_model_grads.py` L416-L484](https://github.com/NVIDIA/Megatron-LM/blob/d98e8a64ddf34856e74b24714e3bedb2f5a39553/megatron/core/distributed/finalize_model_grads.py#L416-L484)
#   (their gradients summed across the tensor-parallel group).
# * PyTorch, [`aten/src/ATen/native/cuda/Normalization.cuh`](https://github.com/pytorch/pytorch/blob/3f55db3aea697a6d862197cf18f4a9a8fb3a6001/aten/src/ATen/native/cuda/Normalization.cuh#L426-L470)
#   at the commit our code index holds (not the wheel's): `batch_norm_reduce_statistics_kernel`
#   (variance recovered from invstd, the rank-by-rank merge, running statistics),
#   `batch_norm_backward_reduce_kernel`
#   ([L472-L505](https://github.com/pytorch/pytorch/blob/3f55db3aea697a6d862197cf18f4a9a8fb3a6001/aten/src/ATen/native/cuda/Normalization.cuh#L472-L505))
#   and `batch_norm_backward_elemt_kernel_impl`
#   ([L507-L542](https://github.com/pytorch/pytorch/blob/3f55db3aea697a6d862197cf18f4a9a8fb3a6001/aten/src/ATen/native/cuda/Normalization.cuh#L507-L542)).
# * The merge of counts, means and $M_2$ (Chan, Golub and LeVeque): taken from our
#   [numerics page](../numerics/index.md), which derives and tests it; we did not re-read the
#   paper.

