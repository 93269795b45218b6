r"""
---
title: A LayerNorm kernel in Triton
summary: A fused LayerNorm forward and backward in Triton - one program per row, statistics in
  float32, Chan's merge across column tiles, lock-free partial sums for the weight gradients -
  compared with the Triton tutorial's kernel, and tested on the CPU with Triton's interpreter.
section: Fast kernels
order: 32
---

# A LayerNorm kernel in Triton

[Triton](https://triton-lang.org) kernels are written per *program instance*: the launch grid
says how many programs run, and each one works on blocks of values; `tl.arange(0, BLOCK)` is a
vector of `BLOCK` lanes that the compiler spreads over the threads of one thread block (its
size is the launch option `num_warps`; we keep Triton's default). Our kernel follows the plan of
[the section's landing page](index.md):

* the input is viewed as `(rows, cols)`, `cols` $= H$, the product of `normalized_shape`;
* **one program per row**; it loads the row in tiles of `BLOCK` columns (a power of two, masked at
  the ragged end), computes $\mu$ and $1/\sigma$ in float32, and writes $y$ in the input's dtype
  plus $\mu$ and $1/\sigma$ for the backward pass;
* if the row fits in one tile (`cols <= BLOCK`), $x$ is **loaded once** and the loaded value is
  reused for the output, as OneFlow's warp and shared-memory paths do (where the compiled kernel
  keeps that tile, registers or shared memory, is the compiler's choice; we have not inspected
  it); otherwise the statistics take one pass over the tiles, merging each tile's
  $(n, \bar{x}, M_2)$ with [Chan's formula](../numerics/index.md), and the output a second pass
  (like OneFlow's "uncached" path);
* the backward pass runs a fixed number of programs, each taking every $P$-th row: two row
  reductions $\overline{g}$ and $\overline{g\hat{x}}$ for $dx$
  ([the formula](../layer_norm/backward.md)), and sums of $dy\,\hat{x}$ and $dy$ over the
  program's rows for $d\gamma$ and $d\beta$, kept in registers and stored once, one float32
  row per program, added up in a second step;
* a row's offset, row × columns, is computed in int64, since the int32 product wraps once a
  row starts at element $2^{31}$ or later; and the backward computes only the gradients autograd
  asks for.

The docstrings of the two kernels compare each with
[the Triton tutorial's LayerNorm](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L48-L95),
which a learner usually meets first.

## What you will learn

* how one program per row loads, reduces and writes a row, once or in tiles merged with Chan's
  formula: [the forward kernel](#the-forward-kernel) and
  [its checks](#against-flayer_norm-y-dx-d-d-over-shapes-tiles-dtypes-and-flags);
* how the backward sums $d\gamma$ and $d\beta$ in registers and stores them once per program:
  [the partial sums](#checks-the-partial-sums-are-stored-once-per-program);
* why a row's offset is computed in int64, and how to skip the gradients nobody asked for:
  [offsets and needed gradients](#checks-int64-row-offsets-and-only-the-gradients-asked-for);
* how to run and test Triton kernels without a GPU, with `TRITON_INTERPRET=1`:
  [running without a GPU](#running-without-a-gpu-the-kernels-are-interpreted).
"""

import math
import os
from typing import Optional

import torch

from labml_nn_norm._check import check, check_close, check_group, check_raises, skipped
from labml_nn_norm.layer_norm import _shape_t, check_normalized_shape, normalized_shape_tuple

# **Running it without a GPU.** With no CUDA device, importing this module sets
# `TRITON_INTERPRET=1` (unless you set it yourself) *before* importing Triton. In the installed
# Triton (3.9.0), `triton.jit` reads that setting when it decorates a function and then returns an
# interpreted kernel, which runs the programs of the grid one after another on CPU tensors, with
# NumPy; `_test()` checks that the kernels here are interpreted ones. Speed means something only on
# a GPU; `scripts/benchmark_kernels.py` measures it there.
#
# Must happen before Triton is imported: `triton.jit` reads it when a kernel is defined
if not torch.cuda.is_available():
    os.environ.setdefault('TRITON_INTERPRET', '1')
try:
    import triton
    import triton.language as tl
except ImportError:  # the page still imports; `triton_layer_norm` says what is missing
    triton = None

if triton is not None:
    @triton.jit
    def _row_offset(row, stride):
        # The element offset of a row's start, computed in int64. A program id is int32, and so
        # is an integer argument below $2^{31}$: their product wraps once a row's start, row ×
        # cols, reaches $2^{31}$, and the kernel reads and writes at a negative offset
        return tl.cast(row, tl.int64) * stride

    @triton.jit
    def _row_offset_kernel(Out,  # pointer to 2 int64: ours, then the plain int32 product
                           first_row,  # the row number the single program looks at (int32)
                           stride):  # elements per row (int32)
        # A test of the offset arithmetic that allocates 2 numbers, not $2^{31}$ elements
        row = tl.program_id(0) + first_row
        tl.store(Out, _row_offset(row, stride))
        tl.store(Out + 1, (row * stride).to(tl.int64))

    @triton.jit
    def _forward_kernel(X,  # pointer to the input, (rows, N) contiguous, any float dtype
                        Y,  # pointer to the output, (rows, N), the input's dtype
                        W,  # pointer to γ, (N,); read only if HAS_W
                        B,  # pointer to β, (N,); read only if HAS_B
                        Mean,  # pointer to μ per row, (rows,) float32, written
                        Rstd,  # pointer to 1/σ per row, (rows,) float32, written
                        stride,  # elements from one row's start to the next (N: contiguous)
                        N,  # columns per row, H
                        eps,  # ε, added to σ² (float)
                        HAS_W: tl.constexpr,  # whether there is a γ
                        HAS_B: tl.constexpr,  # whether there is a β
                        BLOCK: tl.constexpr,  # tile width, a power of two
                        ONE_TILE: tl.constexpr):  # N <= BLOCK: the row is loaded once
        r"""
        ## The forward kernel

        One program per row. `ONE_TILE` (known at compile time) picks the path that loads $x$
        once.

        **Against the tutorial.** The tutorial's `_layer_norm_fwd_fused` has three loops over the
        row, and each loads $x$: the sum for the mean
        ([L68-L72](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L68-L72)),
        the squared deviations from it
        ([L74-L81](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L74-L81)),
        and the output
        ([L86-L95](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L86-L95)).
        Its wrapper sets `BLOCK_SIZE` to the next power of two of `N` and raises an error when a
        row is over 64 KB
        ([L245-L248](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L245-L248)),
        so each loop runs once, over the whole row, and the source loads $x$ three times (whether
        the compiler turns the second and third loads into cache hits we have not checked). Its
        variance is two-pass over the row. Ours loads a one-tile row once and reuses the value; a
        row longer than `max_block` (4096 columns by default) takes two loads, the statistics
        merged tile by tile with Chan's formula, where the tutorial takes any row up to 64 KB as
        one tile and refuses longer ones. The tutorial also normalizes over the last dimension only
        (`x.reshape(-1, x.shape[-1])`,
        [L240](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L240))
        and always loads $\gamma$ and $\beta$; ours takes any `normalized_shape` and optional
        ones.
        """
        row = tl.program_id(0)
        # The row's first element, in int64 (see `_row_offset`)
        offset = _row_offset(row, stride)
        X += offset
        Y += offset
        cols = tl.arange(0, BLOCK)
        if ONE_TILE:
            # The whole row in one tile: one load, two-pass statistics on the loaded values
            mask = cols < N
            x = tl.load(X + cols, mask=mask, other=0.0).to(tl.float32)
            mean = tl.sum(x, axis=0) / N
            d = tl.where(mask, x - mean, 0.0)
            rstd = 1.0 / tl.sqrt(tl.sum(d * d, axis=0) / N + eps)
        else:
            # Tile by tile: each tile's $(n, \bar{x}, M_2)$ merged into the running ones (Chan)
            n = 0.0
            mean = 0.0
            m2 = 0.0
            for start in range(0, N, BLOCK):
                c = start + cols
                mask = c < N
                x = tl.load(X + c, mask=mask, other=0.0).to(tl.float32)
                t_n = tl.sum(mask.to(tl.float32), axis=0)
                t_mean = tl.sum(x, axis=0) / t_n
                d = tl.where(mask, x - t_mean, 0.0)
                t_m2 = tl.sum(d * d, axis=0)
                # $\delta = \bar{x}_t - \bar{x}$; $\bar{x} \mathrel{+}= \delta\,n_t/n$;
                # $M_2 \mathrel{+}= M_{2,t} + \delta^2 n\,n_t / (n + n_t)$
                total = n + t_n
                delta = t_mean - mean
                mean = mean + delta * (t_n / total)
                m2 = m2 + t_m2 + delta * delta * n * (t_n / total)
                n = total
            rstd = 1.0 / tl.sqrt(m2 / N + eps)
        tl.store(Mean + row, mean)
        tl.store(Rstd + row, rstd)
        #
        # $y = \gamma\,(x - \mu)/\sigma + \beta$, written in the input's dtype (the store converts)
        for start in range(0, N, BLOCK):
            c = start + cols
            mask = c < N
            if ONE_TILE:
                xv = x
            else:
                xv = tl.load(X + c, mask=mask, other=0.0).to(tl.float32)
            y = (xv - mean) * rstd
            if HAS_W:
                y = y * tl.load(W + c, mask=mask, other=0.0).to(tl.float32)
            if HAS_B:
                y = y + tl.load(B + c, mask=mask, other=0.0).to(tl.float32)
            tl.store(Y + c, y, mask=mask)

    @triton.jit
    def _backward_kernel(X,  # pointer to the input the forward saw, (rows, N) contiguous
                         DY,  # pointer to the output gradient, (rows, N), the input's dtype
                         DX,  # pointer to the input gradient, (rows, N), written if COMPUTE_DX
                         W,  # pointer to γ, (N,); read only if HAS_W
                         Mean,  # pointer to μ per row, (rows,) float32, from the forward
                         Rstd,  # pointer to 1/σ per row, (rows,) float32, from the forward
                         DW_partial,  # pointer to (programs, N) float32: row `pid` written once
                         DB_partial,  # pointer to (programs, N) float32: likewise, for dβ
                         RowMeans,  # pointer to (rows, 2) float32 scratch: mean g, mean g·x̂
                         stride,  # elements from one row's start to the next (N: contiguous)
                         N,  # columns per row, H
                         rows,  # number of rows
                         HAS_W: tl.constexpr,  # whether there is a γ
                         BLOCK: tl.constexpr,  # tile width, a power of two
                         ONE_TILE: tl.constexpr,  # N <= BLOCK: x and dy are loaded once
                         COMPUTE_DX: tl.constexpr,  # whether x needs its gradient
                         COMPUTE_DWDB: tl.constexpr):  # whether γ or β needs its gradient
        r"""
        ## The backward kernel

        Program `pid` takes rows `pid`, `pid + P`, `pid + 2P`, … (P programs). For each row it
        sums $g\hat{x}$ and $g$ ($g = dy\,\gamma$) and writes $dx$; $dy\,\hat{x}$ and $dy$ are
        added into two float32 vectors in registers, which the program stores once, into its own
        row of the partial buffers, when its rows are done. No two programs write the same memory,
        so no lock is needed, and the buffers are written once and never read by the kernel:
        $2 \times 4 \times P \times H$ bytes in all, whatever the number of rows (`_test()`
        checks their size, and that filling them with NaN first changes nothing).

        A one-tile row loads $x$ and $dy$ once. A longer row cannot keep a whole row of
        accumulators in registers, so the loops are turned around: pass 1 goes row by row and
        keeps each row's $\overline{g}$ and $\overline{g\hat{x}}$ in a scratch buffer (8 bytes
        per row); pass 2 goes tile by tile and, inside a tile, over the program's rows, writing
        $dx$ and accumulating that tile's $d\gamma$, $d\beta$ in registers, stored once per
        tile. Such a row loads $x$ and $dy$ in both passes.

        **Against the tutorial.** The tutorial's `_layer_norm_bwd_dx_fused` runs one program per
        row and loads it once
        ([L132-L194](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L132-L194)).
        Row `row` adds its $dy\,\hat{x}$ and $dy$ into buffer `row % GROUP_SIZE_M`
        ([L153-L157](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L153-L157)),
        and since many rows share a buffer, it takes a lock: it spins on
        `tl.atomic_cas(Lock, 0, 1)`, reads a `Count` flag that says whether the buffer already
        holds a sum (the first writer sets it with `tl.atomic_xchg` and stores without adding),
        adds and stores, then releases the lock with `tl.atomic_xchg(Lock, 0)`
        ([L175-L194](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L175-L194)).
        `GROUP_SIZE_M` is 64, 96, 128 or 256 depending on `N`, the locks and flags are one int32
        array of `2 * GROUP_SIZE_M`, and the partial buffers have the **input's dtype**
        ([L267-L274](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L267-L274)),
        so with float16 inputs each running sum is rounded to float16 after every row added. A
        second kernel, `_layer_norm_bwd_dwdb`, sums the partial rows in float32 tiles of
        32 × 128
        ([L197-L221](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L197-L221),
        launched at [L288-L293](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L288-L293)).
        Ours avoids the lock by giving each program its own partial row (the rows a program
        handles are fixed in advance), keeps the partials in float32, and sums them with
        `torch.sum` in the wrapper. An earlier version of this kernel loaded and stored its
        float32 partial row for every row it handled, 16 bytes per element (two loads and two
        stores of 4 bytes) on top of the 6 that float16 $x$, $dy$ and $dx$ need. The design
        here, accumulating in registers and storing once, is flash-attention's
        `_layer_norm_bwd_kernel`
        ([L485](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L485)):
        its accumulators start at zero
        ([L559](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L559)),
        each row adds into them ([L583](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L583)),
        and one store per program writes them
        ([L634-L636](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L634-L636));
        it launches 8 programs per multiprocessor, each over a contiguous block of rows
        ([L779-L788](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L779-L788)),
        and takes rows of up to 64 KB only
        ([L773-L776](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L773-L776)).
        apex does the same two steps with 16 partial rows (see [the landing page](index.md)). We
        have not measured which is faster on a GPU.
        """
        pid = tl.program_id(0)
        programs = tl.num_programs(0)
        cols = tl.arange(0, BLOCK)
        if ONE_TILE:
            # This program's $\sum dy\,\hat{x}$ and $\sum dy$ over its rows, in registers
            mask = cols < N
            dw = tl.zeros([BLOCK], dtype=tl.float32)
            db = tl.zeros([BLOCK], dtype=tl.float32)
            for row in range(pid, rows, programs):
                # The row in one tile: load $x$, $dy$ (and $\gamma$) once, reduce, write $dx$
                offset = _row_offset(row, stride)
                rstd = tl.load(Rstd + row)
                x_hat, dy, g = _backward_tile_load(X, DY, W, offset, cols, mask,
                                                   tl.load(Mean + row), rstd, HAS_W)
                if COMPUTE_DX:
                    mean_g = tl.sum(g, axis=0) / N
                    mean_gx = tl.sum(g * x_hat, axis=0) / N
                    tl.store(DX + offset + cols, (g - mean_g - x_hat * mean_gx) * rstd, mask=mask)
                dw += dy * x_hat
                db += dy
            #
            # One store per program
            if COMPUTE_DWDB:
                tl.store(DW_partial + _row_offset(pid, N) + cols, dw, mask=mask)
                tl.store(DB_partial + _row_offset(pid, N) + cols, db, mask=mask)
        else:
            if COMPUTE_DX:
                # Pass 1, row by row: $\overline{g}$ and $\overline{g\hat{x}}$ over the tiles,
                # kept in the scratch buffer (8 bytes per row)
                for row in range(pid, rows, programs):
                    offset = _row_offset(row, stride)
                    mean = tl.load(Mean + row)
                    rstd = tl.load(Rstd + row)
                    sum_gx = 0.0
                    sum_g = 0.0
                    for start in range(0, N, BLOCK):
                        c = start + cols
                        x_hat, dy, g = _backward_tile_load(X, DY, W, offset, c, c < N, mean, rstd,
                                                           HAS_W)
                        sum_gx += tl.sum(g * x_hat, axis=0)
                        sum_g += tl.sum(g, axis=0)
                    tl.store(RowMeans + 2 * row, sum_g / N)
                    tl.store(RowMeans + 2 * row + 1, sum_gx / N)
                # Pass 2 reads what other threads of this program stored in pass 1
                tl.debug_barrier()
            #
            # Pass 2, tile by tile, and within a tile row by row: $dx = \frac{1}{\sigma}\big(g
            # - \overline{g} - \hat{x}\,\overline{g\hat{x}}\big)$, and this tile's $d\gamma$,
            # $d\beta$ summed over the program's rows in registers, stored once per tile
            for start in range(0, N, BLOCK):
                c = start + cols
                mask = c < N
                dw = tl.zeros([BLOCK], dtype=tl.float32)
                db = tl.zeros([BLOCK], dtype=tl.float32)
                for row in range(pid, rows, programs):
                    offset = _row_offset(row, stride)
                    rstd = tl.load(Rstd + row)
                    x_hat, dy, g = _backward_tile_load(X, DY, W, offset, c, mask,
                                                       tl.load(Mean + row), rstd, HAS_W)
                    if COMPUTE_DX:
                        mean_g = tl.load(RowMeans + 2 * row)
                        mean_gx = tl.load(RowMeans + 2 * row + 1)
                        tl.store(DX + offset + c, (g - mean_g - x_hat * mean_gx) * rstd,
                                 mask=mask)
                    dw += dy * x_hat
                    db += dy
                if COMPUTE_DWDB:
                    tl.store(DW_partial + _row_offset(pid, N) + c, dw, mask=mask)
                    tl.store(DB_partial + _row_offset(pid, N) + c, db, mask=mask)

    @triton.jit
    def _backward_tile_load(X,  # pointer to the input
                            DY,  # pointer to the output gradient
                            W,  # pointer to γ; read only if HAS_W
                            offset,  # the row's first element (int64)
                            c,  # the tile's column numbers, (BLOCK,)
                            mask,  # which of them are inside the row, (BLOCK,)
                            mean,  # the row's μ (float32)
                            rstd,  # the row's 1/σ (float32)
                            HAS_W: tl.constexpr):
        # One tile of a row in float32: $\hat{x}$ (0 outside the row), $dy$ and $g = dy\,\gamma$
        x_hat = (tl.load(X + offset + c, mask=mask, other=0.0).to(tl.float32) - mean) * rstd
        x_hat = tl.where(mask, x_hat, 0.0)
        dy = tl.load(DY + offset + c, mask=mask, other=0.0).to(tl.float32)
        g = dy
        if HAS_W:
            g = g * tl.load(W + c, mask=mask, other=0.0).to(tl.float32)
        return x_hat, dy, g


def _block_size(cols: int, max_block: int) -> int:
    # The next power of two of the row length, capped: Triton's `tl.arange` needs a power of two
    # (`triton.next_power_of_2`, written out so that the plan below needs no Triton)
    return min(1 << max(cols - 1, 0).bit_length(), max_block)


def launch_plan(rows: int, cols: int, max_block: int = 4096, multiprocessors: int = 1) -> dict:
    """
    ## The launch: which program handles which rows and tiles

    What the wrapper below launches for a `(rows, cols)` input: the tile width `BLOCK` and the
    number of tiles per row; the forward's grid, one program per row; the backward's, 4 programs
    per multiprocessor (at most one per row), where program `p` takes rows `p, p + P, …` as the
    kernel's `range(pid, rows, programs)` does, and owns row `p` of the partial buffers.
    For 10 rows of 24 columns with `max_block` 8, in the interpreter (one multiprocessor):

    {{ launch_grid }}
    """
    block = _block_size(cols, max_block)
    programs = max(1, min(rows, 4 * multiprocessors))
    return {'block': block, 'tiles': -(-cols // block), 'one_tile': cols <= block,
            'forward_grid': (rows,), 'backward_grid': (programs,),
            'rows_of': [list(range(p, rows, programs)) for p in range(programs)]}


# Rows drawn in the launch figure, at most; and the colours of the backward's programs
_SHOWN_ROWS = 12
_PROGRAM_COLOURS = ('blue', 'orange', 'green', 'purple', 'grey')


def figure_launch(rows: int = 10, cols: int = 24, max_block: int = 8,
                  multiprocessors: int = 1) -> str:
    """
    ## The launch, drawn

    From `launch_plan()`: the forward's programs, one per row, each going over the row's tiles;
    the backward's, each row coloured by the program that takes it; and the partial buffers,
    one row per program, that `torch.sum` adds up.
    """
    from labml_nn_norm.layer_norm import FIGURE_COLOURS, svg_figure
    plan = launch_plan(rows, cols, max_block, multiprocessors)
    block, tiles, programs = plan['block'], plan['tiles'], plan['backward_grid'][0]
    owner = {r: p for p, rs in enumerate(plan['rows_of']) for r in rs}
    shown = min(rows, _SHOWN_ROWS)
    cw, rh, top = 144 / cols, 12, 58
    xs = (70, 296, 496)  # the forward, the backward, the partial buffers

    def colour(p: int) -> str:
        return FIGURE_COLOURS[_PROGRAM_COLOURS[p % len(_PROGRAM_COLOURS)]]

    def tile_marks(x0: float) -> str:
        # A dashed line between tiles, and each tile's number above
        out = []
        for t in range(tiles):
            a, b = x0 + t * block * cw, x0 + min((t + 1) * block, cols) * cw
            out.append(f'<text x="{(a + b) / 2:.1f}" y="{top - 4}" text-anchor="middle" '
                       f'font-size="9">tile {t}</text>')
            if t:
                out.append(f'<path d="M{a:.1f},{top - 2}V{top + shown * rh + 2}" '
                           'stroke="currentColor" stroke-dasharray="2 2"/>')
        return ''.join(out)

    parts = [f'<text x="{xs[0]}" y="14" font-weight="bold">forward: grid ({rows},)</text>',
             f'<text x="{xs[0]}" y="28" font-size="10">one program per row, tile by tile '
             f'(BLOCK = {block})</text>',
             f'<text x="{xs[1]}" y="14" font-weight="bold">backward: grid ({programs},)</text>',
             f'<text x="{xs[1]}" y="28" font-size="10">program p takes rows p, p + {programs}, '
             '…</text>',
             f'<text x="{xs[2]}" y="14" font-weight="bold">partial dγ, dβ</text>',
             f'<text x="{xs[2]}" y="28" font-size="10">({programs}, {cols}) float32 each</text>',
             tile_marks(xs[0]), tile_marks(xs[1])]
    # Grouped, so that the shared attributes are written once
    w = cols * cw
    labels = ''.join(f'<text x="{xs[0] - 6}" y="{top + r * rh + 9}">program {r}</text>'
                     f'<text x="{xs[1] - 6}" y="{top + r * rh + 9}">row {r}</text>'
                     for r in range(shown))
    parts.append(f'<g font-size="9" text-anchor="end">{labels}</g>')
    for t in range(tiles):
        a, b = t * block * cw, min((t + 1) * block, cols) * cw
        cells = ''.join(f'<rect x="{xs[0] + a:.1f}" y="{top + r * rh}" width="{b - a:.1f}" '
                        f'height="{rh}"/>' for r in range(shown))
        parts.append(f'<g fill="currentColor" fill-opacity="{0.12 + 0.16 * (t % 2):.2f}" '
                     f'stroke="currentColor" stroke-width="0.5">{cells}</g>')
    # The backward's rows and the partial rows, coloured by program
    for p in range(programs):
        cells = ''.join(f'<rect x="{xs[1]}" y="{top + r * rh}" width="{w:.1f}" height="{rh}"/>'
                        for r in plan['rows_of'][p] if r < shown)
        if p < _SHOWN_ROWS:
            cells += f'<rect x="{xs[2]}" y="{top + p * rh}" width="{w:.1f}" height="{rh}"/>'
        if cells:
            parts.append(f'<g fill="{colour(p)}" stroke="currentColor" stroke-width="0.5">'
                         f'{cells}</g>')
    names = ''.join(f'<text x="{xs[1] + w / 2:.1f}" y="{top + r * rh + 9}">p{owner[r]}</text>'
                    for r in range(shown))
    names += ''.join(f'<text x="{xs[2] + w / 2:.1f}" y="{top + p * rh + 9}">Σ rows of p{p}'
                     '</text>' for p in range(min(programs, _SHOWN_ROWS)))
    parts.append(f'<g font-size="9" text-anchor="middle" fill="#fff">{names}</g>')
    if rows > shown:
        parts.append(f'<text x="{xs[0]}" y="{top + shown * rh + 14}" font-size="10">'
                     f'… {rows - shown} more rows</text>')
    y = top + min(programs, _SHOWN_ROWS) * rh + 8
    if programs > _SHOWN_ROWS:
        parts.append(f'<text x="{xs[2]}" y="{y + 4}" font-size="10">… {programs - _SHOWN_ROWS} '
                     'more programs</text>')
        y += 10
    mid = xs[2] + cols * cw / 2
    parts.append(f'<path d="M{mid:.1f},{y}V{y + 16}M{mid - 4:.1f},{y + 11}L{mid:.1f},{y + 16}'
                 f'L{mid + 4:.1f},{y + 11}" stroke="currentColor" fill="none"/>'
                 f'<text x="{mid + 8:.1f}" y="{y + 12}" font-size="10">torch.sum(0)</text>'
                 f'<rect x="{xs[2]}" y="{y + 20}" width="{cols * cw:.1f}" height="{rh}" '
                 'fill="currentColor" fill-opacity="0.3" stroke="currentColor"/>'
                 f'<text x="{mid:.1f}" y="{y + 29}" text-anchor="middle" font-size="9">'
                 'dγ, dβ</text>')
    height = max(top + shown * rh + 24, y + rh + 28)
    counts = [len(rs) for rs in plan['rows_of']]
    spread = (f'{counts[0]} row' + 's' * (counts[0] != 1) if min(counts) == max(counts)
              else f'{min(counts)} to {max(counts)} rows')
    label = (f'Launch grids for {rows} rows of {cols} columns, max_block {max_block}: '
             f'{rows} forward programs over {tiles} tiles each, {programs} backward programs '
             'and their partial rows')
    caption = (f'For {rows} rows of {cols} columns and max_block {max_block}, the forward runs '
               f'{rows} programs, one per row, each over {tiles} tile(s) of {block} columns, and '
               f'the backward {programs}, each taking {spread} and storing its sums of '
               f'dy·x̂ and dy once, in its own row of two ({programs}, {cols}) float32 buffers '
               'that torch.sum then adds up.')
    return svg_figure(''.join(parts), 660, height, label, caption)


class TritonLayerNorm(torch.autograd.Function):
    """
    ## Wrapping the kernels for autograd
    """

    @staticmethod
    def forward(ctx, x, normalized_shape, weight, bias, eps, max_block):
        H = math.prod(normalized_shape)
        # (rows, cols), contiguous, so a row's stride is `cols`
        x2 = x.reshape(-1, H).contiguous()
        rows = x2.shape[0]
        y = torch.empty_like(x2)
        mean = torch.empty(rows, dtype=torch.float32, device=x.device)
        rstd = torch.empty(rows, dtype=torch.float32, device=x.device)
        plan = launch_plan(rows, H, max_block)
        block = plan['block']
        w = weight.reshape(H).contiguous() if weight is not None else x2
        b = bias.reshape(H).contiguous() if bias is not None else x2
        if rows:
            _forward_kernel[plan['forward_grid']](x2, y, w, b, mean, rstd, H, H, eps,
                                                  HAS_W=weight is not None,
                                                  HAS_B=bias is not None, BLOCK=block,
                                                  ONE_TILE=plan['one_tile'])
        ctx.save_for_backward(x2, weight, mean, rstd)
        ctx.shape, ctx.normalized_shape = x.shape, normalized_shape
        ctx.block, ctx.has_bias = block, bias is not None
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, dy):
        x2, weight, mean, rstd = ctx.saved_tensors
        rows, H = x2.shape
        # Only the gradients autograd asks for: (x, normalized_shape, weight, bias, ...)
        need_dx = ctx.needs_input_grad[0]
        need_dw = weight is not None and ctx.needs_input_grad[2]
        need_db = ctx.has_bias and ctx.needs_input_grad[3]
        if not (need_dx or need_dw or need_db):
            return None, None, None, None, None, None
        dy2 = dy.reshape(rows, H).contiguous()
        # A few programs, each owning one row of the float32 partial sums
        plan = launch_plan(rows, H, ctx.block, _multiprocessors(x2.device))
        programs, one_tile = plan['backward_grid'][0], plan['one_tile']
        # Unused pointers get a tensor that the kernel never touches
        dx = torch.empty_like(x2) if need_dx else x2
        dw_partial, db_partial = (_partial_buffers(programs, H, x2.device)
                                  if need_dw or need_db else (mean, mean))
        row_means = (torch.empty(rows, 2, dtype=torch.float32, device=x2.device)
                     if need_dx and not one_tile else mean)
        if rows:
            w = weight.reshape(H) if weight is not None else x2
            _backward_kernel[plan['backward_grid']](
                x2, dy2, dx, w, mean, rstd, dw_partial, db_partial, row_means, H, H, rows,
                HAS_W=weight is not None, BLOCK=ctx.block, ONE_TILE=one_tile,
                COMPUTE_DX=need_dx, COMPUTE_DWDB=need_dw or need_db)
        elif need_dw or need_db:
            # No rows: nothing to add up
            dw_partial.zero_()
            db_partial.zero_()
        # The second step: add up the programs' partial sums
        dweight = None
        if need_dw:
            dweight = dw_partial.sum(0).reshape(ctx.normalized_shape).to(weight.dtype)
        dbias = None
        if need_db:
            bias_dtype = weight.dtype if weight is not None else dy.dtype
            dbias = db_partial.sum(0).reshape(ctx.normalized_shape).to(bias_dtype)
        return (dx.reshape(ctx.shape) if need_dx else None), None, dweight, dbias, None, None


def _partial_buffers(programs: int, cols: int, device: torch.device):
    r"""
    The partial $d\gamma$ and $d\beta$: one float32 row of `cols` per program. The kernel writes
    every element once and never reads one, so they are not zeroed.
    """
    return (torch.empty(programs, cols, dtype=torch.float32, device=device),
            torch.empty(programs, cols, dtype=torch.float32, device=device))


def _multiprocessors(device: torch.device) -> int:
    # On a GPU: its streaming multiprocessors; in the interpreter: one, so that 4 programs share
    # the rows and each program's partial sums really add several rows
    if device.type == 'cuda':
        return torch.cuda.get_device_properties(device).multi_processor_count
    return 1


def triton_layer_norm(x: torch.Tensor, normalized_shape: _shape_t,
                      weight: Optional[torch.Tensor] = None, bias: Optional[torch.Tensor] = None,
                      eps: float = 1e-5, max_block: int = 4096) -> torch.Tensor:
    """
    ## The functional form

    `F.layer_norm`'s contract. `max_block` caps the tile width (lower it to exercise the tile
    loop).
    """
    if triton is None:
        raise RuntimeError('triton_layer_norm needs Triton (pip install triton); '
                           'it is not importable here')
    shape = normalized_shape_tuple(normalized_shape)
    check_normalized_shape(x, shape, weight, bias)
    if x.device.type != 'cuda' and os.environ.get('TRITON_INTERPRET') != '1':
        raise RuntimeError('triton_layer_norm runs on CUDA tensors, or on the CPU under '
                           'TRITON_INTERPRET=1 (set before Triton is imported); '
                           f'got a {x.device.type} tensor without it')
    return TritonLayerNorm.apply(x, shape, weight, bias, eps, max_block)


TOLERANCES = {torch.float32: dict(atol=1e-4, rtol=1e-4),
              torch.bfloat16: dict(atol=6e-2, rtol=2e-2),
              torch.float16: dict(atol=1e-2, rtol=1e-2)}


def run_both(shape, normalized_shape, dtype=torch.float32, affine=True, bias=True, max_block=4096,
             device='cpu', seed=0):
    """
    ## Running ours and `F.layer_norm` on the same data

    Returns `[y, dx, dγ, dβ]` (those that exist) for ours, the same for `F.layer_norm`, and the
    tolerances for `dtype`.
    """
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(seed)
    ns = normalized_shape_tuple(normalized_shape)
    x = (torch.randn(shape, generator=g) * 2 + 3).to(device=device, dtype=dtype)
    w = torch.randn(ns, generator=g).to(device=device, dtype=dtype) if affine else None
    b = torch.randn(ns, generator=g).to(device=device, dtype=dtype) if affine and bias else None
    dy = torch.randn(shape, generator=g).to(device=device, dtype=dtype)
    results = []
    for fn in (lambda *a: triton_layer_norm(*a, max_block=max_block), lambda *a: F.layer_norm(*a)):
        ts = [t.clone().requires_grad_() if t is not None else None for t in (x, w, b)]
        y = fn(ts[0], ns, ts[1], ts[2])
        y.backward(dy)
        results.append([y] + [t.grad for t in ts if t is not None])
    return results[0], results[1], TOLERANCES[dtype]


def check_against_torch(shape, normalized_shape, dtype=torch.float32, affine=True, bias=True,
                        max_block=4096, device='cpu', seed=0):
    """
    ## Checking against `F.layer_norm`

    Forward, and the gradients of the input, $\\gamma$ and $\\beta$; asserts they are close and
    returns the largest difference. Used by `tests/test_kernels.py`.
    """
    ours, ref, tol = run_both(shape, normalized_shape, dtype, affine, bias, max_block, device, seed)
    torch.testing.assert_close(ours, ref, **tol)
    return max((a.double() - r.double()).abs().max().item() if a.numel() else 0.0
               for a, r in zip(ours, ref))


def partial_buffer_shapes(shape, normalized_shape, max_block: int, device='cpu', fill=None):
    """
    Run ours forward and backward with the partial buffers recorded (and, with `fill`, filled
    with that value before the kernel runs); returns their shapes and the largest difference
    from `F.layer_norm`. Used by `_test()` and `tests/test_kernels.py`.
    """
    global _partial_buffers
    original, shapes = _partial_buffers, []

    def recording(programs, cols, buffer_device):
        buffers = original(programs, cols, buffer_device)
        shapes.extend((tuple(b.shape), b.dtype) for b in buffers)
        if fill is not None:
            for b in buffers:
                b.fill_(fill)
        return buffers

    _partial_buffers = recording
    try:
        ours, ref, tol = run_both(shape, normalized_shape, max_block=max_block, device=device)
    finally:
        _partial_buffers = original
    torch.testing.assert_close(ours, ref, **tol)
    return shapes, max((a - r).abs().max().item() for a, r in zip(ours, ref))


def row_offsets(first_row: int, stride: int, device='cpu'):
    """`_row_offset` for one row number, and the plain int32 product, from a one-program kernel."""
    out = torch.zeros(2, dtype=torch.int64, device=device)
    _row_offset_kernel[(1,)](out, first_row, stride)
    return out.tolist()


@check_group
def _check_backward_buffers(device):
    """
    ## Checks: the partial sums are stored once per program

    The partial buffers are (programs, H) float32 whatever the number of rows, and filling them
    with NaN before the kernel runs changes nothing: the kernel writes them without reading.
    """

    # 16 rows: with the interpreter's 4 programs, 4 rows per program, enough to show the partial
    # sums adding up several rows (on a GPU, with 4 programs per SM, each would get one row)
    for rows, block in ((9, 64), (16, 64), (16, 8)):
        shapes, _ = partial_buffer_shapes((rows, 24), 24, block, device)
        programs = min(rows, 4 * _multiprocessors(torch.device(device)))
        check(f'{rows} rows, 24 columns, tile {block}: partial buffers 2 × ({programs}, 24) '
              'float32', shapes == [((programs, 24), torch.float32)] * 2,
              f'{2 * programs * 24 * 4} bytes written, {shapes}')
    for block, what in ((64, 'one tile'), (8, '3 tiles')):
        _, err = partial_buffer_shapes((10, 24), 24, block, device, fill=float('nan'))
        check(f'{what}: partial buffers filled with NaN before the kernel, results unchanged '
              '(written, never read)', err < 1e-4, f'max |Δ| = {err:.1e}')


@check_group
def _check_offsets_and_needed_grads(device):
    r"""
    ## Checks: int64 row offsets, and only the gradients asked for

    Row $2^{20}$ of rows of $2^{11}$ columns starts at element $2^{31}$: the int32 product wraps
    to $-2^{31}$, ours does not. Then the backward with only $x$, or only $\gamma$ and
    $\beta$, needing a gradient.
    """
    import torch.nn.functional as F

    ours, wrapped = row_offsets(2 ** 20, 2 ** 11, device)
    check('row 2^20 × stride 2^11: ours 2^31, the int32 product wraps',
          ours == 2 ** 31 and wrapped == -2 ** 31, f'ours {ours:,}, int32 {wrapped:,}')
    x = torch.randn(6, 40, device=device) + 2
    w = torch.randn(40, device=device)
    b = torch.randn(40, device=device)
    dy = torch.randn(6, 40, device=device)
    for block in (64, 16):
        xg, wg, bg = x.clone().requires_grad_(), w.clone(), b.clone()
        triton_layer_norm(xg, 40, wg, bg, max_block=block).backward(dy)
        xr = x.clone().requires_grad_()
        F.layer_norm(xr, (40,), w, b).backward(dy)
        check_close(f'tile {block}: only x needs a gradient: dx matches, γ and β get none',
                    xg.grad, xr.grad)
        check('... γ.grad and β.grad are None', wg.grad is None and bg.grad is None)
        xg, wg, bg = x.clone(), w.clone().requires_grad_(), b.clone().requires_grad_()
        triton_layer_norm(xg, 40, wg, bg, max_block=block).backward(dy)
        wr, br = w.clone().requires_grad_(), b.clone().requires_grad_()
        F.layer_norm(x, (40,), wr, br).backward(dy)
        check_close(f'tile {block}: only γ, β need gradients (x needs none): dγ, dβ match',
                    [wg.grad, bg.grad], [wr.grad, br.grad], atol=1e-4, rtol=1e-4)


@check_group
def _check_interpreted():
    """
    ## Running without a GPU: the kernels are interpreted

    The claim in the introduction: with `TRITON_INTERPRET=1`, `triton.jit` built interpreted
    kernels. On a GPU there is nothing to check here.
    """
    if torch.cuda.is_available():
        skipped('TRITON_INTERPRET=1: both kernels are interpreted', 'a CUDA device is present')
        return
    from triton.runtime.interpreter import InterpretedFunction
    check('TRITON_INTERPRET=1: both kernels are interpreted',
          isinstance(_forward_kernel, InterpretedFunction)
          and isinstance(_backward_kernel, InterpretedFunction), type(_forward_kernel).__name__)


@check_group(fold=True)
def _check_against_f_layer_norm(device):
    """
    ## Against `F.layer_norm`: y, dx, dγ, dβ over shapes, tiles, dtypes and flags

    Ours and `F.layer_norm` on the same data, forward and backward, on `device` (Triton's
    interpreter on the CPU); each line's max |Δ| is over the tensors it names.
    """
    cases = [((4, 37), 37, torch.float32, 64, 'ragged row, one tile (x and dy loaded once)'),
             ((3, 2, 50), (2, 50), torch.float32, 32, '100 columns in 4 tiles of 32, Chan merge'),
             ((5, 16), 16, torch.bfloat16, 64, 'bfloat16, statistics in float32'),
             ((10, 24), 24, torch.float32, 8,
              '10 rows on 4 programs, 3 tiles: partial sums over rows'),
             ((10, 24), 24, torch.float32, 32,
              '10 rows on 4 programs, one tile: partial sums over rows'),
             ((0, 8), 8, torch.float32, 64, 'empty batch')]
    for shape, ns, dtype, block, what in cases:
        ours, ref, tol = run_both(shape, ns, dtype, max_block=block, device=device)
        check_close(f'{what}: input {shape}, y, dx, dγ, dβ', ours, ref, **tol)
    ours, ref, tol = run_both((3, 20), 20, affine=False, max_block=8, device=device)
    check_close('no affine (weight and bias None): y, dx', ours, ref, **tol)
    ours, ref, tol = run_both((3, 20), 20, bias=False, max_block=8, device=device)
    check_close('bias=False: y, dx, dγ', ours, ref, **tol)
    check_raises('bad shapes rejected as in F.layer_norm', ValueError, triton_layer_norm,
                 torch.randn(2, 5), 4, match='[*, 4]')
    if device == 'cpu':
        skipped('large rows (768 to 16384 columns) on a GPU',
                'no CUDA device here; tests/test_kernels.py runs them when there is one')
    else:
        for cols in (768, 4096):
            ours, ref, tol = run_both((64, cols), cols, torch.float16, device=device)
            check_close(f'float16, 64 × {cols} on {torch.cuda.get_device_name()}', ours, ref, **tol)


# ## Exercises
#
# 1. **Tiles.** Run a row of 100 columns with `max_block` 128 (one tile), 64, 32 and 8 (13
#    tiles). Chan's merge is exact in exact arithmetic: how far apart are the outputs?
# 2. **Where int32 wraps.** For rows of 4096 columns, which is the first row whose start offset
#    no longer fits in int32? Check it with `row_offsets`.
# 3. **$d\beta$ by hand.** $\beta$ is added to every row, so $d\beta = \sum_{\text{rows}} dy$.
#    Check the kernel's $d\beta$ against `dy.sum(0)`, with rows spread over several programs.


@check_group(fold=True)
def _exercise_1(device='cpu'):
    """
    ## Solution 1: tiles

    The statistics of one tile, or of 13 tiles merged by Chan's formula, differ only by float32
    rounding.
    """
    x = torch.randn(3, 100, device=device) * 2 + 3
    ys = {block: triton_layer_norm(x, 100, max_block=block) for block in (128, 64, 32, 8)}
    gap = max((y - ys[128]).abs().max().item() for y in ys.values())
    check('max |Δ| between 1, 2, 4 and 13 tiles, over all four, below 1e-5', gap < 1e-5,
          f'{gap:.1e}')


@check_group(fold=True)
def _exercise_2(device='cpu'):
    r"""
    ## Solution 2: where int32 wraps

    Row $r$ starts at $4096\,r = 2^{12} r$, which reaches $2^{31}$ at $r = 2^{19}$: the row before
    still fits, that one wraps to $-2^{31}$.
    """
    first = 2 ** 31 // 4096
    ours, wrapped = row_offsets(first - 1, 4096, device)
    check(f'row {first - 1:,}: both offsets {ours:,}', ours == wrapped == (first - 1) * 4096)
    ours, wrapped = row_offsets(first, 4096, device)
    check(f'row {first:,} = 2^19: ours {ours:,}, int32 {wrapped:,}',
          ours == 2 ** 31 and wrapped == -2 ** 31)


@check_group(fold=True)
def _exercise_3(device='cpu'):
    """
    ## Solution 3: dβ by hand

    Each program sums $dy$ over its own rows; the partial rows are then added up.
    """
    x = torch.randn(10, 24, device=device)
    bias = torch.zeros(24, device=device, requires_grad=True)
    dy = torch.randn(10, 24, device=device)
    triton_layer_norm(x, 24, torch.ones(24, device=device), bias, max_block=8).backward(dy)
    check_close('dβ == dy.sum(0): 10 rows on 4 programs, 3 tiles', bias.grad, dy.sum(0))


@check_group
def _check_launch_figure(device):
    """
    ## Checks: the launch figure is the launch

    `launch_plan()` gives every row to exactly one backward program, and the partial buffers the
    wrapper allocates have the plan's shape; the figure is a well-formed, named SVG that other
    sizes redraw.
    """
    from labml_nn_norm.layer_norm import check_figure
    for rows, cols, block in ((10, 24, 8), (9, 24, 64), (3, 100, 32)):
        plan = launch_plan(rows, cols, block, _multiprocessors(torch.device(device)))
        taken = sorted(r for rs in plan['rows_of'] for r in rs)
        shapes, _ = partial_buffer_shapes((rows, cols), cols, block, device)
        programs = plan['backward_grid'][0]
        check(f'{rows} rows, {cols} columns, max_block {block}: {plan["tiles"]} tile(s); each row '
              f'on one of {programs} programs; partial buffers ({programs}, {cols})',
              taken == list(range(rows)) and plan['tiles'] * plan['block'] >= cols
              and shapes == [((programs, cols), torch.float32)] * 2, str(shapes[0][0]))
    check_figure('launch figure', figure_launch(), figure_launch(rows=7))


def _artifacts():
    """
    ## The figure, drawn when the site is built
    """
    return {'launch_grid': figure_launch()}


def _test():
    """
    ## Checks (Triton's interpreter on the CPU, or the GPU if there is one)

    Small shapes: the interpreter runs each program in Python.
    """
    if triton is None:
        skipped('Triton kernels vs F.layer_norm', 'Triton is not installed (pip install triton)')
        return
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    _check_interpreted()
    _check_launch_figure(device)
    _check_backward_buffers(device)
    _check_offsets_and_needed_grads(device)
    _check_against_f_layer_norm(device)
    _exercise_1(device)
    _exercise_2(device)
    _exercise_3(device)


if __name__ == '__main__':
    _test()


# ## Sources
#
# * Triton, [`python/tutorials/05-layer-norm.py`](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L48-L95)
#   (commit `5456992`): the tutorial's forward kernel and its three loads of $x$; [L132-L194](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L132-L194)
#   its backward kernel with the `Lock`/`Count` spin lock; [L197-L221](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L197-L221)
#   the kernel that sums the partial buffers; [L236-L294](https://github.com/triton-lang/triton/blob/545699290b851e70231ee3017481851170f1583d/python/tutorials/05-layer-norm.py#L236-L294)
#   the wrapper: the 64 KB limit, `GROUP_SIZE_M`, the dtypes of the partial buffers, the launches.
# * Triton 3.9.0, the installed package: `triton/runtime/jit.py` (`jit` returns an
#   `InterpretedFunction` when `TRITON_INTERPRET` is set, read through `triton/knobs.py`) and
#   `triton/runtime/interpreter.py` (NumPy, the grid run program by program). We read the installed
#   files; `_test()` checks the first point.
# * OneFlow, [`oneflow/core/cuda/layer_norm.cuh`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L867-L889):
#   the warp, shared-memory and uncached paths our two cases are compared with (described on
#   [the landing page](index.md)).
# * flash-attention, [`flash_attn/ops/triton/layer_norm.py`](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L485-L640)
#   (commit `0251105`): `_layer_norm_bwd_kernel`, $d\gamma$ and $d\beta$ accumulated in
#   registers over a program's rows and stored once; the launch
#   ([L773-L788](https://github.com/Dao-AILab/flash-attention/blob/0251105a2fb19d2957484b7f023cd8c115286ced/flash_attn/ops/triton/layer_norm.py#L773-L788)).
# * Liger-Kernel, the same int32 offset overflow in a Triton RMSNorm at $2^{31}$ elements:
#   [issue #803](https://github.com/linkedin/Liger-Kernel/issues/803) (a `[1, 500000, 4096]`
#   input, "an illegal memory access") and the fix that casts the program id to int64,
#   [pull request #804](https://github.com/linkedin/Liger-Kernel/pull/804).
# * NVIDIA apex, [`csrc/layer_norm_cuda_kernel.cu`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L848-L894):
#   the two-step $d\gamma$, $d\beta$ with 16 partial rows.
# * Chan, Golub, LeVeque, the pairwise update of means and sums of squared deviations, used for the
#   tiles: cited and checked on [the numerics page](../numerics/index.md).
