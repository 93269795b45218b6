r"""
---
title: Fast LayerNorm kernels
summary: Why LayerNorm is limited by memory traffic, how production GPU kernels (OneFlow, NVIDIA
  apex, the Triton tutorial) lay a row out over threads, read from their source, and what we
  measured.
section: Fast kernels
order: 31
---

# Fast LayerNorm kernels

LayerNorm does very little arithmetic per element, so how fast it runs is decided by how many
bytes it moves, not by how many operations it does. This section reads how three fast GPU
kernels organize the work (each claim below links the lines it comes from), then builds one:
[a LayerNorm kernel in Triton](triton_layer_norm.md), forward and backward, tested on the CPU
with Triton's interpreter. That page also compares it with the Triton tutorial's kernel.

### Memory-bound: bytes per element against operations per element

Count the forward pass's floating-point operations per element as 8 (the mean's addition;
subtract the mean, square, and add into the variance; subtract, multiply by $1/\sigma$, multiply
by $\gamma$, add $\beta$). The *least* it can move is one read of $x$ and one write of $y$ per
element ($\gamma$, $\beta$ and the per-row statistics are small next to them for long rows):

{{ traffic_table }}

A machine is limited by memory rather than arithmetic when its peak operations per second divided
by its bytes per second (the *ridge point* of the roofline model) is larger than this ratio.
We quote no GPU's figures here: we have not measured one, and the vendor numbers we found were
second-hand copies. What we can show is that on the CPU we measured, `F.layer_norm`'s forward
takes {{ clone_ratio }} the time of `x.clone()`, a kernel that does no arithmetic at all and
moves the same bytes (the table at the end of the page). A LayerNorm kernel cannot beat a copy;
what a fast one does is avoid moving $x$ more often than it must:

* fuse everything into one kernel (no separate kernels for mean, variance and output, each
  reading $x$ again from memory);
* keep a row on chip (registers or shared memory) between computing its statistics and writing
  its output, rather than reading it twice from global memory;
* use wide loads: each thread loads several consecutive elements with one vector access
  (OneFlow's *pack*, below).

### The input as `(rows, cols)`

Whatever the input's shape, LayerNorm normalizes each group of its last dimensions. Kernels
flatten it to a matrix: `cols` is the product of `normalized_shape` and `rows` the product of the
rest. NVIDIA apex's
[`compute_n1_n2`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda.cpp#L8-L19)
computes exactly these two numbers ($n_1$ rows, $n_2$ columns); `as_rows_cols()` below does the
same. Then the kernel is a *row reduction*: each row is reduced to $(\mu, \sigma)$ and
transformed, independently of all other rows. OneFlow's and apex's kernels below compute each
row's statistics with [Welford's update and Chan's merge](../numerics/index.md): Welford per
thread over the elements it loaded, Chan to combine threads.

### OneFlow: three paths, chosen by the row length

OneFlow's forward ([`layer_norm.cuh`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L307-L898))
picks one of three kernels in
[`DispatchLayerNorm`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L867-L889):
the warp path when `cols` $\le 1024$, otherwise it tries the shared-memory path and falls back to
the uncached one. With a `double` compute type it always takes the uncached path
([L891-L898](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L891-L898)).
Its *pack* is the number of consecutive elements one thread loads and stores with one vector
access ([`Pack`, `DirectLoad`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L163-L195)),
so its width in bytes is pack × the element size: 16 bytes for 4 floats, 8 for 4 halves.

* **Warp path** ([`LayerNormWarpImpl`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L307-L403)):
  a group of threads per row, the row in registers. The pack is **2** if `cols` is even, else
  **1** ([`DispatchLayerNormWarpImplPackSize`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L538-L551)).
  Rows of at most 32 packs get a group of 4, 8, 16 or 32 threads (the smallest whose packs cover
  the row), and each group takes two rows at a time when `rows` is even; longer rows get a whole
  warp, each thread holding up to 32 columns
  ([`DispatchLayerNormWarpImplCols`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L453-L536)).
  Each thread loads its packs into a register array and runs Welford over them, the group merges
  with shuffles ([`WelfordWarpAllReduce`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L235-L256),
  `__shfl_down_sync` of $(\bar{x}, M_2, n)$ with a halving offset, then a broadcast from lane 0),
  and the output is computed from the registers, so $x$ is read once. Blocks have 128 threads
  ([L412-L416](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L412-L416)).
* **Block path, row cached in shared memory**
  ([`LayerNormBlockSMemImpl`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L562-L605)):
  one block per row; its threads load the row pack by pack into shared memory while running
  Welford, merge per warp with shuffles and then across warps through shared memory
  ([`WelfordBlockAllReduce`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L258-L305)),
  and write the output from shared memory. The pack is **4**, **2** or **1**, the largest that
  divides `cols` ([L749-L765](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L749-L765)).
  The row needs `cols` × the load type's size of shared memory
  ([L683](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L683));
  the forward op loads with `DirectLoad<T, T>`
  ([`layer_norm_gpu_kernel.cu`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/user/kernels/layer_norm_gpu_kernel.cu#L225)),
  so that is the input's own dtype. Before choosing, OneFlow raises each kernel's dynamic
  shared-memory limit to the device's opt-in maximum per block, less the kernel's static shared
  memory and 1 KiB
  ([L626-L681](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L626-L681)),
  then asks the CUDA occupancy calculator how many 128-thread blocks with that much shared memory
  fit on a multiprocessor: if none, this path is refused. Otherwise it takes the largest block
  of 1024, 512 or 256 threads that keeps as many blocks per multiprocessor as 128 threads do (or
  any that fits at all when `rows` is at most the number of multiprocessors), else 128
  ([`TryDispatchLayerNormBlockSMemImplBlockSize`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L636-L747)).
* **Block path, uncached**
  ([`LayerNormBlockUncachedImpl`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L776-L838)):
  1024 threads per block, one pass over the row for the statistics and a second read of $x$
  from global memory for the output; pack 4, 2 or 1 as above
  ([L840-L856](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L840-L856)).

In every path a block loops over rows with a grid stride, and the grid has at most
(multiprocessors × resident blocks per multiprocessor × 32) blocks
([`GetNumBlocks`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L95-L116)).
`oneflow_path()` below restates the choice of path, pack and threads per row; it replaces the
occupancy query by a shared-memory budget that you pass in.

### apex: one block of 4 warps per row, the row read twice

apex's forward ([`layer_norm_cuda_kernel.cu`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L51-L363))
has a single layout, whatever the row length.
[`HostApplyLayerNorm`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L803-L812)
launches blocks of `threads(32, 4, 1)` (4 warps, 128 threads) on a grid of
`blocks(1, min(n1, maxGridY), 1)`, and
[`cuApplyLayerNorm_`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L317-L363)
loops `for (i1 = blockIdx.y; i1 < n1; i1 += gridDim.y)`: **one row per block at a time, the 4
warps splitting the row**. For each row,
[`cuWelfordMuSigma2`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L51-L150):

1. each of the 128 threads takes 4 consecutive elements at a time, starting at 4 × its index and
   striding by 512, and runs Welford over them (a scalar tail loop takes the rest)
   ([L67-L88](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L67-L88));
   the `at::Half` specialization takes 8 consecutive elements at a time, as four `__half2`
   loads, after one thread takes a first element if the row is not 4-byte aligned
   ([L152-L205](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L152-L205));
2. each warp merges its 32 partials with Chan's formula in 5 shuffle steps, reading from lane
   `(lane + 2^l) & 31` ([L89-L100](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L89-L100));
3. the 4 warps merge through shared memory in a tree (the upper half of the warps writes, the
   lower half merges), and thread (0, 0) broadcasts $\mu$ and $M_2$ through shared memory;
   the variance is $M_2 / n_2$ ([L101-L141](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L101-L141)).

Then the block reads the row **again from global memory**, one element per thread with stride
128, to write $y$, and thread (0, 0) stores $\mu$ and $1/\sigma$
([L331-L360](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L331-L360)):
the uncached design, for every row length.

The backward
([`HostLayerNormGradient`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L848-L894))
launches up to three kernels:

* $d\gamma$, $d\beta$ in two steps. `cuComputePartGradGammaBeta` runs a grid of
  (`cols`/32 rounded up) × 16 blocks of 32 × 4 threads: each block takes a strip of 32 columns
  and about a sixteenth of the rows (in segments of 16 rows), sums $dy$ and $dy\,\hat{x}$ in
  shared memory, and writes one row of the two `part_size = 16` partial buffers, float32 for
  half inputs
  ([L481-L554](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L481-L554),
  launch [L854-L875](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L854-L875)).
  `cuComputeGradGammaBeta` then sums the 16 partials of each column with blocks of 32 × 8 threads
  ([L556-L606](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L556-L606),
  launch [L877-L881](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L877-L881)).
  This step runs only when both $\gamma$ and $\beta$ are given.
* $dx$ with the forward's layout
  ([`cuComputeGradInput`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L608-L801),
  launch [L884-L893](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L884-L893)):
  a block of 4 warps per row; a first pass sums $dy\,\gamma$ and $dy\,\gamma\,\hat{x}$, merged by
  XOR shuffles within each warp and through shared memory across warps; a second pass reads $x$
  and $dy$ again and writes $dx$.

With `memory_efficient`, apex's autograd function saves the output $y$ instead of $x$ and no mean
([`fused_layer_norm.py`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/normalization/fused_layer_norm.py#L53-L56)),
and the backward kernels recover $\hat{x} = (y - \beta)/\gamma$, with $\gamma$ clamped away from
zero
([L378-L394](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L378-L394),
[L761](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L761)).

### Measured on the CPU

`scripts/benchmark_kernels.py` times our plain PyTorch LayerNorm (several separate operations),
`torch.compile` of it, PyTorch's native `F.layer_norm`, and `x.clone()` (the copy: the same bytes,
no arithmetic), as ratios to `F.layer_norm`. On a small shared virtual machine these are rough;
the script keeps each cell's fastest of several runs, and uses jemalloc set to keep freed pages
when it is installed (we conjecture that, with the system allocator, page faults on each fresh
large output add noise; we have not measured that here).

{{ plain_ops }}

{{ cpu_table }}

{{ cpu_summary }}

[A fused LayerNorm on the CPU](fused_cpu.md) joins a compiled forward and a compiled
hand-derived backward in one `torch.autograd.Function`, and counts the bytes each of these paths
moves.

{{ gpu_note }}
"""

import json
import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch

from labml_nn_norm.layer_norm import _shape_t, normalized_shape_tuple

RESULTS = Path(__file__).parent / 'results'


def __getattr__(name: str):
    # `labml_nn_norm.kernels.compiled_layer_norm` is [the fused CPU page](fused_cpu.md)'s
    # function, imported on first use (importing it here would run that page's module whenever
    # this package is imported, including by `python -m labml_nn_norm.kernels.fused_cpu`)
    if name == 'compiled_layer_norm':
        from labml_nn_norm.kernels.fused_cpu import compiled_layer_norm
        return compiled_layer_norm
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def as_rows_cols(x: torch.Tensor, normalized_shape: _shape_t) -> Tuple[int, int]:
    """
    ## `(rows, cols)`, as apex's `compute_n1_n2`

    `cols` $= n_2$ is the product of `normalized_shape`, `rows` $= n_1$ the number of such
    groups.
    """
    shape = normalized_shape_tuple(normalized_shape)
    n2 = math.prod(shape)
    if tuple(x.shape[x.dim() - len(shape):]) != shape:
        raise ValueError(f'input of size {list(x.shape)} does not end in normalized_shape '
                         f'{list(shape)}')
    return x.numel() // n2 if n2 else 0, n2


# Floating-point operations per element of the forward pass, counted as in the text above
FLOPS_PER_ELEMENT = 8


def traffic(rows: int, cols: int, dtype: torch.dtype) -> dict:
    """
    ## Bytes and operations of one forward pass

    The minimum traffic: read $x$, write $y$, read $\\gamma$ and $\\beta$ once, write $\\mu$ and
    $1/\\sigma$ (float32) per row.
    """
    size = torch.empty((), dtype=dtype).element_size()
    bytes_moved = 2 * rows * cols * size + 2 * cols * size + 2 * rows * 4
    flops = FLOPS_PER_ELEMENT * rows * cols
    return {'bytes': bytes_moved, 'flops': flops, 'flops_per_byte': flops / bytes_moved}


def oneflow_path(cols: int, dtype: torch.dtype = torch.float32,
                 smem_per_block: Optional[int] = None) -> Dict[str, Optional[int]]:
    """
    ## OneFlow's choice, restated

    Returns the path, the pack (elements per vector access) and, on the warp path, the threads
    per row. `smem_per_block` stands in for the occupancy query: the shared memory one block may
    use (`None`: the row always fits). A `float64` input computes in `double`, which always takes
    the uncached path. Custom loaders' `CanPackAs` are not modelled: the forward op's
    `DirectLoad` and `AffineStore` define none, so only the divisibility of `cols` counts.
    """
    if cols <= 0:
        raise ValueError(f'cols must be positive, got {cols}')
    size = torch.empty((), dtype=dtype).element_size()
    # Block paths: the largest of 4, 2, 1 that divides `cols`
    block_pack = 4 if cols % 4 == 0 else 2 if cols % 2 == 0 else 1
    if dtype == torch.float64:
        return {'path': 'block, uncached', 'pack': block_pack, 'threads_per_row': None}
    if cols <= 1024:
        # Warp path: 2 if `cols` is even, else 1
        pack = 2 if cols % 2 == 0 else 1
        # Short rows: the smallest group of 4, 8, 16 or 32 threads whose packs cover the row
        group = next((g for g in (4, 8, 16, 32) if cols <= g * pack), 32)
        return {'path': 'warp', 'pack': pack, 'threads_per_row': group}
    # The row is cached in the input's own dtype (`DirectLoad<T, T>`)
    if smem_per_block is None or cols * size <= smem_per_block:
        return {'path': 'block, shared memory', 'pack': block_pack, 'threads_per_row': None}
    return {'path': 'block, uncached', 'pack': block_pack, 'threads_per_row': None}


def plain_passes(rows: int = 8, cols: int = 16) -> Dict[str, int]:
    """
    ## What the plain module costs in memory passes

    Runs our plain `layer_norm` (float32) under a dispatch mode that sees every ATen operation,
    and counts the operations and the full-size `(rows, cols)` tensors they read and write.
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    from labml_nn_norm.layer_norm import layer_norm

    counts = {'ops': 0, 'reads': 0, 'writes': 0}

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            counts['ops'] += 1
            # A read or write of a whole `(rows, cols)` tensor is one pass over memory
            counts['reads'] += sum(isinstance(a, torch.Tensor) and a.numel() == rows * cols
                                   for a in args)
            counts['writes'] += isinstance(out, torch.Tensor) and out.numel() == rows * cols
            return out

    x, w, b = torch.randn(rows, cols), torch.randn(cols), torch.randn(cols)
    with torch.no_grad(), Count():
        layer_norm(x, (cols,), w, b)
    return counts


def _load(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _forward_ratios(cpu: dict, key: str) -> List[float]:
    # The forward rows' time of `key` over F.layer_norm's
    return [r[key] / r['F.layer_norm'] for r in cpu['results']
            if r['pass'] == 'forward' and r.get(key) and r.get('dtype', 'float32') == 'float32']


def _range(values: List[float]) -> str:
    return f'{min(values):.2f}×' if f'{min(values):.2f}' == f'{max(values):.2f}' else \
        f'{min(values):.2f}× to {max(values):.2f}×'


def _artifacts():
    """
    ## The tables, drawn from the saved results

    Nothing here is typed by hand: `scripts/benchmark_kernels.py` writes the JSON files.
    """
    rows = ['| dtype | bytes per element (read $x$, write $y$) | FLOP per element '
            '| FLOP per byte, 4096 × 4096 |',
            '| --- | --- | --- | --- |']
    for dtype in (torch.float32, torch.bfloat16):
        size = torch.empty((), dtype=dtype).element_size()
        t = traffic(4096, 4096, dtype)
        rows.append(f'| {str(dtype).replace("torch.", "")} | {2 * size} | {FLOPS_PER_ELEMENT} | '
                    f'{t["flops_per_byte"]:.2f} |')
    out = {'traffic_table': '\n'.join(rows)}
    #
    p = plain_passes()
    out['plain_ops'] = (f'Our plain module, in float32, runs {p["ops"]} separate ATen operations; '
                        f'between them they read a full-size tensor {p["reads"]} times and write '
                        f'one {p["writes"]} times (counted under a dispatch mode by '
                        f'`plain_passes()`), against one read and one write for a fused kernel.')
    cpu = _load('cpu.json')
    if cpu is None:
        out['cpu_table'] = 'No CPU results saved yet: run `python scripts/benchmark_kernels.py`.'
        out['cpu_summary'] = ''
        out['clone_ratio'] = '(no CPU results saved)'
    else:
        m = cpu['machine']
        allocator = m.get('allocator', 'system malloc')
        lines = [f'Measured on **{m["cpu"]}** ({m["threads"]} threads, {allocator}), '
                 f'torch {m["torch"]}, {m["date"]}; the fastest median of '
                 f'{cpu.get("repeats", 1)} runs; ratio to `F.layer_norm` (lower is faster).', '',
                 '| shape | pass | F.layer_norm | plain | compiled | x.clone() '
                 '| F.layer_norm GB/s |',
                 '| --- | --- | --- | --- | --- | --- | --- |']
        for r in cpu['results']:
            if r.get('dtype', 'float32') != 'float32':
                continue  # bfloat16 is on the fused CPU page
            base = r['F.layer_norm']
            cells = [f'{r[k] / base:.2f}×' if r.get(k) is not None else 'n/a'
                     for k in ('plain', 'compiled', 'clone')]
            lines.append(f'| {r["rows"]}×{r["cols"]} | {r["pass"]} | {base * 1e3:.2f} ms | '
                         + ' | '.join(cells) + f' | {r["F.layer_norm GB/s"]:.1f} |')
        out['cpu_table'] = '\n'.join(lines)
        # F.layer_norm over clone is the inverse of clone over F.layer_norm
        out['clone_ratio'] = _range([1 / c for c in _forward_ratios(cpu, 'clone')])
        plain = _range(_forward_ratios(cpu, 'plain'))
        compiled = _range(_forward_ratios(cpu, 'compiled'))
        version = torch.__version__.split('+')[0]
        out['cpu_summary'] = (
            f'In the forward rows, the plain module takes {plain} the time of `F.layer_norm`, '
            f'and `torch.compile` of it {compiled}. For a 64 × 96 float32 input, '
            f'torch {version}\'s Inductor turns the forward into one C++ kernel, parallel over '
            'rows, that makes three passes over each row (sum, squared deviations, output); '
            '`tests/test_kernels.py` checks this on the generated code.')

    gpu = _load('gpu.json')
    if gpu is None:
        out['gpu_note'] = ('**GPU**: no GPU measurement has been saved (the machines this page was '
                           'built on had no GPU). On a CUDA machine, '
                           '`python scripts/benchmark_kernels.py` also measures the Triton kernel '
                           'against `F.layer_norm` and a device-to-device copy, in GB/s, and saves '
                           '`results/gpu.json`, which this page then shows.')
    else:
        lines = [f'**GPU**: {gpu["machine"]["device"]}, {gpu["machine"]["date"]}; '
                 'GB/s (higher is faster).', '',
                 '| dtype | pass | cols | Triton | compiled_layer_norm | F.layer_norm | copy |',
                 '| --- | --- | --- | --- | --- | --- | --- |']

        for r in gpu['results']:
            fused = f'{r["fused"]:.0f}' if r.get('fused') else 'n/a'
            lines.append(f'| {r["dtype"]} | {r["pass"]} | {r["cols"]} | {r["triton"]:.0f} | '
                         f'{fused} | {r["F.layer_norm"]:.0f} | {r["copy"]:.0f} |')
        out['gpu_note'] = '\n'.join(lines)
    return out


def _check_rows_cols():
    """
    ## `(rows, cols)` as apex computes them

    Normalizing the `(rows, cols)` matrix row by row is the same as `F.layer_norm` on the original
    shape.
    """
    import torch.nn.functional as F

    from labml_nn_norm._check import check_close, check_raises, section

    section('(rows, cols) as apex computes them')
    x = torch.randn(2, 3, 4, 5) + 1
    for ns in (5, (4, 5), (3, 4, 5)):
        rows, cols = as_rows_cols(x, ns)
        by_rows = F.layer_norm(x.reshape(rows, cols), (cols,)).reshape(x.shape)
        check_close(f'normalized_shape={ns}: ({rows}, {cols}) rows of the matrix == F.layer_norm',
                    by_rows, F.layer_norm(x, normalized_shape_tuple(ns)))
    check_raises('a shape that does not end in normalized_shape', ValueError, as_rows_cols, x,
                 (3, 5), match='does not end in')


def _check_traffic():
    """
    ## Operations per byte, and the plain module's passes over memory

    The numbers of the first table, and the counts in the sentence on the plain module.
    """
    from labml_nn_norm._check import check, section

    section('Operations per byte (the table above)')
    for dtype, expected in ((torch.float32, 1.0), (torch.bfloat16, 2.0)):
        t = traffic(4096, 4096, dtype)
        check(f'{dtype}: {t["flops_per_byte"]:.2f} FLOP/byte '
              f'(8 FLOP over {int(8 / expected)} bytes per element)',
              abs(t['flops_per_byte'] - expected) < 0.01 * expected,
              f'{t["bytes"] / 1e6:.1f} MB, {t["flops"] / 1e6:.0f} MFLOP')
    #
    section('The plain module: separate operations, each a pass over memory')
    p = plain_passes()
    check('10 ATen operations, 8 full-size reads, 6 full-size writes',
          (p['ops'], p['reads'], p['writes']) == (10, 8, 6), str(p))


def _check_oneflow():
    """
    ## OneFlow's dispatch, restated from `layer_norm.cuh`

    One case for each rule of the prose above. The shared-memory budgets are examples, not any
    GPU's figures.
    """
    from labml_nn_norm._check import check, check_raises, section

    section("OneFlow's dispatch, restated from layer_norm.cuh")
    check('6 columns: warp path, pack 2, a group of 4 threads',
          oneflow_path(6) == {'path': 'warp', 'pack': 2, 'threads_per_row': 4},
          str(oneflow_path(6)))
    check('33 columns (odd): warp path, pack 1, a whole warp',
          oneflow_path(33) == {'path': 'warp', 'pack': 1, 'threads_per_row': 32},
          str(oneflow_path(33)))
    check('768 and 1024 columns: warp path, pack 2 (never 4 on this path)',
          oneflow_path(768)['pack'] == oneflow_path(1024)['pack'] == 2
          and oneflow_path(1024)['path'] == 'warp')
    check('1026 columns: a block path, pack 2 (1026 is not a multiple of 4)',
          oneflow_path(1026) == {'path': 'block, shared memory', 'pack': 2,
                                 'threads_per_row': None})
    check('4096 float32 columns (16 KiB) with a 32 KiB budget: shared memory, pack 4',
          oneflow_path(4096, smem_per_block=32 * 1024) ==
          {'path': 'block, shared memory', 'pack': 4, 'threads_per_row': None})
    check('16384 float32 columns (64 KiB) with a 32 KiB budget: uncached',
          oneflow_path(16384, smem_per_block=32 * 1024)['path'] == 'block, uncached')
    check('16384 float16 columns (32 KiB, cached in the input dtype) fit that budget',
          oneflow_path(16384, torch.float16, smem_per_block=32 * 1024)['path']
          == 'block, shared memory')
    check('float64: always the uncached path',
          oneflow_path(8, torch.float64)['path'] == 'block, uncached')
    check_raises('cols must be positive', ValueError, oneflow_path, 0, match='positive')


def _check_saved():
    """
    ## The saved measurements

    The CPU results the tables are drawn from must exist; the GPU table is said to be skipped
    when no GPU measurement has been saved.
    """
    from labml_nn_norm._check import check, note, section, skipped

    section('Saved measurements')
    cpu = _load('cpu.json')
    check('saved CPU results exist and name their machine',
          cpu is not None and bool(cpu['machine']['cpu']),
          cpu['machine']['cpu'] if cpu else 'missing: run scripts/benchmark_kernels.py')
    note('F.layer_norm forward over x.clone()',
         _range([1 / c for c in _forward_ratios(cpu, 'clone')]))
    if _load('gpu.json') is None:
        skipped('GPU table', 'no results/gpu.json: no GPU measurement has been saved')
    else:
        check('saved GPU results name their device',
              bool(_load('gpu.json')['machine'].get('device')))


def _test():
    """
    ## Run all the checks
    """
    _check_rows_cols()
    _check_traffic()
    _check_oneflow()
    _check_saved()


# ## Sources
#
# * OneFlow, [`oneflow/core/cuda/layer_norm.cuh`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L867-L898)
#   (commit `25c8978`): the dispatch between the three forward paths; [L538-L551](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L538-L551)
#   the warp path's pack (2 or 1); [L453-L536](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L453-L536)
#   its thread groups and columns per thread; [L307-L431](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L307-L431)
#   the warp kernel and its 128-thread blocks; [L562-L765](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L562-L765)
#   the shared-memory kernel, the shared-memory limit, the occupancy test, the block size and the
#   pack (4, 2 or 1); [L776-L856](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L776-L856)
#   the uncached kernel; [L95-L116](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L95-L116)
#   the grid size; [L151-L210](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L151-L210)
#   `CanPackAs`, `Pack`, `DirectLoad`; [L212-L305](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L212-L305)
#   Welford, Chan's merge, the warp and block reductions.
# * OneFlow, [`oneflow/user/kernels/layer_norm_gpu_kernel.cu`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/user/kernels/layer_norm_gpu_kernel.cu#L219-L230):
#   the forward op's loader `DirectLoad<T, T>` and `AffineStore` (which define no `CanPackAs`, [L35-L75](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/user/kernels/layer_norm_gpu_kernel.cu#L35-L75)).
# * NVIDIA apex, [`csrc/layer_norm_cuda_kernel.cu`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L803-L812)
#   (commit `6424da3`): the forward launch (`threads(32, 4, 1)`, `blocks(1, min(n1, maxGridY), 1)`);
#   [L317-L363](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L317-L363)
#   the row loop and the second read of the row; [L13-L150](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L13-L150)
#   Welford, Chan's merge and `cuWelfordMuSigma2`; [L152-L267](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L152-L267)
#   its `at::Half` version; [L481-L606](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L481-L606)
#   the two $d\gamma$, $d\beta$ kernels; [L608-L801](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L608-L801)
#   the $dx$ kernel; [L848-L894](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L848-L894)
#   the backward launches.
# * NVIDIA apex, [`csrc/layer_norm_cuda.cpp`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda.cpp#L8-L19):
#   `compute_n1_n2`, the `(rows, cols)` view.
# * NVIDIA apex, [`apex/normalization/fused_layer_norm.py`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/normalization/fused_layer_norm.py#L53-L56):
#   what `memory_efficient` saves for the backward.
# * PyTorch 2.13.0 (the installed wheel): `torch.compile`'s generated C++ for our plain forward,
#   inspected with `torch._inductor.utils.run_and_get_code` in `tests/test_kernels.py`; the ATen
#   operations of the plain module, counted by `plain_passes()`.
# * Williams, Waterman, Patterson, [Roofline: an insightful visual performance model for multicore architectures](https://doi.org/10.1145/1498765.1498785),
#   Communications of the ACM 52(4), 2009: the name of the roofline model and of its ridge point. We
#   have not read the paper; the page uses only the definition it states itself (peak operations per
#   second over bytes per second).
