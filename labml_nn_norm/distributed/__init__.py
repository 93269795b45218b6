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
its own shard: with 8 ranks of 2 samples, BatchNorm sees batches of 2, noisy statistics, and
running averages of noisy statistics (`_test()` shows all three). The fix, *synchronized*
BatchNorm, makes the ranks exchange per-channel statistics in the forward pass and two per-channel
gradient sums in the backward pass. This page builds it from scratch on `torch.distributed` (the
gloo backend, processes on one machine talking over the loopback interface), checks it against
one process on the whole batch, and compares it, line by line, with PyTorch's
`torch.nn.SyncBatchNorm` (version 2.13.0), which we cannot run here: it only accepts GPU-like
inputs (below).

### Forward: merge the shards' statistics

Each rank $r$ computes, per channel, its count $n_r$, mean $\bar{x}_r$ and sum of squared
deviations $M_{2,r}$. One collective (`all_gather`) gives every rank every shard's triple, and
[Chan's merge](../numerics/index.md) combines them exactly:

$$N = \sum_r n_r \qquad \mu = \frac{1}{N}\sum_r n_r \bar{x}_r \qquad
\sigma^2 = \frac{1}{N}\sum_r \Big(M_{2,r} + n_r (\bar{x}_r - \mu)^2\Big)$$

We exchange $(n, \bar{x}, M_2)$ rather than $(n, \sum x, \sum x^2)$ because the latter, merged by
one `all_reduce`, is the $\mathbb{E}[x^2] - \mathbb{E}[x]^2$ shortcut, which fails for channels
whose mean is large compared with their spread (`_test()` measures it on a `float32` channel of
mean $10^4$ and spread 1: the shortcut's variance is off by more than half, the merge's by
less than $10^{-4}$, relative).
PyTorch's stated reason for gathering instead of reducing is a different one: the counts may
differ across ranks
([`_functions.py` L59-L60](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L59-L60)).

### Backward: two sums per channel

From the [backward pass page](../layer_norm/backward.md), with the roles of rows and columns
swapped (BatchNorm's "row" is a channel across the whole batch),

$$dx = \frac{\gamma}{\sigma}\Big(dy - \frac{1}{N}\sum dy
- \hat{x}\,\frac{1}{N}\sum dy\,\hat{x}\Big)$$

where the sums run over the *whole* batch. Each rank computes its local $\sum dy$ and
$\sum dy\,\hat{x}$ per channel, one `all_reduce` adds them up, and each rank finishes its own $dx$.
$d\gamma$ and $d\beta$ stay local: they are parameter gradients, and data-parallel training
combines those across ranks anyway. PyTorch's
`DistributedDataParallel` all-reduces them and divides by the number of ranks, i.e. *averages*
them ([its note on summed losses](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L546-L555));
PyTorch's SyncBatchNorm leaves them local for the same reason
([`_functions.py` L181-L182](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L181-L182)).
`_test()` *sums* the ranks' $d\gamma, d\beta$ and compares them with one process whose loss is
summed over the whole batch; under DDP's averaging the same equality needs each rank's loss
multiplied by the number of ranks.

### What PyTorch's `SyncBatchNorm` does (2.13.0)

Read from the source of the installed wheel (links pinned to its commit), and from the CUDA
kernel at the commit our code index holds:

* **Only GPU-like inputs.** In training, with a process group initialized, an input whose device
  is not `cuda`, `hpu`, `xpu` or the registered private-use backend raises `ValueError`
  ([`batchnorm.py` L836-L854](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L836-L854));
  `_test()` sees this on a gloo rank with a CPU tensor. With one rank, or in `eval()`, it falls
  back to plain `F.batch_norm`
  ([L862-L873](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L862-L873)).
  The statistics ops it calls, `torch.batch_norm_stats` and
  `torch.batch_norm_gather_stats_with_counts`, have no CPU kernel in this build (`_test()`
  asserts the `NotImplementedError`). DDP also refuses a CPU module that contains a SyncBatchNorm
  ([`distributed.py` L2453-L2460](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L2453-L2460)),
  and the class docstring says it currently supports DDP only with a single GPU per process
  ([L690-L694](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L690-L694)).
* **Forward: one `all_gather` of $2C + 1$ numbers per rank.** Each rank computes per-channel
  `mean` and `invstd` $= 1/\sqrt{\sigma_r^2 + \epsilon}$ (`torch.batch_norm_stats`), appends its
  count as *one* number, and concatenates them, $C + C + 1$
  ([`_functions.py` L36-L49](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L36-L49)).
  With gloo it uses the list form of `all_gather`; with other backends (NCCL) one flat
  `all_gather_single`, since gloo lacks `all_gather_into_tensor`
  ([L59-L86](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L59-L86)).
* **The merge.** `torch.batch_norm_gather_stats_with_counts`
  ([L102-L115](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L102-L115))
  runs a CUDA kernel that, per channel, walks the ranks in order, recovers each rank's variance
  as $1/\text{invstd}^2 - \epsilon$, and folds it in with the same pairwise (Chan) update as ours;
  the same kernel updates the running mean and the *unbiased* running variance
  ([`Normalization.cuh` L426-L470](https://github.com/pytorch/pytorch/blob/3f55db3aea697a6d862197cf18f4a9a8fb3a6001/aten/src/ATen/native/cuda/Normalization.cuh#L426-L470)).
* **Backward: one `all_reduce` of $2C$ numbers.** `torch.batch_norm_backward_reduce` gives the local
  $\sum dy$ and $\sum dy\,(x - \mu)$ (`sum_dy`, `sum_dy_xmu`), and also $d\beta = \sum dy$,
  $d\gamma = \text{invstd} \cdot \sum dy\,(x - \mu)$
  ([`_functions.py` L138-L154](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L138-L154),
  [`Normalization.cuh` L472-L505](https://github.com/pytorch/pytorch/blob/3f55db3aea697a6d862197cf18f4a9a8fb3a6001/aten/src/ATen/native/cuda/Normalization.cuh#L472-L505));
  the two sums are concatenated and all-reduced, *only if the input needs a gradient*
  ([L156-L166](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L156-L166)),
  and $dx$ is the formula above with $\hat{x} = (x - \mu)\,\text{invstd}$
  ([`Normalization.cuh` L507-L542](https://github.com/pytorch/pytorch/blob/3f55db3aea697a6d862197cf18f4a9a8fb3a6001/aten/src/ATen/native/cuda/Normalization.cuh#L507-L542)).
* **Empty shards are allowed.** A rank with no samples sends zeros with count 0, which the others
  mask out ([L50-L57](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L50-L57),
  [L96-L100](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L96-L100);
  the masking is skipped while a CUDA graph is being captured, L88), and in the backward it
  still joins the `all_reduce` with zeros
  ([L188-L205](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L188-L205)).
  The "more than 1 value per channel" error is raised only with a single rank
  ([L30-L34](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L30-L34)).
* **Memory layout.** Inputs and output gradients in `channels_last` or `channels_last_3d` layout
  are kept as they are; any other layout is made contiguous
  ([L22-L26](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L22-L26),
  [L129-L133](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L129-L133)).
* **Conversion.** `SyncBatchNorm.convert_sync_batchnorm(model)` replaces every `_BatchNorm`
  submodule by a `SyncBatchNorm` with the same settings that takes over its `weight`, `bias` and
  running buffers
  ([`batchnorm.py` L889-L951](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L889-L951)).

### Where ours differs

* We gather $(\bar{x}_r, M_{2,r}, n_r)$, PyTorch gathers $(\bar{x}_r, \text{invstd}_r, n_r)$:
  the same $2C + 1$ numbers per rank, but our variance never goes through
  $1/\sqrt{\sigma^2 + \epsilon}$ and back. We merge all ranks at once (sums over the rank axis)
  instead of PyTorch's rank-by-rank loop; the two are equal in exact arithmetic.
* We reduce $\sum dy\,\hat{x}$ where PyTorch reduces $\sum dy\,(x - \mu)$; they differ by the
  factor invstd, which every rank knows. We always run the backward `all_reduce`.
* We reject an empty shard, on every rank at once (PyTorch accepts it), and for that we spend one
  more tiny `all_gather` (2 integers per rank) to check the shapes before the real one.
* Ours runs on CPU with gloo, since it uses only ordinary tensor ops; PyTorch's does not (above).

### The cost, measured

Payload bytes per rank for one training step (forward and backward) of a `(4, C, 8)` `float32`
shard on 2 ranks, counted by wrapping the collectives: for `all_gather`, the gathered output
(every rank's tensor, own included); for `all_reduce`, the tensor reduced. What the backend puts
on the wire depends on its algorithm, which we did not measure. PyTorch's column is *computed*
from the layout above ($2 \times (2C+1)$ gathered plus $2C$ reduced, 4 bytes each), not measured:

{{ comm_table }}
"""

import io
import os
import socket
from typing import List, Optional

import torch
import torch.distributed as dist

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


def _check_shards(x: torch.Tensor, num_features: int):
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
    # Each shard's $M_2$ plus its mean's distance from $\mu$, weighted by its count
    var = (m2s + counts * (means - mean).square()).sum(0) / N
    return N, mean, var


class SyncBatchNormFunction(torch.autograd.Function):
    """
    ## The synchronized function
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
        mean_r = xc.mean(dim=dims)
        m2_r = (xc - mean_r.view(stat_shape)).square().sum(dim=dims)
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
        x_hat, rstd, weight, N = ctx.saved_tensors
        C = x_hat.shape[1]
        dims = [0] + list(range(2, x_hat.dim()))
        stat_shape = (1, C) + (1,) * (x_hat.dim() - 2)
        dy = dy.to(x_hat.dtype)
        # This shard's $\sum dy$ and $\sum dy\,\hat{x}$ per channel: also its $d\beta$, $d\gamma$
        sum_dy = dy.sum(dim=dims)
        sum_dy_xhat = (dy * x_hat).sum(dim=dims)
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
    synchronizes; otherwise it is plain BatchNorm, as PyTorch's falls back to `F.batch_norm`.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized()
                and dist.get_world_size() > 1):
            return super().forward(input)
        _check_shards(input, self.num_features)
        track = self.track_running_stats
        return SyncBatchNormFunction.apply(input, self.weight, self.bias,
                                           self.running_mean if track else None,
                                           self.running_var if track else None,
                                           self.eps, self.momentum,
                                           self.num_batches_tracked if track else None)


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


def run_phases(phases: list, timeout: float = 60.0) -> list:
    """
    ### Spawning processes

    `phases` is a list of `(world, task, args)`; as many processes as the largest `world` are
    started once, and each phase runs on ranks `0 .. world - 1` with a fresh port. Returns, per
    phase, the list of its ranks' results. The processes are always joined, and killed if they
    hang, even when something fails.
    """
    import torch.multiprocessing as mp
    # A fork server imports torch once and forks the ranks from itself, a clean single-threaded
    # process: each rank starts in milliseconds instead of importing torch again ('spawn' is the
    # fallback where there is no fork server)
    if 'forkserver' in mp.get_all_start_methods():
        ctx = mp.get_context('forkserver')
        ctx.set_forkserver_preload(['torch', __name__])
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


def _task_bytes(rank: int, world: int, channels):
    """
    Bytes through our collectives for one forward + backward step of SyncBatchNorm, and the
    number of `torch.distributed` collectives LayerNorm calls, for each channel count.
    """
    from labml_nn_norm.layer_norm import LayerNorm
    out = {}
    for C in channels:
        x = torch.randn(4, C, 8, requires_grad=True)
        COMM_LOG.clear()
        SyncBatchNorm(C)(x).sum().backward()
        sync_bytes = sum(b for _, b in COMM_LOG)
        ln_calls = _collective_calls(lambda: LayerNorm([C, 8])(x).sum().backward())
        out[C] = (sync_bytes, len(ln_calls))
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


def _task_all(rank: int, world: int, shards, dy_shards, state, extras: bool):
    """Everything one phase checks."""
    out = _task_compare(rank, world, shards, dy_shards, state)
    if extras:
        out['bad'] = _task_bad(rank, world)
        out['bytes'] = _task_bytes(rank, world, CHANNELS)
    return out


def _shards(x: torch.Tensor, sizes: List[int]) -> List[torch.Tensor]:
    return list(torch.split(x, sizes))


CHANNELS = (64, 256, 1024)
# The byte counts measured by the last `_test()` in this process, reused for the page's table
_measured_bytes = {}


def _pytorch_bytes(C: int, world: int = 2) -> int:
    # PyTorch's layout, from its source: gather (2C + 1) float32 from each rank, reduce 2C
    return world * (2 * C + 1) * 4 + 2 * C * 4


def _artifacts():
    """## The table, measured with 2 ranks when the site is built (by `_test()`, or here)"""
    result = _measured_bytes or run_ranks(2, '_task_bytes', CHANNELS)[0]
    lines = ['| channels C | ours: bytes per rank per step (measured) '
             '| PyTorch\'s layout: bytes (computed) | LayerNorm: collective calls (measured) |',
             '| --- | --- | --- | --- |']
    for C in CHANNELS:
        sync_bytes, ln_bytes = result[C]
        lines.append(f'| {C} | {sync_bytes:,} | {_pytorch_bytes(C):,} | {ln_bytes} |')
    return {'comm_table': '\n'.join(lines)}


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


def _check_ranks() -> list:
    """
    ## One batch, split across ranks, against one process on the whole batch

    One spawn of 4 processes serves both layouts: 4 ranks first, then ranks 0 and 1 alone. The
    2-rank phase also runs the bad set-ups and the byte counts; its results are returned for the
    groups below.
    """
    from labml_nn_norm._check import check, check_close, section

    one = _one_process()
    layouts = ([1, 2, 2, 3], [3, 5])
    phases = [(len(sizes), '_task_all', (_shards(one['x'], sizes), _shards(one['dy'], sizes),
                                         one['state'], len(sizes) == 2)) for sizes in layouts]
    for sizes, out in zip(layouts, run_phases(phases)):
        world = len(sizes)
        section(f'{world} gloo ranks on 127.0.0.1, shards of {sizes} samples')
        errors = [o['error'] for o in out if 'error' in o]
        check('every rank ran', not errors, '; '.join(errors))
        if world == 2:
            extras = out
        check_close('SyncBatchNorm output == one process', torch.cat([o['y'] for o in out]),
                    one['y'])
        check_close('input gradients == one process', torch.cat([o['dx'] for o in out]),
                    one['dx'])
        # The sum over ranks (DDP would average: see the prose)
        check_close('dγ, dβ summed over ranks == one process',
                    [sum(o['dweight'] for o in out), sum(o['dbias'] for o in out)],
                    [one['dweight'], one['dbias']])
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
    return extras


def _check_per_device():
    """
    ## Without synchronization

    Plain BatchNorm on 8 "devices" with 2 samples each vs one batch of 16, in one process.
    """
    from labml_nn_norm._check import check, check_close, section

    section('Per-device batches of 2 vs one batch of 16 (no synchronization)')
    x16 = torch.randn(16, 4) * 3 + 1
    whole = BatchNorm(4)
    y_whole = whole(x16)
    per_device = [BatchNorm(4) for _ in range(8)]
    y_split = torch.cat([bn(chunk) for bn, chunk in zip(per_device, x16.split(2))])
    diff = (y_split - y_whole).abs().max().item()
    check('outputs differ: each pair is normalized to ±1', diff > 0.5, f'max |Δ| = {diff:.2f}')
    check_close('with 2 samples, BatchNorm outputs are exactly ±1 (up to eps)',
                y_split.detach().abs(), torch.ones(16, 4), atol=2e-2, rtol=0)
    spread = torch.stack([bn.running_var for bn in per_device]).std(0).max().item()
    check('running variances disagree across devices', spread > 0.1,
          f'std across devices {spread:.2f}')


def _check_merge():
    r"""
    ## Why send the mean and M₂, not the sums

    Why each rank sends $(n, \bar{x}, M_2)$ and not $(n, \sum x, \sum x^2)$: one `float32`
    channel, mean $10^4$, spread 1, in two shards of 1000.
    """
    from labml_nn_norm._check import check, section

    section('Merging shards: Chan vs the sums shortcut (float32, mean 1e4, spread 1)')
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


def _check_pytorch(extras: list):
    """
    ## PyTorch's `SyncBatchNorm` on this machine

    It refuses a CPU tensor on a gloo rank, its statistics ops have no CPU kernel, and its
    `state_dict` and ours load into each other.
    """
    from labml_nn_norm._check import check, check_close, section

    section('PyTorch\'s SyncBatchNorm on this machine')
    raised = [o['bad']['torch_cpu'] or '' for o in extras]
    check('torch.nn.SyncBatchNorm, training, gloo group, CPU tensor: ValueError on every rank',
          all(r.startswith('ValueError') and 'GPU' in r for r in raised), raised[0])
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


def _check_bad_setups(extras: list):
    """
    ## Bad set-ups

    An empty shard on one rank, or different channel counts: every rank raises, nobody hangs.
    """
    from labml_nn_norm._check import check, section

    section('Bad set-ups: every rank raises, nobody hangs')
    for case, kind in (('empty', 'ValueError'), ('channels', 'RuntimeError')):
        raised = [o['bad'][case] or '' for o in extras]
        check(f'{case}: both ranks raise {kind}', all(r.startswith(kind) for r in raised),
              raised[0])


def _check_communication(extras: list):
    """
    ## The bytes of the table

    Expected: gather (2 longs, then $2C + 1$ floats) from each of 2 ranks, reduce $2C$ floats.
    The counts are kept for `_artifacts()`.
    """
    from labml_nn_norm._check import check, note, section

    section('Communication per training step (2 ranks, shard (4, C, 8))')
    _measured_bytes.update(extras[0]['bytes'])
    for C, (sync_bytes, ln_bytes) in extras[0]['bytes'].items():
        expected = 2 * (2 * 8 + (2 * C + 1) * 4) + 2 * C * 4
        check(f'C={C}: SyncBatchNorm {sync_bytes:,} bytes, '
              f'LayerNorm {ln_bytes} collective calls',
              sync_bytes == expected and ln_bytes == 0, f'expected {expected:,}')
        note(f'C={C}: PyTorch\'s layout, computed', f'{_pytorch_bytes(C):,} bytes')


def _test():
    """
    ## Run all the checks

    The groups after the first read what the 2-rank phase returned.
    """
    torch.manual_seed(0)
    extras = _check_ranks()
    _check_per_device()
    _check_merge()
    _check_pytorch(extras)
    _check_bad_setups(extras)
    _check_communication(extras)

# ## Sources
#
# * PyTorch 2.13.0, [`torch/nn/modules/_functions.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/_functions.py#L7-L210):
#   the autograd function `SyncBatchNorm` (forward L10-L124: what is gathered, gloo vs other
#   backends, empty shards, the merge call; backward L127-L210: the two sums, one `all_reduce`,
#   parameter gradients left local).
# * PyTorch 2.13.0, [`torch/nn/modules/batchnorm.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/modules/batchnorm.py#L650-L951):
#   the module `SyncBatchNorm` (device check L836-L854, fallback L862-L873, DDP note L690-L694,
#   `convert_sync_batchnorm` L889-L951).
# * PyTorch 2.13.0, [`torch/nn/parallel/distributed.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L546-L555):
#   DDP averages gradients across processes (the note on summed losses); it refuses a CPU module
#   with a SyncBatchNorm ([L2453-L2460](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/nn/parallel/distributed.py#L2453-L2460)).
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

