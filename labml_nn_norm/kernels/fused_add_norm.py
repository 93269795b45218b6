r"""
---
title: "Add & Norm, fused: residual add, dropout and LayerNorm in one Triton kernel"
summary: The residual add, the dropout of the sublayer's output and the LayerNorm of a Pre-LN
  block in one Triton kernel forward and one backward, the dropout mask regenerated from a seed
  instead of stored; tested against PyTorch in Triton's interpreter, and the bytes it saves,
  counted.
section: Fast kernels
order: 32.5
nav: Add & Norm, fused
symbols: eps \epsilon; weight \gamma; bias \beta; mean \mu; p p
---

# Add & Norm, fused: residual add, dropout and LayerNorm in one Triton kernel

A Pre-LN Transformer block ([Post-LN vs Pre-LN](../transformer/index.md)) ends each sublayer with
the same three steps: drop out the sublayer's output $y$, add it to the residual stream $x$, and
normalize the sum for the next sublayer,

$$s = x + \operatorname{dropout}_p(y), \qquad
\text{out} = \gamma \odot \frac{s - \mu(s)}{\sigma(s)} + \beta$$

and both $s$ (the new residual stream) and $\text{out}$ (the next sublayer's input) are kept. In
eager PyTorch these are three kernels, and each one reads its inputs from memory and writes its
result back: the dropout writes $\operatorname{dropout}_p(y)$ and its mask, the add reads that
again with $x$ and writes $s$, the LayerNorm reads $s$ again. Each of these passes does a few
operations per element, so each is paid for by its memory traffic
([the section's landing page](index.md)). One kernel that reads $x$ and $y$ once and writes $s$
and $\text{out}$ once does the same work with fewer bytes.

This is what flash-attention's `layer_norm_fn(x, weight, bias, residual=..., dropout_p=...,
prenorm=True)` does (its `x` is our $y$, its `residual` our $x$), in a kernel that its header
says is based on the Triton LayerNorm tutorial
([L1-L4](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L1-L4)).
This page writes a small version of it on top of [our Triton LayerNorm](triton_layer_norm.md),
checks it against the unfused PyTorch code in Triton's interpreter on the CPU, and counts the
bytes both move. It does not time them: there is no GPU here, and the interpreter says nothing
about speed.

{{ dataflow }}

## What you will learn

* how to fuse an element-wise prologue (dropout, add) into a row-wise reduction kernel, and why the
  LayerNorm should see the $s$ it stores: [the forward kernel](#the-forward-kernel);
* how a dropout mask is regenerated from a seed in the backward instead of being stored, and how
  the residual stream's own gradient is added in: [the backward kernel](#the-backward-kernel);
* how to count the bytes an unfused graph moves, operation by operation:
  [the bytes it saves](#the-bytes-it-saves).
"""

import math
from typing import Optional, Tuple

import torch
from torch import nn

from labml_nn_norm._check import check, check_close, check_group, note, skipped
from labml_nn_norm.kernels.triton_layer_norm import (
    _block_size,
    _multiprocessors,
    _row_offset,
    triton,
)

# Importing our Triton LayerNorm (above) sets `TRITON_INTERPRET=1` when there is no GPU, before
# Triton is imported; its int64 row offset and its launch sizes are reused here

if triton is not None:
    import triton.language as tl

    @triton.jit
    def _keep(seed, offsets, p):
        # The dropout mask: keep an element when a uniform number in $[0, 1)$ from Philox,
        # keyed by the seed and counted by the element's int64 offset, is above $p$. The same
        # seed and offsets give the same mask, in the forward, the backward and `keep_mask`.
        # 7 rounds of Philox instead of Triton's default 10, as flash-attention uses
        return tl.rand(seed, offsets, n_rounds=7) > p

    @triton.jit
    def _keep_kernel(Keep,  # pointer to the mask, (rows, N) int8, written
                     N,  # columns per row
                     p,  # the dropout probability
                     seed,  # the seed the forward used
                     BLOCK: tl.constexpr):
        # The mask on its own, for the reference and the checks
        row = tl.program_id(0)
        offset = _row_offset(row, N)
        cols = tl.arange(0, BLOCK)
        keep = _keep(seed, offset + cols, p)
        tl.store(Keep + offset + cols, keep.to(tl.int8), mask=cols < N)

    @triton.jit
    def _forward_kernel(X,  # pointer to the residual stream, (rows, N) contiguous
                        Y,  # pointer to the sublayer's output, (rows, N), the same dtype
                        S,  # pointer to the new residual stream s, (rows, N), written
                        Out,  # pointer to LayerNorm(s), (rows, N), written
                        W,  # pointer to γ, (N,)
                        B,  # pointer to β, (N,)
                        Mean,  # pointer to μ per row, (rows,), written
                        Rstd,  # pointer to 1/σ per row, (rows,), written
                        N,  # columns per row, d_model
                        eps,  # ε, added to σ²
                        p,  # the dropout probability
                        seed,  # the dropout seed (int)
                        HAS_DROPOUT: tl.constexpr,  # p > 0
                        ACC: tl.constexpr,  # float32, or float64 for float64 inputs
                        BLOCK: tl.constexpr):  # tile width, a power of two >= N
        r"""
        ## The forward kernel

        One program per row, the whole row in one tile (`BLOCK` $\ge$ `N`; the tile's tail past
        `N` is masked). It loads $x$ and $y$ once, drops out $y$, adds, stores $s$, and then
        normalizes the values it already holds: $s$ is never read back. The dropout mask is not
        stored either; the backward makes it again from the seed.

        $s$ is rounded to its dtype *before* the statistics, so that $\text{out}$ is exactly the
        LayerNorm of the stored $s$, as in the unfused code, and the backward, which reads the
        stored $s$, differentiates the function the forward computed. flash-attention normalizes
        the unrounded float32 sum and stores the rounded one
        ([L254-L266](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L254-L266));
        with `residual_in_fp32=True` it keeps $s$ in float32 for half-precision activations
        ([L886-L890](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L886-L890)),
        which we do not offer.
        """
        row = tl.program_id(0)
        # The row's first element, in int64: also the first Philox counter of the row
        offset = _row_offset(row, N)
        cols = tl.arange(0, BLOCK)
        mask = cols < N
        x = tl.load(X + offset + cols, mask=mask, other=0.0).to(ACC)
        y = tl.load(Y + offset + cols, mask=mask, other=0.0).to(ACC)
        #
        # $\operatorname{dropout}_p(y)$: zero, or $y / (1 - p)$, as `F.dropout` scales it
        if HAS_DROPOUT:
            y = tl.where(_keep(seed, offset + cols, p), y / (1.0 - p), 0.0)
        # $s = x + \operatorname{dropout}_p(y)$, stored, and rounded as stored
        s = (x + y).to(S.dtype.element_ty)
        tl.store(S + offset + cols, s, mask=mask)
        s = s.to(ACC)
        #
        # Two-pass statistics on the values in hand, then
        # $\text{out} = \gamma\,(s - \mu)/\sigma + \beta$
        mean = tl.sum(s, axis=0) / N
        d = tl.where(mask, s - mean, 0.0)
        rstd = 1.0 / tl.sqrt(tl.sum(d * d, axis=0) / N + eps)
        tl.store(Mean + row, mean)
        tl.store(Rstd + row, rstd)
        w = tl.load(W + cols, mask=mask, other=0.0).to(ACC)
        b = tl.load(B + cols, mask=mask, other=0.0).to(ACC)
        tl.store(Out + offset + cols, d * rstd * w + b, mask=mask)

    @triton.jit
    def _backward_kernel(S,  # pointer to s, saved by the forward, (rows, N)
                         DOut,  # pointer to the gradient of out, (rows, N)
                         DRes,  # pointer to the gradient of s from later blocks; if HAS_DRES
                         DX,  # pointer to the gradient of x, (rows, N), written
                         DY,  # pointer to the gradient of y, (rows, N), written if HAS_DROPOUT
                         W,  # pointer to γ, (N,)
                         Mean,  # pointer to μ per row
                         Rstd,  # pointer to 1/σ per row
                         DW_partial,  # pointer to (programs, N): row `pid` written once
                         DB_partial,  # pointer to (programs, N): likewise, for dβ
                         rows,  # number of rows
                         N,  # columns per row
                         p,  # the dropout probability
                         seed,  # the seed the forward used
                         HAS_DRES: tl.constexpr,  # whether s itself received a gradient
                         HAS_DROPOUT: tl.constexpr,  # p > 0
                         ACC: tl.constexpr,  # float32, or float64 for float64 inputs
                         BLOCK: tl.constexpr):  # tile width, a power of two >= N
        r"""
        ## The backward kernel

        $s$ is used twice: by the LayerNorm, and as the residual stream that later blocks add to.
        So its gradient is the sum of both,

        $$ds = \frac{1}{\sigma}\Big(g - \overline{g} - \hat{s}\,\overline{g\hat{s}}\Big)
        + ds_{\text{res}}, \qquad g = \gamma\,d\text{out}$$

        ([the LayerNorm backward](../layer_norm/backward.md)), and then the add hands $ds$ to both
        of its inputs: $dx = ds$, and $dy = ds \cdot \text{keep} / (1 - p)$, with the mask
        made again from the seed. Like
        [our Triton LayerNorm's](triton_layer_norm.md#the-backward-kernel), program `pid`
        takes rows `pid`, `pid + P`, …, and keeps its sums of
        $d\text{out}\,\hat{s}$ and $d\text{out}$ in registers, stored once into its own row of
        the partial buffers.

        flash-attention does the same: it adds the incoming `DRESIDUAL` to $dx$
        ([L598-L603](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L598-L603)),
        regenerates the keep mask from the row's seed with `tl.rand` and scales
        ([L613-L615](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L613-L615)),
        and without dropout hands the same tensor to both inputs
        ([L690-L691](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L690-L691)),
        as our wrapper does.
        """
        pid = tl.program_id(0)
        programs = tl.num_programs(0)
        cols = tl.arange(0, BLOCK)
        mask = cols < N
        w = tl.load(W + cols, mask=mask, other=0.0).to(ACC)
        dw = tl.zeros([BLOCK], dtype=ACC)
        db = tl.zeros([BLOCK], dtype=ACC)
        for row in range(pid, rows, programs):
            offset = _row_offset(row, N)
            s = tl.load(S + offset + cols, mask=mask, other=0.0).to(ACC)
            s_hat = tl.where(mask, (s - tl.load(Mean + row)) * tl.load(Rstd + row), 0.0)
            dout = tl.load(DOut + offset + cols, mask=mask, other=0.0).to(ACC)
            # The LayerNorm's part of $ds$
            g = dout * w
            ds = (g - tl.sum(g, axis=0) / N - s_hat * (tl.sum(g * s_hat, axis=0) / N)) \
                * tl.load(Rstd + row)
            # The residual stream's part
            if HAS_DRES:
                ds += tl.load(DRes + offset + cols, mask=mask, other=0.0).to(ACC)
            #
            # $dx = ds$; $dy = ds \cdot \text{keep} / (1 - p)$, the mask made again
            tl.store(DX + offset + cols, ds, mask=mask)
            if HAS_DROPOUT:
                dy = tl.where(_keep(seed, offset + cols, p), ds / (1.0 - p), 0.0)
                tl.store(DY + offset + cols, dy, mask=mask)
            dw += dout * s_hat
            db += dout
        tl.store(DW_partial + _row_offset(pid, N) + cols, dw, mask=mask)
        tl.store(DB_partial + _row_offset(pid, N) + cols, db, mask=mask)


def _launch_sizes(x: torch.Tensor) -> Tuple[int, int, int, torch.dtype]:
    # (rows, N, BLOCK, the accumulator dtype); a row is one tile of at most 64 KB, the limit
    # flash-attention sets too
    N = x.shape[-1]
    block = _block_size(N, 65536 // x.element_size())
    if N > block:
        raise ValueError(f'fused_add_norm: rows of {N} {x.dtype} elements are over 64 KB')
    return x.numel() // max(N, 1), N, block, (torch.float64 if x.dtype == torch.float64
                                              else torch.float32)


class FusedAddNormFunction(torch.autograd.Function):
    """
    ## Wrapping the kernels for autograd

    Two outputs, $\\text{out}$ and $s$; either may get no gradient (`None`, since grads are not
    materialized): an unused $s$ launches the backward without `HAS_DRES`.
    """

    @staticmethod
    def forward(ctx, x, y, weight, bias, p, seed, eps):
        rows, N, block, acc = _launch_sizes(x)
        x2, y2 = x.reshape(rows, N).contiguous(), y.reshape(rows, N).contiguous()
        s, out = torch.empty_like(x2), torch.empty_like(x2)
        mean = torch.empty(rows, dtype=acc, device=x.device)
        rstd = torch.empty(rows, dtype=acc, device=x.device)
        if rows:
            _forward_kernel[(rows,)](x2, y2, s, out, weight.contiguous(), bias.contiguous(),
                                     mean, rstd, N, eps, p, seed, HAS_DROPOUT=p > 0,
                                     ACC=_tl_dtype(acc), BLOCK=block)
        # Saved: s, not x and y; and the seed, not the mask
        ctx.save_for_backward(s, weight, mean, rstd)
        ctx.p, ctx.seed, ctx.shape = p, seed, x.shape
        ctx.set_materialize_grads(False)
        return out.reshape(x.shape), s.reshape(x.shape)

    @staticmethod
    def backward(ctx, dout, dres):
        s, weight, mean, rstd = ctx.saved_tensors
        rows, N = s.shape
        _, _, block, acc = _launch_sizes(s)
        dout = torch.zeros_like(s) if dout is None else dout.reshape(rows, N).contiguous()
        if dres is not None:
            dres = dres.reshape(rows, N).contiguous()
        programs = max(1, min(rows, 4 * _multiprocessors(s.device)))
        dx = torch.empty_like(s)
        # Without dropout $dy = dx$: one tensor serves both
        dy = torch.empty_like(s) if ctx.p > 0 else dx
        dw_partial = torch.zeros(programs, N, dtype=acc, device=s.device)
        db_partial = torch.zeros(programs, N, dtype=acc, device=s.device)
        if rows:
            _backward_kernel[(programs,)](s, dout, dres if dres is not None else s, dx, dy,
                                          weight.contiguous(), mean, rstd, dw_partial,
                                          db_partial, rows, N, ctx.p, ctx.seed,
                                          HAS_DRES=dres is not None, HAS_DROPOUT=ctx.p > 0,
                                          ACC=_tl_dtype(acc), BLOCK=block)
        # Without dropout, the *same* tensor object for both, as `torch.add`'s backward returns:
        # autograd then sees it shared and copies it before storing it in a leaf's `.grad`.
        # (Two views of one buffer would both be stored, and the next accumulation into one
        # would change the other: `tests/test_fused_add_norm.py` checks this.)
        dx = dx.reshape(ctx.shape)
        dy = dx if ctx.p == 0 else dy.reshape(ctx.shape)
        return (dx, dy, dw_partial.sum(0).to(weight.dtype), db_partial.sum(0).to(weight.dtype),
                None, None, None)


def _tl_dtype(dtype: torch.dtype):
    # The Triton dtype the kernels accumulate in
    return tl.float64 if dtype == torch.float64 else tl.float32


def fused_add_norm(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                   p: float = 0.0, seed: int = 0,
                   eps: float = 1e-5) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""
    ## The functional form

    Returns $(\text{out}, s)$ for $s = x + \operatorname{dropout}_p(y)$ over the last dimension.
    Pass `p = 0` outside training. The same `seed` gives the same mask (`keep_mask`).
    """
    if triton is None:
        raise RuntimeError('fused_add_norm needs Triton (pip install triton)')
    if x.shape != y.shape or weight.shape != x.shape[-1:] or bias.shape != x.shape[-1:]:
        raise ValueError(f'fused_add_norm: x {tuple(x.shape)} and y {tuple(y.shape)} must match, '
                         f'weight and bias be ({x.shape[-1]},)')
    if not 0.0 <= p < 1.0:
        raise ValueError(f'fused_add_norm: p = {p} is not in [0, 1)')
    return FusedAddNormFunction.apply(x, y, weight, bias, float(p), int(seed), eps)


def keep_mask(shape, p: float, seed: int, device='cpu') -> torch.Tensor:
    """The mask the kernels make for `seed`: `True` where $y$ is kept. For the reference."""
    N = shape[-1]
    rows = math.prod(shape) // max(N, 1)
    keep = torch.empty(rows, N, dtype=torch.int8, device=device)
    if rows and p > 0:
        _keep_kernel[(rows,)](keep, N, p, seed, BLOCK=_block_size(N, 65536))
    elif rows:
        keep.fill_(1)
    return keep.bool().reshape(shape)


class FusedAddNorm(nn.Module):
    """
    ## The module: Add & Norm of a Pre-LN block

    `FusedAddNorm(d_model, p)(x, y)` returns $(\\text{out}, s)$: $\\text{out}$ feeds the next
    sublayer, $s$ is the residual stream the sublayer after that adds to. The dropout is on
    only in training; each call draws its seed from PyTorch's generator, so
    `torch.manual_seed` makes a run repeatable. `weight` and `bias` are `nn.LayerNorm`'s names.
    """

    def __init__(self, d_model: int, p: float = 0.0, eps: float = 1e-5):
        super().__init__()
        self.p, self.eps = p, eps
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))
        self.last_seed: Optional[int] = None

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        p = self.p if self.training else 0.0
        # A fresh seed per call; kept so that a test can rebuild the mask
        self.last_seed = int(torch.randint(2 ** 31 - 1, ()))
        return fused_add_norm(x, y, self.weight, self.bias, p, self.last_seed, self.eps)


def reference_add_norm(x, y, weight, bias, p: float, keep: Optional[torch.Tensor], eps=1e-5):
    r"""
    ## The unfused reference

    `s = x + F.dropout(y, p)` and `F.layer_norm(s)`, with the dropout applied through a given
    mask (`keep`) as `F.dropout` applies its own: kept elements times $1/(1-p)$, the others 0.
    """
    import torch.nn.functional as F
    if p > 0:
        y = y * keep * (1.0 / (1.0 - p))
    else:
        y = F.dropout(y, p, training=True)
    s = x + y
    return F.layer_norm(s, s.shape[-1:], weight, bias, eps), s


def run_both(shape, p: float, dtype=torch.float32, seed: int = 7, prenorm: bool = True,
             device='cpu'):
    """
    Ours and the reference on the same data and mask, forward and backward (the loss uses
    $\\text{out}$ and, with `prenorm`, $s$ too). Returns `[out, s, dx, dy, dγ, dβ]` for each.
    """
    g = torch.Generator().manual_seed(0)
    N = shape[-1]
    x = (torch.randn(shape, generator=g) * 2 + 3).to(device, dtype)
    y = torch.randn(shape, generator=g).to(device, dtype)
    w = torch.randn(N, generator=g).to(device, dtype)
    b = torch.randn(N, generator=g).to(device, dtype)
    dout = torch.randn(shape, generator=g).to(device, dtype)
    dres = torch.randn(shape, generator=g).to(device, dtype)
    keep = keep_mask(shape, p, seed, device)
    results = []
    for fn in (lambda *a: fused_add_norm(*a, p=p, seed=seed),
               lambda *a: reference_add_norm(*a, p=p, keep=keep)):
        leaves = [t.clone().requires_grad_() for t in (x, y, w, b)]
        out, s = fn(*leaves)
        loss = (out * dout).sum() + ((s * dres).sum() if prenorm else 0)
        loss.backward()
        results.append([out, s] + [t.grad for t in leaves])
    return results[0], results[1]


TOLERANCES = {torch.float32: dict(atol=1e-4, rtol=1e-4),
              torch.bfloat16: dict(atol=6e-2, rtol=2e-2),
              torch.float64: dict(atol=1e-10, rtol=1e-10)}


# ## The bytes it saves
#
# Both sides are counted in bytes of full-size tensors, those of rows × cols elements: each
# read or write of one costs rows × cols × its element size. $\gamma$, $\beta$, their
# gradients and the per-row statistics are left out; they are per column or per row. The
# unfused side is counted *from PyTorch* on the CPU: a dispatch mode sees each ATen operation
# the eager code runs, forward and backward, and adds up the full-size tensors it takes and
# returns
# (the method of [the CPU page's `aten_traffic`](fused_cpu.md), in bytes). Its dropout is
# `aten.native_dropout`, which returns the kept values and a one-byte `bool` mask; we think this
# is what `F.dropout` runs on a GPU, but have not read that dispatch.
#
# The fused side is the kernels' own loads and stores: forward, $x$ and $y$ read, $s$ and
# $\text{out}$ written; backward, $s$, $d\text{out}$ and $ds_{\text{res}}$ read, $dx$ written,
# and $dy$ written only with dropout.

def unfused_bytes(rows: int, cols: int, dtype=torch.bfloat16, p: float = 0.1) -> dict:
    """
    Bytes of full-size tensors the eager PyTorch Add & Norm moves: forward, and backward with
    gradients reaching both $\\text{out}$ and $s$. Counted on a small 6 × 10 input of the same
    dtype and scaled to rows × cols: every full-size tensor's bytes are proportional to it.
    """
    import torch.nn.functional as F
    from torch.utils._python_dispatch import TorchDispatchMode
    small_rows, small_cols = 6, 10
    full = small_rows * small_cols
    counts = {'forward': 0, 'backward': 0}
    phase = ['forward']
    moves_nothing = {torch.ops.aten.view, torch.ops.aten._unsafe_view, torch.ops.aten.detach,
                     torch.ops.aten.t, torch.ops.aten.alias, torch.ops.aten.expand,
                     torch.ops.aten.empty_like, torch.ops.aten.empty,
                     torch.ops.aten.new_empty_strided}

    def size(t) -> int:
        # Bytes of a full-size tensor, 0 for the per-row and per-column ones
        return t.numel() * t.element_size() if isinstance(t, torch.Tensor) and \
            t.numel() == full else 0

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if func.overloadpacket not in moves_nothing:
                outs = out if isinstance(out, (tuple, list)) else (out,)
                counts[phase[0]] += sum(map(size, args)) + sum(map(size, outs))
            return out

    x, y, dout, dres = (torch.randn(small_rows, small_cols).to(dtype) for _ in range(4))
    w, b = torch.ones(small_cols, dtype=dtype), torch.zeros(small_cols, dtype=dtype)
    for t in (x, y, w, b):
        t.requires_grad_()
    with Count():
        # `aten.native_dropout`: the kept values and the mask, both written
        dropped = torch.ops.aten.native_dropout(y, p, True)[0] if p > 0 else y
        s = x + dropped
        out = F.layer_norm(s, (small_cols,), w, b)
        phase[0] = 'backward'
        # `autograd.grad`, not `.backward()`: storing into `.grad` of leaves would add a copy
        # that a block inside a network, whose x is no leaf, does not make
        torch.autograd.grad([out, s], [x, y, w, b], [dout, dres])
    return {k: v * rows * cols // full for k, v in counts.items()}


def fused_bytes(rows: int, cols: int, dtype=torch.bfloat16, p: float = 0.1) -> dict:
    """The same count for the two kernels above."""
    a = rows * cols * torch.empty((), dtype=dtype).element_size()
    return {'forward': 4 * a, 'backward': (4 + (p > 0)) * a}


# The widths in the table: GPT-2 small, BERT-large / GPT-2 medium, LLaMA-7B, LLaMA-65B
WIDTHS = (768, 1024, 4096, 8192)
TOKENS = 8192


def bytes_table(rows: int = TOKENS, widths=WIDTHS, p: float = 0.1) -> str:
    """
    The table: forward + backward, for each width, in bfloat16 and float32, with and without
    dropout.
    """
    lines = [f'| width | dtype | unfused, MiB (p = {p}) | fused, MiB | unfused / fused '
             f'(p = {p}) | unfused / fused (p = 0) |', '| --- | --- | --- | --- | --- | --- |']
    for cols in widths:
        for dtype in (torch.bfloat16, torch.float32):
            ratios = []
            for q in (p, 0.0):
                u, f = unfused_bytes(rows, cols, dtype, q), fused_bytes(rows, cols, dtype, q)
                ratios.append((sum(u.values()), sum(f.values())))
            (u, f), (u0, f0) = ratios
            lines.append(f'| {cols} | {str(dtype).replace("torch.", "")} | {u / 2 ** 20:,.0f} | '
                         f'{f / 2 ** 20:,.0f} | {u / f:.2f} | {u0 / f0:.2f} |')
    return '\n'.join(lines)


def figure_dataflow(rows: int = TOKENS, cols: int = 4096, dtype=torch.bfloat16,
                    p: float = 0.1) -> str:
    """
    ## The data flow, drawn

    Top: the three eager kernels, every arrow into or out of the memory band a full-size
    tensor, labelled with its bytes; bottom: the fused forward. Drawn from `unfused_bytes` and
    `fused_bytes`, so other sizes redraw it.
    """
    from labml_nn_norm.layer_norm import FIGURE_COLOURS, svg_figure
    e = rows * cols * torch.empty((), dtype=dtype).element_size()
    mib = e / 2 ** 20
    u = unfused_bytes(rows, cols, dtype, p)['forward']
    f = fused_bytes(rows, cols, dtype, p)['forward']
    blue, orange = FIGURE_COLOURS['blue'], FIGURE_COLOURS['orange']

    def box(x, y, w, label, colour):
        return (f'<rect x="{x}" y="{y}" width="{w}" height="30" rx="4" fill="{colour}" '
                f'fill-opacity="0.25" stroke="{colour}"/><text x="{x + w / 2}" y="{y + 19}" '
                f'text-anchor="middle">{label}</text>')

    def arrow(x, top, down, label):
        # A read (down, from memory) labelled higher, a write (up, to memory) lower, so that
        # neighbouring labels do not overlap
        y1, y2 = (top, top + 46) if down else (top + 46, top)
        return (f'<path d="M{x},{y1}L{x},{y2}" stroke="currentColor" marker-end="url(#a)"/>'
                f'<text x="{x + 4}" y="{top + (16 if down else 36)}" font-size="10">{label}'
                '</text>')

    parts = ['<defs><marker id="a" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" '
             'markerHeight="6" orient="auto"><path d="M0,0L8,4L0,8Z" fill="currentColor"/>'
             '</marker></defs>']
    # The memory band, one for each half; arrows start or end on it
    for top in (60, 200):
        parts.append(f'<rect x="10" y="{top}" width="620" height="24" fill="currentColor" '
                     f'fill-opacity="0.08"/><text x="16" y="{top + 16}" font-size="10">'
                     'memory</text>')
    t = f'{mib:,.0f} MiB'
    parts.append(f'<text x="10" y="16" font-weight="bold">unfused: {u / 2 ** 20:,.0f} MiB '
                 'forward</text>')
    if p > 0:
        parts += [box(20, 130, 180, f'dropout (p = {p})', orange), arrow(40, 84, True, f'y {t}'),
                  arrow(110, 84, False, f'y′ {t}'),
                  arrow(175, 84, False, f'mask {mib / 2:,.0f} MiB')]
    parts += [box(240, 130, 160, 'add', orange), arrow(260, 84, True, f'x {t}'),
              arrow(320, 84, True, f'y′ {t}' if p > 0 else f'y {t}'),
              arrow(380, 84, False, f's {t}'),
              box(450, 130, 180, 'LayerNorm', orange), arrow(470, 84, True, f's {t}'),
              arrow(560, 84, False, f'out {t}')]
    parts.append(f'<text x="10" y="186" font-weight="bold">fused: {f / 2 ** 20:,.0f} MiB '
                 'forward</text>')
    parts += [box(150, 270, 340, 'dropout + add + LayerNorm: one kernel', blue),
              arrow(180, 224, True, f'x {t}'), arrow(260, 224, True, f'y {t}'),
              arrow(360, 224, False, f's {t}'), arrow(440, 224, False, f'out {t}')]
    label = (f'Data flow of Add & Norm for {rows} × {cols} {str(dtype)[6:]}, p = {p}: '
             f'three kernels moving {u / 2 ** 20:,.0f} MiB, or one moving {f / 2 ** 20:,.0f} MiB')
    caption = (f'For {rows} tokens of width {cols} in {str(dtype)[6:]} with p = {p}, the eager '
               f'forward moves {u / 2 ** 20:,.0f} MiB through memory and the fused kernel '
               f'{f / 2 ** 20:,.0f} MiB, {u / f:.2f}× fewer bytes: a count, not a timing.')
    return svg_figure(''.join(parts), 640, 310, label, caption)


# The table, for 8192 tokens (rows), forward + backward:
#
# {{ bytes_table }}
#
# Without dropout the saving is the intermediate $s$ read back by the LayerNorm, and the extra
# add of the two gradients of $s$ in the backward. With dropout the eager code also writes and
# reads $\operatorname{dropout}_p(y)$ and its mask, which the fused kernels never store. The
# ratio hardly depends on the width, since both counts are proportional to rows × cols; it
# depends on the dtype, because the mask is one byte whatever the dtype. These are counts of
# memory traffic. How much time they save on a GPU we have not measured: the kernels ran here
# only in Triton's interpreter. Transformer Engine takes another route, for comparison: its
# `TransformerLayer` fuses the bias, dropout and add into one compiled function,
# `torch.compile`d from PyTorch 2.2 on ([`jit.py` L46-L48](https://github.com/NVIDIA/TransformerEngine/blob/d0067d0da6cb01811b8072a7d304f0e00344ce2b/transformer_engine/pytorch/jit.py#L46-L48),
# [L283-L310](https://github.com/NVIDIA/TransformerEngine/blob/d0067d0da6cb01811b8072a7d304f0e00344ce2b/transformer_engine/pytorch/jit.py#L283-L310)),
# and hands the sum to `LayerNormMLP`
# ([`transformer.py` L934-L940](https://github.com/NVIDIA/TransformerEngine/blob/d0067d0da6cb01811b8072a7d304f0e00344ce2b/transformer_engine/pytorch/transformer.py#L934-L940)),
# a module that starts with the LayerNorm; we have not read whether that LayerNorm runs in the
# same kernel as the matrix product after it, so we do not count it.


@check_group
def _check_against_reference(device):
    r"""
    ## Checks: against the unfused PyTorch code

    $\text{out}$, $s$, $dx$, $dy$, $d\gamma$, $d\beta$ of ours and of `x + F.dropout(y)` then
    `F.layer_norm`, with the loss using both outputs (`prenorm`); with $p > 0$ the reference
    applies the mask `keep_mask` rebuilds from the seed. Ragged rows (the tile's tail past the
    row masked), rows spread unevenly over the backward's 4 programs, three dtypes.
    """
    cases = [((3, 37), 0.0, torch.float32, '3 rows of 37 (tile 64), p = 0'),
             ((2, 3, 24), 0.25, torch.float32, '6 rows of 24 on 4 programs, p = 0.25'),
             ((2, 40), 0.1, torch.bfloat16, 'bfloat16, 2 rows of 40, p = 0.1, s rounded first'),
             ((2, 20), 0.3, torch.float64, 'float64 (accumulated in float64), p = 0.3')]
    for shape, p, dtype, what in cases:
        ours, ref = run_both(shape, p, dtype, device=device)
        check_close(f'{what}: out, s, dx, dy, dγ, dβ', ours, ref, **TOLERANCES[dtype])
    ours, ref = run_both((2, 33), 0.5, prenorm=False, device=device)
    check_close('s not used by the loss (no gradient into s): dx, dy, dγ, dβ', ours, ref,
                **TOLERANCES[torch.float32])


@check_group
def _check_dropout_mask(device):
    r"""
    ## Checks: the dropout mask, made again from the seed

    The mask is never stored, so these checks read it off the results: with $y$ drawn around 10,
    far from 0 and from $x$'s rounding, $s = x$ exactly only where $y$ was dropped, and there the
    backward's $dy$ must be exactly 0. Over $n$ elements the kept
    count is Binomial$(n, 1 - p)$: it must lie within 4 standard deviations of $n(1-p)$.
    """
    x = torch.randn(2, 4096, device=device)
    y = torch.randn(2, 4096, device=device) + 10  # never 0, so a dropped y shows in s
    w, b = torch.ones(4096, device=device), torch.zeros(4096, device=device)
    yl = y.clone().requires_grad_()
    out, s = fused_add_norm(x, yl, w, b, p=0.3, seed=11)
    out.sum().backward(retain_graph=True)
    dropped = s == x
    check('s = x exactly where keep_mask is False, and nowhere else (the forward used it)',
          torch.equal(~dropped, keep_mask(x.shape, 0.3, 11, device)),
          f'{int(dropped.sum())} of {x.numel()} dropped')
    check('dy is exactly 0 where y was dropped (the backward made the same mask)',
          bool((yl.grad[dropped] == 0).all()) and bool((yl.grad[~dropped] != 0).all()))
    check('seed 12 gives another mask', not torch.equal(keep_mask(x.shape, 0.3, 11, device),
                                                        keep_mask(x.shape, 0.3, 12, device)))
    shape = (2, 8192)
    n = math.prod(shape)
    for p in (0.1, 0.5):
        for seed in (1, 2):
            kept = int(keep_mask(shape, p, seed, device).sum())
            sd = math.sqrt(n * p * (1 - p))
            check(f'p = {p}, seed {seed}: kept {kept} of {n}, within n(1-p) ± 4σ',
                  abs(kept - n * (1 - p)) <= 4 * sd,
                  f'n(1-p) = {n * (1 - p):.0f}, σ = {sd:.1f}')


def gradcheck_both(shape=(3, 5), p: float = 0.4, seed: int = 5, device='cpu') -> bool:
    """
    `torch.autograd.gradcheck` of the backward kernel against finite differences of the forward
    kernel, in float64 (the kernels then accumulate in float64), for $x$, $y$, $\\gamma$ and
    $\\beta$ at once. About 100 launches: too slow for the interpreter in `_test()`, so
    `tests/test_fused_add_norm.py` runs it.
    """
    g = torch.Generator().manual_seed(1)
    N = shape[-1]
    inputs = [torch.randn(s, generator=g, dtype=torch.float64).to(device).requires_grad_()
              for s in (shape, shape, (N,), (N,))]
    return torch.autograd.gradcheck(lambda *a: fused_add_norm(*a, p=p, seed=seed), inputs,
                                    eps=1e-6, atol=1e-7)


@check_group
def _check_bytes(device):
    """
    ## Checks: the bytes, counted

    The counter sees what the text says the eager code does: without dropout, 5 full-size
    tensors forward (the add 2 + 1, the LayerNorm 1 + 1) and 6 backward (the LayerNorm's
    backward 2 + 1, the add of the two gradients of s 2 + 1); with dropout, the dropout reads
    one full-size tensor and writes one, and adds a one-byte mask, each way, on top. The fused
    side counts 4 and 4 (5 with dropout).
    """
    rows, cols = 48, 40
    for dtype in (torch.bfloat16, torch.float32):
        a = torch.empty((), dtype=dtype).element_size()
        e = rows * cols
        for p, fwd, bwd in ((0.0, 5 * a, 6 * a), (0.1, 7 * a + 1, 8 * a + 1)):
            u = unfused_bytes(rows, cols, dtype, p)
            check(f'{str(dtype)[6:]}, p = {p}: eager forward {fwd}, backward {bwd} bytes per '
                  'element', u == {'forward': fwd * e, 'backward': bwd * e}, str(u))
    x = torch.randn(2, cols, device=device)
    out, s = fused_add_norm(x, x.clone(), torch.ones(cols), torch.zeros(cols), p=0.1)
    check('fused forward: its inputs and outputs are the 4 full-size tensors counted',
          sum(t.nbytes for t in (x, x, out, s)) == fused_bytes(2, cols, torch.float32,
                                                                0.1)['forward'])
    mask = torch.ops.aten.native_dropout(torch.randn(4, 4), 0.1, True)[1]
    check('aten.native_dropout keeps a one-byte bool mask', mask.dtype == torch.bool
          and mask.element_size() == 1)
    u, f = unfused_bytes(TOKENS, 4096), fused_bytes(TOKENS, 4096)
    note('8192 × 4096 bfloat16, p = 0.1, forward + backward',
         f'{sum(u.values()) / 2 ** 20:,.0f} MiB unfused, {sum(f.values()) / 2 ** 20:,.0f} MiB '
         f'fused (a count, not a time)')


@check_group
def _check_module_and_figure(device):
    """
    ## Checks: the module, and the figure is the count

    `FusedAddNorm` in training drops with its own seed and matches the reference with that
    seed's mask; in eval it does not drop. The figure is a named SVG that other sizes redraw.
    """
    from labml_nn_norm.layer_norm import check_figure
    torch.manual_seed(0)
    m = FusedAddNorm(24, p=0.2).to(device)
    x, y = torch.randn(2, 24, device=device), torch.randn(2, 24, device=device)
    out, s = m(x, y)
    ref = reference_add_norm(x, y, m.weight, m.bias, 0.2, keep_mask(x.shape, 0.2, m.last_seed))
    check_close('training: (out, s) equal the reference with the seed it drew', [out, s], ref)
    m.eval()
    check_close('eval: no dropout, s = x + y', m(x, y)[1], x + y)
    check_figure('data-flow figure', figure_dataflow(), figure_dataflow(cols=768, p=0.0))


def _artifacts():
    """
    ## The table and the figure, computed when the site is built
    """
    return {'bytes_table': bytes_table(), 'dataflow': figure_dataflow()}


def interpreter_unusable() -> Optional[str]:
    """
    Why the kernels cannot run here, or `None`. On the CPU, Triton's own library functions
    (`tl.sum`, `tl.rand`) must have been built interpreted too, which happens only if
    `TRITON_INTERPRET=1` was set before anything imported Triton; `import torch._dynamo` imports
    it, for one.
    """
    if triton is None:
        return 'Triton is not installed (pip install triton)'
    if torch.cuda.is_available():
        return None
    from triton.runtime.interpreter import InterpretedFunction
    if not isinstance(tl.sum, InterpretedFunction):
        return ('Triton was imported before TRITON_INTERPRET=1 was set, so its library is not '
                'interpreted; run with TRITON_INTERPRET=1 in the environment')
    return None


def _test():
    """
    ## Checks (Triton's interpreter on the CPU, or the GPU if there is one)
    """
    reason = interpreter_unusable()
    if reason:
        skipped('fused Add & Norm vs PyTorch, all the checks of this page', reason)
        return
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    _check_against_reference(device)
    _check_dropout_mask(device)
    skipped('gradcheck in float64 (gradcheck_both)',
            'about 100 interpreted launches; tests/test_fused_add_norm.py runs it')
    _check_bytes(device)
    _check_module_and_figure(device)


if __name__ == '__main__':
    _test()

# ## Sources
#
# * flash-attention, [`flash_attn/ops/triton/layer_norm.py`](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L174-L287)
#   (commit `0251105`): `_layer_norm_fwd_1pass_kernel`, the dropout mask from
#   `tl.rand(seed of the row, cols, n_rounds=7)`
#   ([L233-L237](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L233-L237)),
#   the residual added and stored when `STORE_RESIDUAL_OUT`
#   ([L254-L258](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L254-L258));
#   one random int64 seed per row
#   ([L407-L412](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L407-L412)),
#   where we use one seed and the element's offset; rows up to 64 KB
#   ([L421-L425](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L421-L425));
#   the backward, `DRESIDUAL` added and the mask regenerated
#   ([L485-L640](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L485-L640));
#   `LayerNormFn`, saving `residual_out` rather than the inputs and returning
#   `(y, residual_out)` when `prenorm`
#   ([L846-L935](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L846-L935)),
#   and `layer_norm_fn`
#   ([L1010-L1049](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L1010-L1049)).
# * Transformer Engine (commit `d0067d0`): `bias_dropout_add` and its `torch.compile`d
#   training form in [`transformer_engine/pytorch/jit.py`](https://github.com/NVIDIA/TransformerEngine/blob/d0067d0da6cb01811b8072a7d304f0e00344ce2b/transformer_engine/pytorch/jit.py#L283-L310),
#   used by `TransformerLayer._bias_dropout_add` in
#   [`transformer.py`](https://github.com/NVIDIA/TransformerEngine/blob/d0067d0da6cb01811b8072a7d304f0e00344ce2b/transformer_engine/pytorch/transformer.py#L959-L990).
#   Its fused LayerNorm kernels we did not read.
# * Triton 3.9.0, the installed `triton/language/random.py`: `tl.rand` is Philox keyed by the
#   seed and counted by the offsets, which may be int64 (their high 32 bits become a second
#   counter word).
# * [Our Triton LayerNorm](triton_layer_norm.md), whose int64 row offsets, launch sizes and
#   partial-sum backward this page reuses.
