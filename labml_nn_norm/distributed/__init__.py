r"""
---
title: Normalization across devices
summary: In data-parallel training BatchNorm needs a collective to see the whole batch and LayerNorm needs none - a from-scratch SyncBatchNorm on torch.distributed, measured.
---

# Normalization across devices

In data-parallel training each device (a *rank*) gets a shard of the batch, runs the model on it,
and the gradients are averaged. Any layer whose output depends only on its own sample is
unaffected: [LayerNorm](../layer_norm/index.md) normalizes each sample (each token) over its own
features, so every rank computes exactly what one big machine would, with **zero communication**.

[BatchNorm](../batch_norm/index.md) is different: its statistics span the *batch*
([which elements](../ln_vs_bn/index.md)). Left alone, each rank normalizes with the statistics of
its own shard: with 8 ranks of 2 samples, BatchNorm sees batches of 2, noisy statistics, and
running averages of noisy statistics. The fix, *synchronized* BatchNorm, makes the ranks exchange
per-channel statistics in the forward pass and two per-channel gradient sums in the backward pass.
This page builds it from scratch on `torch.distributed` (the gloo backend, processes on one
machine talking over the loopback interface) and measures what it costs.

### Forward: merge the shards' statistics

Each rank $r$ computes, per channel, its count $n_r$, mean $\bar{x}_r$ and sum of squared
deviations $M_{2,r}$. One collective (`all_gather`) gives every rank every shard's triple, and
[Chan's merge](../numerics/index.md) combines them exactly:

$$N = \sum_r n_r \qquad \mu = \frac{1}{N}\sum_r n_r \bar{x}_r \qquad
\sigma^2 = \frac{1}{N}\sum_r \Big(M_{2,r} + n_r (\bar{x}_r - \mu)^2\Big)$$

We exchange $(n, \bar{x}, M_2)$ rather than $(n, \sum x, \sum x^2)$ because the latter, merged by
one `all_reduce`, is the $\mathbb{E}[x^2] - \mathbb{E}[x]^2$ shortcut, which fails for channels
whose mean is large compared with their spread. (PyTorch's `SyncBatchNorm` also gathers
per-rank means and variances.)

### Backward: two sums per channel

From the [backward pass page](../layer_norm/backward.md), with the roles of rows and columns
swapped (BatchNorm's "row" is a channel across the whole batch),

$$dx = \frac{\gamma}{\sigma}\Big(dy - \frac{1}{N}\sum dy - \hat{x}\,\frac{1}{N}\sum dy\,\hat{x}\Big)$$

where the sums run over the *whole* batch. Each rank computes its local $\sum dy$ and
$\sum dy\,\hat{x}$ per channel, one `all_reduce` adds them up, and each rank finishes its own $dx$.
$d\gamma$ and $d\beta$ stay local: data-parallel training sums parameter gradients across ranks anyway.

### The cost, measured

Bytes each rank sends or receives in collectives for one training step (forward and backward)
of a `(4, C, 8)` shard on 2 ranks, counted by wrapping the collectives, against LayerNorm's:

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
    # Every rank's copy of `t`; counted as the bytes this rank receives
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

    A rank with an empty shard, or with a different channel count, would otherwise hang the other
    ranks inside a collective or merge garbage. One tiny `all_gather` of (channels, values per
    channel) lets *every* rank see the problem and raise the same error together.
    """
    if x.dim() < 2 or x.shape[1] != num_features:
        raise ValueError(f'SyncBatchNorm expects input (N, {num_features}, *), got {list(x.shape)}')
    info = _all_gather(torch.tensor([x.shape[1], x.numel() // max(x.shape[1], 1)], dtype=torch.long))
    channels = [int(t[0]) for t in info]
    counts = [int(t[1]) for t in info]
    if len(set(channels)) > 1:
        raise RuntimeError(f'SyncBatchNorm: every rank must have the same channel count; '
                           f'expected {channels[0]} (rank 0), got {channels}')
    empty = [r for r, n in enumerate(counts) if n == 0]
    if empty:
        raise ValueError(f'SyncBatchNorm: rank(s) {empty} got an empty shard (values per channel: {counts}); '
                         f'every rank needs at least one sample')
    if sum(counts) <= 1:
        raise ValueError(f'Expected more than 1 value per channel when training, got {sum(counts)} across ranks')


class SyncBatchNormFunction(torch.autograd.Function):
    """
    ## The synchronized function
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps: float, momentum: Optional[float],
                num_batches_tracked):
        C = x.shape[1]
        dims = [0] + list(range(2, x.dim()))
        stat_shape = (1, C) + (1,) * (x.dim() - 2)
        xc = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        # This shard's $(n_r, \bar{x}_r, M_{2,r})$ per channel
        n_r = xc.numel() // C
        mean_r = xc.mean(dim=dims)
        m2_r = (xc - mean_r.view(stat_shape)).square().sum(dim=dims)
        #
        # One collective: every rank gets every shard's triple, packed as one (3, C) tensor
        packed = torch.stack([torch.full_like(mean_r, float(n_r)), mean_r, m2_r])
        parts = _all_gather(packed)
        counts = torch.stack([p[0] for p in parts])  # (world, C)
        means = torch.stack([p[1] for p in parts])
        m2s = torch.stack([p[2] for p in parts])
        # Chan's merge of all shards at once: $\mu = \sum n_r \bar{x}_r / N$, then each shard's
        # $M_2$ plus its mean's distance from $\mu$
        N = counts.sum(0)
        mean = (counts * means).sum(0) / N
        var = (m2s + counts * (means - mean).square()).sum(0) / N
        #
        # Running statistics: the *global* mean and unbiased variance, as one process would keep
        if running_mean is not None:
            with torch.no_grad():
                num_batches_tracked.add_(1)
                f = 1.0 / num_batches_tracked.item() if momentum is None else momentum
                n = N[0].item()
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
        # This shard's $\sum dy$ and $\sum dy\,\hat{x}$ per channel: they are also its $d\beta$, $d\gamma$
        sum_dy = dy.sum(dim=dims)
        sum_dy_xhat = (dy * x_hat).sum(dim=dims)
        # One all_reduce of both sums, packed as (2, C): the whole batch's sums on every rank
        total = _all_reduce(torch.stack([sum_dy, sum_dy_xhat]))
        #
        # $dx = \frac{\gamma}{\sigma}\big(dy - \overline{dy} - \hat{x}\,\overline{dy\,\hat{x}}\big)$, means over the whole batch
        scale = rstd * (weight if weight is not None else 1.0)
        dx = scale.view(stat_shape) * (dy - (total[0] / N).view(stat_shape)
                                       - x_hat * (total[1] / N).view(stat_shape))
        dweight = sum_dy_xhat.to(weight.dtype) if weight is not None else None
        dbias = sum_dy.to(weight.dtype if weight is not None else dy.dtype) if ctx.has_bias else None
        return dx, dweight, dbias, None, None, None, None, None


class SyncBatchNorm(BatchNorm):
    """
    ## The module

    Our [BatchNorm](../batch_norm/index.md) with the same arguments, parameters and buffers (so its
    `state_dict` moves to `torch.nn.SyncBatchNorm`, `BatchNorm2d` and back). In training, with a process
    group of more than one rank, it synchronizes; otherwise it is plain BatchNorm.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(input)
        _check_shards(input, self.num_features)
        track = self.track_running_stats
        return SyncBatchNormFunction.apply(input, self.weight, self.bias,
                                           self.running_mean if track else None,
                                           self.running_var if track else None,
                                           self.eps, self.momentum, self.num_batches_tracked if track else None)


def _free_port() -> int:
    # Ask the OS for a free port on the loopback address
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, task: str, args, queue):
    """
    ### One rank

    Joins the process group over the loopback address only, runs one task, and sends back its
    results (or its error) to the parent, which makes all the assertions.
    """
    os.environ['GLOO_SOCKET_IFNAME'] = 'lo'
    torch.set_num_threads(1)
    try:
        dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
        result = globals()[task](rank, world, *args)
    except Exception as e:  # reported to the parent, which decides
        result = {'error': f'{type(e).__name__}: {e}'}
    # As bytes: a tensor put on a torch.multiprocessing queue travels as a shared-memory handle,
    # which breaks if this process exits before the parent has opened it
    buffer = io.BytesIO()
    torch.save(result, buffer)
    try:
        queue.put((rank, buffer.getvalue()))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def run_ranks(world: int, task: str, *args, timeout: float = 60.0) -> list:
    """
    ### Spawning ranks

    `world` processes on this machine; their results come back through a queue. The processes are
    always joined, and killed if they hang, even when something fails.
    """
    import torch.multiprocessing as mp
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_worker, args=(r, world, port, task, args, queue), daemon=True)
             for r in range(world)]
    try:
        for p in procs:
            p.start()
        results = dict(queue.get(timeout=timeout) for _ in range(world))
        return [torch.load(io.BytesIO(results[r]), weights_only=False) for r in range(world)]
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()


def _task_compare(rank: int, world: int, shards, dy_shards, state):
    """On each rank: synchronized BN, plain BN and LayerNorm on this rank's shard."""
    from labml_nn_norm.layer_norm import LayerNorm
    x = shards[rank].clone().requires_grad_()
    sync = SyncBatchNorm(x.shape[1])
    sync.load_state_dict(state)
    y = sync(x)
    y.backward(dy_shards[rank])
    plain = BatchNorm(x.shape[1])
    plain.load_state_dict(state)
    y_plain = plain(shards[rank])
    ln = LayerNorm(shards[rank].shape[1:])
    return {'y': y.detach(), 'dx': x.grad, 'dweight': sync.weight.grad, 'dbias': sync.bias.grad,
            'running_mean': sync.running_mean, 'running_var': sync.running_var,
            'plain_y': y_plain.detach(), 'plain_running_var': plain.running_var,
            'ln_y': ln(shards[rank]).detach()}


def _task_bytes(rank: int, world: int, channels):
    """Bytes through collectives for one forward + backward step, for each channel count."""
    from labml_nn_norm.layer_norm import LayerNorm
    out = {}
    for C in channels:
        x = torch.randn(4, C, 8, requires_grad=True)
        COMM_LOG.clear()
        SyncBatchNorm(C)(x).sum().backward()
        sync_bytes = sum(b for _, b in COMM_LOG)
        COMM_LOG.clear()
        LayerNorm([C, 8])(x).sum().backward()
        out[C] = (sync_bytes, sum(b for _, b in COMM_LOG))
    return out


def _task_bad(rank: int, world: int):
    """Bad set-ups: every rank must raise the same error, and none may hang."""
    errors = {}
    for case in ('empty', 'channels'):
        try:
            if case == 'empty':
                SyncBatchNorm(4)(torch.randn(0 if rank == 1 else 3, 4, 5))
            else:
                SyncBatchNorm(4 + rank)(torch.randn(3, 4 + rank, 5))
            errors[case] = None
        except (ValueError, RuntimeError) as e:
            errors[case] = f'{type(e).__name__}: {e}'
    return errors


def _task_all(rank: int, world: int, shards, dy_shards, state, extras: bool):
    """Everything one spawn of ranks checks (spawning costs a second or two per process)."""
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


def _artifacts():
    """## The table, measured with 2 ranks when the site is built (by `_test()`, or here)"""
    result = _measured_bytes or run_ranks(2, '_task_bytes', CHANNELS)[0]
    lines = ['| channels C | SyncBatchNorm, bytes per rank per step | LayerNorm |', '| --- | --- | --- |']
    for C in CHANNELS:
        sync_bytes, ln_bytes = result[C]
        lines.append(f'| {C} | {sync_bytes:,} | {ln_bytes} |')
    return {'comm_table': '\n'.join(lines)}


def _test():
    """
    ## Checks: one batch, split across ranks, against one process on the whole batch
    """
    from labml_nn_norm._check import check, check_close, section
    from labml_nn_norm.layer_norm import LayerNorm

    torch.manual_seed(0)
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
    #
    for sizes in ([3, 5], [1, 2, 2, 3]):
        world = len(sizes)
        section(f'{world} gloo ranks on 127.0.0.1, shards of {sizes} samples')
        out = run_ranks(world, '_task_all', _shards(x, sizes), _shards(dy, sizes), state, world == 2)
        if world == 2:
            extras = out
        errors = [o['error'] for o in out if 'error' in o]
        check('every rank ran', not errors, '; '.join(errors))
        check_close('SyncBatchNorm output == one process', torch.cat([o['y'] for o in out]), y_ref.detach())
        check_close('input gradients == one process', torch.cat([o['dx'] for o in out]), xr.grad)
        # Data parallelism sums the ranks' parameter gradients
        check_close('dγ, dβ summed over ranks == one process',
                    [sum(o['dweight'] for o in out), sum(o['dbias'] for o in out)],
                    [reference.weight.grad, reference.bias.grad])
        check_close('running statistics on every rank == one process',
                    [torch.stack([o['running_mean'] for o in out]), torch.stack([o['running_var'] for o in out])],
                    [reference.running_mean.expand(world, 4), reference.running_var.expand(world, 4)])
        plain_diff = (torch.cat([o['plain_y'] for o in out]) - y_ref.detach()).abs().max().item()
        check('plain (unsynchronized) BatchNorm differs from one process', plain_diff > 0.05,
              f'max |Δ| = {plain_diff:.2f}')
        check_close('LayerNorm on each shard == LayerNorm on the whole batch, no communication',
                    torch.cat([o['ln_y'] for o in out]), LayerNorm([4, 5])(x).detach())
    #
    # Plain BatchNorm on 8 "devices" with 2 samples each vs one batch of 16, in one process
    section('Per-device batches of 2 vs one batch of 16 (no synchronization)')
    x16 = torch.randn(16, 4) * 3 + 1
    whole = BatchNorm(4)
    y_whole = whole(x16)
    per_device = [BatchNorm(4) for _ in range(8)]
    y_split = torch.cat([bn(chunk) for bn, chunk in zip(per_device, x16.split(2))])
    diff = (y_split - y_whole).abs().max().item()
    check('outputs differ: each pair is normalized to ±1', diff > 0.5, f'max |Δ| = {diff:.2f}')
    check_close('with 2 samples, BatchNorm outputs are exactly ±1 (up to eps)', y_split.detach().abs(),
                torch.ones(16, 4), atol=2e-2, rtol=0)
    spread = torch.stack([bn.running_var for bn in per_device]).std(0).max().item()
    check('running variances disagree across devices', spread > 0.1, f'std across devices {spread:.2f}')
    #
    section('Bad set-ups: every rank raises, nobody hangs')
    for case, kind in (('empty', 'ValueError'), ('channels', 'RuntimeError')):
        raised = [o['bad'][case] or '' for o in extras]
        check(f'{case}: both ranks raise {kind}', all(r.startswith(kind) for r in raised), raised[0])
    #
    section('Communication per training step (2 ranks, shard (4, C, 8))')
    _measured_bytes.update(extras[0]['bytes'])
    for C, (sync_bytes, ln_bytes) in extras[0]['bytes'].items():
        # Expected: gather (2 longs + 3C floats) from each of 2 ranks, reduce 2C floats
        expected = 2 * (2 * 8 + 3 * C * 4) + 2 * C * 4
        check(f'C={C}: SyncBatchNorm {sync_bytes:,} bytes, LayerNorm {ln_bytes}',
              sync_bytes == expected and ln_bytes == 0, f'expected {expected:,}')
