r"""
---
title: Fast LayerNorm kernels
summary: Why LayerNorm is limited by memory bandwidth, how production kernels (OneFlow, NVIDIA apex) view the input as rows and columns and reduce each row, and what we measured.
---

# Fast LayerNorm kernels

LayerNorm does very little arithmetic per element, so how fast it runs is decided by how many
bytes it moves, not by how many operations it does. This section explains how fast kernels
are organized, then builds one: [a LayerNorm kernel in Triton](triton_layer_norm.md), forward
and backward, tested on the CPU with Triton's interpreter.

### Memory-bound: bytes per element against operations per element

Per element, the forward pass does about 8 floating-point operations (subtract the mean, square,
add into the variance, subtract, multiply by $1/\sigma$, multiply by $\gamma$, add $\beta$, plus the
mean's addition). The *least* it can move is one read of $x$ and one write of $y$: 8 bytes per
element in float32, 4 in bfloat16 ($\gamma$, $\beta$ and the per-row statistics are negligible for
long rows). That is about 1 operation per byte. A GPU like the H100 does tens of float32 TFLOP/s
against a few TB/s of memory bandwidth: it needs well over 10 operations per byte before arithmetic
becomes the limit (the *ridge point* of the roofline). So the best possible LayerNorm runs at the
speed of a copy, and everything a fast kernel does is about reading $x$ **once**:

* fuse everything into one kernel (no separate kernels for mean, variance and output, each
  reading $x$ again from memory);
* keep a row in registers or shared memory between computing its statistics and writing its
  output, rather than reading it twice;
* load wide (128-bit vectors of 4 floats or 8 halves, OneFlow's *pack*), so each memory
  transaction is full.

### The input as `(rows, cols)`

Whatever the input's shape, LayerNorm normalizes each group of its last dimensions. Kernels
flatten it to a matrix: `cols` is the product of `normalized_shape` and `rows` the product of the
rest. NVIDIA apex's `compute_n1_n2` computes exactly these two numbers ($n_1$ rows, $n_2$ columns);
`as_rows_cols()` below does the same. Then the kernel is a *row reduction*: each row is reduced
to $(\mu, \sigma)$ and transformed, independently of all other rows.

### Who reduces a row

* **A warp per row** for short rows. OneFlow uses this when `cols` $\le 1024$: the 32 threads of a
  warp each take a strided share of the row into registers, run Welford over it, and merge the
  32 partial $(n, \bar{x}, M_2)$ with 5 warp shuffles ([Chan's merge](../numerics/index.md)). A block
  of threads handles several rows at once.
* **A block per row, cached in shared memory** for longer rows that fit: the block's threads load
  the row once into shared memory, reduce (Welford per thread, then merge across warps through
  shared memory), and write the output from shared memory. OneFlow picks this when the row fits
  in shared memory and enough blocks can still run at once on a multiprocessor (it asks the CUDA
  occupancy calculator).
* **A block per row, uncached**, for rows too long for that: one pass for the statistics, a second
  read of $x$ for the output (usually served from L2).

apex's kernels assign rows to warps of a two-dimensional thread block and use Welford with a
warp-shuffle merge in the same way. `oneflow_path()` below is a simplified model of OneFlow's
choice (a fixed shared-memory budget instead of the occupancy query).

### Measured on the CPU

`scripts/benchmark_kernels.py` times our plain PyTorch LayerNorm (several separate operations),
`torch.compile` of it (fused into one loop by the compiler), PyTorch's native `F.layer_norm`, and
`x.clone()` (the copy that bounds everything), as ratios to `F.layer_norm`. On a 2-core virtual
machine these are rough: with the system's `malloc`, each large output is fresh memory and the
page faults swing timings several-fold between runs, so the script uses jemalloc (which keeps
freed pages mapped) when it is installed, and keeps each cell's fastest of several runs.
On a CPU, fusion is most of the story: the plain module runs about ten separate operations,
each a pass over memory, while `torch.compile` generates one loop per row, close to the native kernel.

{{ cpu_table }}

{{ gpu_note }}
"""

import json
import math
from pathlib import Path
from typing import Tuple

import torch

from labml_nn_norm.layer_norm import _as_shape, _shape_t

RESULTS = Path(__file__).parent / 'results'


def as_rows_cols(x: torch.Tensor, normalized_shape: _shape_t) -> Tuple[int, int]:
    """
    ## `(rows, cols)`, as apex's `compute_n1_n2`

    `cols` $= n_2$ is the product of `normalized_shape`, `rows` $= n_1$ the number of such groups.
    """
    shape = _as_shape(normalized_shape)
    n2 = math.prod(shape)
    if tuple(x.shape[x.dim() - len(shape):]) != shape:
        raise ValueError(f'input of size {list(x.shape)} does not end in normalized_shape {list(shape)}')
    return x.numel() // n2 if n2 else 0, n2


def traffic(rows: int, cols: int, dtype: torch.dtype) -> dict:
    """
    ## Bytes and operations of one forward pass

    The minimum traffic: read $x$, write $y$, read $\\gamma$ and $\\beta$ once, write $\\mu$ and $1/\\sigma$ per row.
    """
    size = torch.empty((), dtype=dtype).element_size()
    bytes_moved = 2 * rows * cols * size + 2 * cols * size + 2 * rows * 4
    flops = 8 * rows * cols
    return {'bytes': bytes_moved, 'flops': flops, 'flops_per_byte': flops / bytes_moved}


def oneflow_path(cols: int, dtype: torch.dtype = torch.float32, smem_bytes: int = 48 * 1024) -> str:
    """
    ## A simplified model of OneFlow's dispatch

    By row length: a warp per row up to 1024 columns; a block per row with the row cached in shared
    memory (statistics in float32) if it fits `smem_bytes`; otherwise a block per row, uncached.
    """
    if cols <= 1024:
        return 'warp'
    if cols * 4 <= smem_bytes:
        return 'block, shared memory'
    return 'block, uncached'


def _load(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _artifacts():
    """
    ## The tables, drawn from the saved results

    Nothing here is typed by hand: `scripts/benchmark_kernels.py` writes the JSON files.
    """
    cpu = _load('cpu.json')
    if cpu is None:
        table = 'No CPU results saved yet: run `python scripts/benchmark_kernels.py`.'
    else:
        lines = [f'Measured on **{cpu["machine"]["cpu"]}** ({cpu["machine"]["threads"]} threads, '
                 f'{cpu["machine"].get("allocator", "system malloc")}), torch {cpu["machine"]["torch"]}, '
                 f'{cpu["machine"]["date"]}; the fastest median of {cpu.get("repeats", 1)} runs; '
                 f'ratio to `F.layer_norm` (lower is faster).', '',
                 '| shape | pass | F.layer_norm | plain | compiled | x.clone() | F.layer_norm GB/s |',
                 '| --- | --- | --- | --- | --- | --- | --- |']
        for r in cpu['results']:
            base = r['F.layer_norm']
            cells = [f'{r[k] / base:.2f}×' if r.get(k) is not None else 'n/a' for k in ('plain', 'compiled', 'clone')]
            lines.append(f'| {r["rows"]}×{r["cols"]} | {r["pass"]} | {base * 1e3:.2f} ms | ' + ' | '.join(cells) +
                         f' | {r["F.layer_norm GB/s"]:.1f} |')
        table = '\n'.join(lines)
    gpu = _load('gpu.json')
    if gpu is None:
        note = ('**GPU**: no GPU measurement has been saved yet (the machines this page was built on had no '
                'GPU). On a CUDA machine, `python scripts/benchmark_kernels.py` also measures the Triton kernel '
                'against `F.layer_norm` and a device-to-device copy, in GB/s, and saves `results/gpu.json`, '
                'which this page then shows.')
    else:
        lines = [f'**GPU**: {gpu["machine"]["device"]}, {gpu["machine"]["date"]}; GB/s (higher is faster).', '',
                 '| dtype | pass | cols | Triton | F.layer_norm | copy |', '| --- | --- | --- | --- | --- | --- |']
        for r in gpu['results']:
            lines.append(f'| {r["dtype"]} | {r["pass"]} | {r["cols"]} | {r["triton"]:.0f} | '
                         f'{r["F.layer_norm"]:.0f} | {r["copy"]:.0f} |')
        note = '\n'.join(lines)
    return {'cpu_table': table, 'gpu_note': note}


def _test():
    """
    ## Checks
    """
    import torch.nn.functional as F
    from labml_nn_norm._check import check, check_close, check_raises, section

    section('(rows, cols) as apex computes them')
    x = torch.randn(2, 3, 4, 5) + 1
    for ns in (5, (4, 5), (3, 4, 5)):
        rows, cols = as_rows_cols(x, ns)
        # Normalizing the (rows, cols) matrix row by row is the same as F.layer_norm on the original shape
        check_close(f'normalized_shape={ns}: ({rows}, {cols}) rows of the matrix == F.layer_norm',
                    F.layer_norm(x.reshape(rows, cols), (cols,)).reshape(x.shape), F.layer_norm(x, _as_shape(ns)))
    check_raises('a shape that does not end in normalized_shape', ValueError, as_rows_cols, x, (3, 5),
                 match='does not end in')
    #
    section('Memory-bound: operations per byte')
    for dtype in (torch.float32, torch.bfloat16):
        t = traffic(4096, 4096, dtype)
        check(f'{dtype}: {t["flops_per_byte"]:.2f} FLOP/byte, far below a GPU ridge point (> 10)',
              t['flops_per_byte'] < 3, f'{t["bytes"] / 1e6:.1f} MB, {t["flops"] / 1e6:.0f} MFLOP')
    #
    section("OneFlow's three paths (simplified)")
    check('768 and 1024 columns: warp per row', oneflow_path(768) == oneflow_path(1024) == 'warp')
    check('4096 columns: block, row cached in shared memory', oneflow_path(4096) == 'block, shared memory')
    check('65536 columns: block, uncached', oneflow_path(65536) == 'block, uncached')
    #
    cpu = _load('cpu.json')
    check('saved CPU results exist and name their machine', cpu is not None and bool(cpu['machine']['cpu']),
          cpu['machine']['cpu'] if cpu else 'missing: run scripts/benchmark_kernels.py')
