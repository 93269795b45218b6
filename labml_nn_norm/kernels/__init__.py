r"""
---
title: Fast LayerNorm kernels
summary: The least memory traffic LayerNorm needs, how production GPU kernels (PyTorch, OneFlow,
  NVIDIA apex) lay a row out over threads, read from their source, and what we measured on a CPU.
section: Fast kernels
order: 31
---

# Fast LayerNorm kernels

LayerNorm does very little arithmetic per element, so the least a kernel for it can do is read
$x$ once and write $y$ once, and the best it can hope for is the speed of a copy of the same
bytes. On a GPU, for long rows, that is the bound the kernels below are built around and judged
by: each keeps the number of passes over $x$ low, and OneFlow's article reports its LayerNorm as
*effective bandwidth* against apex's and PyTorch's (A100, half precision, 49152 rows of 32 to
32768 columns; [the article](https://oneflow2020.medium.com/how-to-implement-an-efficient-layernorm-cuda-kernel-oneflow-performance-optimization-731e91a285b8)).
How close to a copy they come we have not measured: the article's numbers are in plots we could
not read, and no GPU measurement is saved on this page. On the CPU we measured, the bytes do
not set the time alone (next section). This section reads how four GPU kernels
organize the work (PyTorch's own, OneFlow's, and apex's two; each claim links the lines it comes
from), then builds one: [a LayerNorm kernel in Triton](triton_layer_norm.md), forward and
backward, tested on the CPU with Triton's interpreter. That page also compares it with the
Triton tutorial's kernel.

For an input of `rows` × `cols` elements of $s$ bytes each, on a memory system that moves $B$
bytes per second, that bound is

$$\text{bytes} \ge 2 \cdot \text{rows} \cdot \text{cols} \cdot s, \qquad
t \ge \frac{2 \cdot \text{rows} \cdot \text{cols} \cdot s}{B}$$

## What you will learn

* why LayerNorm is limited by memory, not arithmetic, and what a fused kernel saves over the
  plain module's separate operations:
  [memory-bound](#memory-bound-bytes-per-element-against-operations-per-element);
* how every input becomes a row reduction: [the input as `(rows, cols)`](#the-input-as-rows-cols);
* how PyTorch's kernel lays a row over 128 threads, and which gradients autograd lets it skip:
  [PyTorch's own CUDA kernel](#pytorchs-own-cuda-kernel-the-baseline-of-every-table);
* how OneFlow picks one of three layouts by the row's length, with an explorer to try sizes:
  [OneFlow](#oneflow-three-paths-chosen-by-the-row-length);
* what apex's two kernels do differently:
  [`FusedLayerNorm`](#apex-fusedlayernorm-one-block-of-4-warps-per-row-the-row-read-twice) and
  [`FastLayerNorm`](#apex-fastlayernorm-the-row-in-registers-a-kernel-per-hidden-size);
* what a CPU timing can and cannot say: [measured on the CPU](#measured-on-the-cpu); then the
  [exercises](#exercises).
"""

import json
import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from labml_nn_norm._check import check, check_close, check_group, check_raises, note, skipped
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


# ## Memory-bound: bytes per element against operations per element
#
# Count the forward pass's floating-point operations per element as 8 (the mean's addition;
# subtract the mean, square, and add into the variance; subtract, multiply by $1/\sigma$, multiply
# by $\gamma$, add $\beta$). The *least* it can move is one read of $x$ and one write of $y$ per
# element ($\gamma$, $\beta$ and the per-row statistics are small next to them for long rows):
#
# {{ traffic_table }}

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


@check_group
def _check_traffic():
    """
    ## Operations per byte, as in the table above

    The FLOP per byte of the first table, recomputed by `traffic()` for 4096 × 4096.
    """

    for dtype, expected in ((torch.float32, 1.0), (torch.bfloat16, 2.0)):
        t = traffic(4096, 4096, dtype)
        check(f'{dtype}: {t["flops_per_byte"]:.2f} FLOP/byte '
              f'(8 FLOP over {int(8 / expected)} bytes per element)',
              abs(t['flops_per_byte'] - expected) < 0.01 * expected,
              f'{t["bytes"] / 1e6:.1f} MB, {t["flops"] / 1e6:.0f} MFLOP')


# A machine is limited by memory rather than arithmetic when its peak operations per second divided
# by its bytes per second (the *ridge point* of the roofline model) is larger than this ratio.
# We quote no GPU's figures here: we have not measured one, and the vendor numbers we found were
# second-hand copies. Such a count says what a kernel *cannot* beat, not how fast it runs:
#
# {{ cpu_bytes }}
#
# Where every round puts `F.layer_norm` above 1.1× the copy's time, or bfloat16 above float32's,
# something besides the bytes counts on this CPU (`_check_saved()` asserts that at least one cell
# does). We think it is the arithmetic and how well each loop is vectorized and split between
# threads (bfloat16, for one, is probably converted to float32 and back around the arithmetic), but
# we have not measured which. On a GPU, what a fast kernel does is avoid moving $x$ more often than
# it must:
#
# * fuse everything into one kernel (no separate kernels for mean, variance and output, each
#   reading $x$ again from memory);
# * keep a row on chip (registers or shared memory) between computing its statistics and writing
#   its output. A kernel that reads the row twice does not always pay for two trips to DRAM: the
#   second read comes soon after the first, by the same block, so for rows of a few to tens of KB
#   it probably hits in L1 or L2 most of the time (the Triton tutorial relies on the same cache for
#   its backward's partial $d\gamma$, $d\beta$ buffers, which "stay in the L2",
#   [05-layer-norm.py#L63-L67](https://github.com/triton-lang/triton/blob/0a99ae9ad2f7872191b7acb1f7afb11cdb5382e5/python/tutorials/05-layer-norm.py#L63-L67));
#   we have not measured how often;
# * use wide loads: each thread loads several consecutive elements with one vector access
#   (OneFlow's *pack*, below).

class PassCounter(TorchDispatchMode):
    """
    ## Counting memory passes

    A dispatch mode that sees every ATen operation run inside it, and counts the operations and
    the full-size tensors (`full` elements) they read and write: a read or write of a whole
    tensor is one pass over memory. Operations in `skip` (views, say) move nothing and are not
    counted as reads or writes. This page, [DyT](../dyt/index.md) and
    [the CPU fusion page](fused_cpu.md) count with it.
    """

    def __init__(self, full: int, skip=()):
        super().__init__()
        self.full, self.skip = full, set(skip)
        self.counts = {'ops': 0, 'reads': 0, 'writes': 0}

    def _is_full(self, t) -> bool:
        return isinstance(t, torch.Tensor) and t.numel() == self.full

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.counts['ops'] += 1
        if func.overloadpacket not in self.skip:
            self.counts['reads'] += sum(map(self._is_full, args))
            outs = out if isinstance(out, (tuple, list)) else (out,)
            self.counts['writes'] += sum(map(self._is_full, outs))
        return out


def plain_passes(rows: int = 8, cols: int = 16) -> Dict[str, int]:
    """
    ## What the plain module costs in memory passes

    Runs our plain `layer_norm` (float32) under the counter: the operations and the full-size
    `(rows, cols)` tensors they read and write.
    """
    from labml_nn_norm.layer_norm import layer_norm

    x, w, b = torch.randn(rows, cols), torch.randn(cols), torch.randn(cols)
    with torch.no_grad(), PassCounter(rows * cols) as counter:
        layer_norm(x, (cols,), w, b)
    return counter.counts


@check_group
def _check_plain_passes():
    """
    ## The plain module: separate operations, each a pass over memory
    """

    p = plain_passes()
    check('10 ATen operations, 8 full-size reads, 6 full-size writes',
          (p['ops'], p['reads'], p['writes']) == (10, 8, 6), str(p))


# ## The input as `(rows, cols)`
#
# Whatever the input's shape, LayerNorm normalizes each group of its last dimensions. Kernels
# flatten it to a matrix: `cols` is the product of `normalized_shape` and `rows` the product of the
# rest. NVIDIA apex's
# [`compute_n1_n2`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda.cpp#L8-L19)
# computes exactly these two numbers ($n_1$ rows, $n_2$ columns); `as_rows_cols()` below does the
# same. Then the kernel is a *row reduction*: each row is reduced to $(\mu, \sigma)$ and
# transformed, independently of all other rows. OneFlow's and apex's kernels below compute each
# row's statistics with [Welford's update and Chan's merge](../numerics/index.md): Welford per
# thread over the elements it loaded, Chan to combine threads.

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


@check_group
def _check_rows_cols():
    """
    ## `(rows, cols)` as apex computes them

    Normalizing the `(rows, cols)` matrix row by row is the same as `F.layer_norm` on the original
    shape.
    """
    import torch.nn.functional as F

    x = torch.randn(2, 3, 4, 5) + 1
    for ns in (5, (4, 5), (3, 4, 5)):
        rows, cols = as_rows_cols(x, ns)
        by_rows = F.layer_norm(x.reshape(rows, cols), (cols,)).reshape(x.shape)
        check_close(f'normalized_shape={ns}: ({rows}, {cols}) rows of the matrix == F.layer_norm',
                    by_rows, F.layer_norm(x, normalized_shape_tuple(ns)))
    check_raises('a shape that does not end in normalized_shape', ValueError, as_rows_cols, x,
                 (3, 5), match='does not end in')


# ## PyTorch's own CUDA kernel: the baseline of every table
#
# `F.layer_norm` on a CUDA tensor, the baseline every GPU table on these pages is measured against,
# has a fast path and a fallback
# ([`LayerNormKernelImplInternal`](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L706-L752)).
# The fast path runs for float32, float16 and
# bfloat16 when `cols` is a multiple of 4, at most $2^{24}$, and $x$, $y$, $\gamma$, $\beta$ are
# aligned to 4 elements ([L728-L741](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L728-L741)).
# It launches **one block per row**, of
# 32 × 4 = 128 threads ([`launch_vectorized_layer_norm_kernel`](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L682-L704);
# `num_threads()`
# is `C10_WARP_SIZE * 4` in the installed wheel's `ATen/native/cuda/thread_constants.h`):
#
# 1. each thread loads 4 consecutive elements with one aligned vector access (16 bytes in float32,
#    8 in half precision: the vector is 4 elements whatever the dtype,
#    [L37-L43](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L37-L43)),
#    striding by the block's 128 vectors, and runs Welford over them;
# 2. each warp merges its 32 partials with `WARP_SHFL_DOWN` and Chan's formula, then the warps
#    merge in a tree through shared memory ([`compute_stats`](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L148-L209));
# 3. the block reads the row **again**, vector by vector, to write $y$
#    ([L241-L272](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L241-L272)):
#    the row is not kept on chip between the two passes.
#
# Otherwise (an odd `cols`, say, or double) two kernels run, one block per row each:
# `RowwiseMomentsCUDAKernel` (Welford, block reduction) writes $\mu$ and $1/\sigma$, and
# `LayerNormForwardCUDAKernel` reads $x$ again, one element per thread
# ([L46-L103](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L46-L103),
# launches [L742-L751](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L742-L751)).
#
# The backward ([`LayerNormBackwardKernelImplInternal`](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L1083-L1245))
# runs
# `layer_norm_grad_input_kernel`, one block of 128 threads per row, two passes over $x$ and $dy$
# ([L338-L416](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L338-L416),
# launch [L1139-L1144](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L1139-L1144)),
# and the $d\gamma$, $d\beta$
# kernels **only if those gradients are asked for** (`if (dgamma->defined() || dbeta->defined())`,
# [L1148-L1244](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L1148-L1244)).
# So a benchmark that asks autograd for $dx$ alone times less work
# for `F.layer_norm` than for a kernel that always computes all three; `_check_backward_mask()`
# below shows the mask autograd passes, and `scripts/benchmark_kernels.py` asks every contender
# for all three gradients.

class BackwardMasks(TorchDispatchMode):
    """The `output_mask` of every `native_layer_norm_backward` run inside it: which of $dx$,
    $d\\gamma$, $d\\beta$ autograd asks for."""

    def __init__(self):
        super().__init__()
        self.masks = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten.native_layer_norm_backward.default:
            self.masks.append(list(args[-1]))
        return func(*args, **(kwargs or {}))


@check_group
def _check_backward_mask():
    """
    ## What autograd asks `native_layer_norm_backward` for

    Asking for $dx$ alone passes `output_mask = [True, False, False]`, which lets PyTorch skip its
    $d\\gamma$, $d\\beta$ kernels; asking for all three passes `[True, True, True]`. (The CPU
    kernel gets the same mask as the CUDA one: it is autograd's.)
    """
    import torch.nn.functional as F

    x, w, b = (torch.randn(*s, requires_grad=True) for s in ((4, 8), (8,), (8,)))
    dy = torch.randn(4, 8)
    with BackwardMasks() as seen:
        torch.autograd.grad(F.layer_norm(x, (8,), w, b), x, dy)
        torch.autograd.grad(F.layer_norm(x, (8,), w, b), (x, w, b), dy)
    check('dx alone: output_mask [True, False, False]; all three: [True, True, True]',
          seen.masks == [[True, False, False], [True, True, True]], str(seen.masks))


# ## OneFlow: three paths, chosen by the row length
#
# OneFlow's forward ([`layer_norm.cuh`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L307-L898))
# picks one of three kernels in
# [`DispatchLayerNorm`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L867-L889):
# the warp path when `cols` $\le 1024$, otherwise it tries the shared-memory path and falls back to
# the uncached one. With a `double` compute type it always takes the uncached path
# ([L891-L898](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L891-L898)).
# Its *pack* is the number of consecutive elements one thread loads and stores with one vector
# access ([`Pack`, `DirectLoad`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L163-L195)),
# so its width in bytes is pack × the element size: 16 bytes for 4 floats, 8 for 4 halves.
#
# * **Warp path** ([`LayerNormWarpImpl`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L307-L403)):
#   a group of threads per row, the row in registers. The pack is **2** if `cols` is even, else
#   **1** ([`DispatchLayerNormWarpImplPackSize`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L538-L551)).
#   Rows of at most 32 packs get a group of 4, 8, 16 or 32 threads (the smallest whose packs cover
#   the row), and each group takes two rows at a time when `rows` is even; longer rows get a whole
#   warp, each thread holding up to 32 columns
#   ([`DispatchLayerNormWarpImplCols`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L453-L536)).
#   Each thread loads its packs into a register array and runs Welford over them, the group merges
#   with shuffles ([`WelfordWarpAllReduce`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L235-L256),
#   `__shfl_down_sync` of $(\bar{x}, M_2, n)$ with a halving offset, then a broadcast from lane 0),
#   and the output is computed from the registers, so $x$ is read once. Blocks have 128 threads
#   ([L412-L416](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L412-L416)).
# * **Block path, row cached in shared memory**
#   ([`LayerNormBlockSMemImpl`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L562-L605)):
#   one block per row; its threads load the row pack by pack into shared memory while running
#   Welford, merge per warp with shuffles and then across warps through shared memory
#   ([`WelfordBlockAllReduce`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L258-L305)),
#   and write the output from shared memory. The pack is **4**, **2** or **1**, the largest that
#   divides `cols` ([L749-L765](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L749-L765)).
#   The row needs `cols` × the load type's size of shared memory
#   ([L683](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L683));
#   the forward op loads with `DirectLoad<T, T>`
#   ([`layer_norm_gpu_kernel.cu`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/user/kernels/layer_norm_gpu_kernel.cu#L225)),
#   so that is the input's own dtype. Before choosing, OneFlow raises each kernel's dynamic
#   shared-memory limit to the device's opt-in maximum per block, less the kernel's static shared
#   memory and 1 KiB
#   ([L626-L681](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L626-L681)),
#   then asks the CUDA occupancy calculator how many 128-thread blocks with that much shared memory
#   fit on a multiprocessor: if none, this path is refused. Otherwise it takes the largest block
#   of 1024, 512 or 256 threads that keeps as many blocks per multiprocessor as 128 threads do (or
#   any that fits at all when `rows` is at most the number of multiprocessors), else 128
#   ([`TryDispatchLayerNormBlockSMemImplBlockSize`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L636-L747)).
# * **Block path, uncached**
#   ([`LayerNormBlockUncachedImpl`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L776-L838)):
#   1024 threads per block, one pass over the row for the statistics and a second read of $x$
#   for the output (not kept on chip; for rows of a few to tens of KB much of it probably comes
#   from L1/L2); pack 4, 2 or 1 as above
#   ([L840-L856](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L840-L856)).

def oneflow_path(cols: int, dtype: torch.dtype = torch.float32,
                 smem_per_block: Optional[int] = None,
                 rows_even: bool = True) -> Dict[str, Optional[int]]:
    """
    ## OneFlow's choice, restated

    Returns the path, the pack (elements per vector access) and, on the warp path, the threads
    per row, the columns each thread holds in registers and the rows it takes per access.
    `smem_per_block` stands in for the occupancy query: the shared memory one block may use
    (`None`: the row always fits). A `float64` input computes in `double`, which always takes
    the uncached path. Custom loaders' `CanPackAs` are not modelled: the forward op's
    `DirectLoad` and `AffineStore` define none, so only the divisibility of `cols` counts.
    The page's dispatch explorer runs `ONEFLOW_PATH_JS`, a line-by-line port of this function.
    """
    if cols <= 0:
        raise ValueError(f'cols must be positive, got {cols}')
    size = torch.empty((), dtype=dtype).element_size()
    # Block paths: the largest of 4, 2, 1 that divides `cols`; one block per row
    block_pack = 4 if cols % 4 == 0 else 2 if cols % 2 == 0 else 1
    block = {'pack': block_pack, 'threads_per_row': None, 'cols_per_thread': None,
             'rows_per_access': 1}
    if dtype == torch.float64:
        return {'path': 'block, uncached', **block}
    if cols <= 1024:
        # Warp path: 2 if `cols` is even, else 1
        pack = 2 if cols % 2 == 0 else 1
        # Short rows: the smallest group of 4, 8, 16 or 32 threads whose packs cover the row,
        # one pack per thread, two rows per access when `rows` is even
        for group in (4, 8, 16, 32):
            if cols <= group * pack:
                return {'path': 'warp', 'pack': pack, 'threads_per_row': group,
                        'cols_per_thread': pack, 'rows_per_access': 2 if rows_even else 1}
        # Longer rows: a whole warp, each thread holding the smallest register array that
        # covers the row (2 or 4, then 8, 12, ... 32 columns)
        sizes = ((2, 4) if pack == 1 else (4,)) + tuple(range(8, 33, 4))
        per_thread = next(c for c in sizes if cols <= c * 32)
        return {'path': 'warp', 'pack': pack, 'threads_per_row': 32,
                'cols_per_thread': per_thread, 'rows_per_access': 1}
    # The row is cached in the input's own dtype (`DirectLoad<T, T>`)
    if smem_per_block is None or cols * size <= smem_per_block:
        return {'path': 'block, shared memory', **block}
    return {'path': 'block, uncached', **block}


# The same function in JavaScript, for the dispatch explorer below.
# `tests/test_dispatch_explorer.py` runs it with node on a grid of inputs and compares it with
# `oneflow_path()` point by point.
ONEFLOW_PATH_JS = """\
function oneflowPath(cols, dtype, smemPerBlock, rowsEven) {
  if (!(cols > 0)) { throw new Error('cols must be positive, got ' + cols); }
  var size = {float32: 4, float16: 2, bfloat16: 2, float64: 8}[dtype];
  var blockPack = cols % 4 === 0 ? 4 : cols % 2 === 0 ? 2 : 1;
  var block = {pack: blockPack, threads_per_row: null, cols_per_thread: null,
               rows_per_access: 1};
  var withPath = function (path, rest) {
    return {path: path, pack: rest.pack, threads_per_row: rest.threads_per_row,
            cols_per_thread: rest.cols_per_thread, rows_per_access: rest.rows_per_access};
  };
  if (dtype === 'float64') { return withPath('block, uncached', block); }
  if (cols <= 1024) {
    var pack = cols % 2 === 0 ? 2 : 1;
    var groups = [4, 8, 16, 32];
    for (var i = 0; i < groups.length; i++) {
      if (cols <= groups[i] * pack) {
        return withPath('warp', {pack: pack, threads_per_row: groups[i], cols_per_thread: pack,
                                 rows_per_access: rowsEven === false ? 1 : 2});
      }
    }
    var sizes = (pack === 1 ? [2, 4] : [4]).concat([8, 12, 16, 20, 24, 28, 32]);
    for (var j = 0; j < sizes.length; j++) {
      if (cols <= sizes[j] * 32) {
        return withPath('warp', {pack: pack, threads_per_row: 32, cols_per_thread: sizes[j],
                                 rows_per_access: 1});
      }
    }
  }
  if (smemPerBlock === null || smemPerBlock === undefined || cols * size <= smemPerBlock) {
    return withPath('block, shared memory', block);
  }
  return withPath('block, uncached', block);
}
"""


@check_group
def _check_oneflow():
    """
    ## OneFlow's dispatch, restated from `layer_norm.cuh`

    One case for each rule of the prose above. The shared-memory budgets are examples, not any
    GPU's figures.
    """

    def three(d):
        return {k: d[k] for k in ('path', 'pack', 'threads_per_row')}

    check('6 columns: warp path, pack 2, a group of 4 threads, two rows per access',
          oneflow_path(6) == {'path': 'warp', 'pack': 2, 'threads_per_row': 4,
                              'cols_per_thread': 2, 'rows_per_access': 2},
          str(oneflow_path(6)))
    check('... one row per access when the number of rows is odd',
          oneflow_path(6, rows_even=False)['rows_per_access'] == 1)
    check('33 columns (odd): warp path, pack 1, a whole warp, 2 columns per thread',
          oneflow_path(33) == {'path': 'warp', 'pack': 1, 'threads_per_row': 32,
                               'cols_per_thread': 2, 'rows_per_access': 1},
          str(oneflow_path(33)))
    check('768 and 1024 columns: warp path, pack 2 (never 4 on this path), 24 and 32 columns '
          'per thread',
          oneflow_path(768)['pack'] == oneflow_path(1024)['pack'] == 2
          and oneflow_path(1024)['path'] == 'warp'
          and (oneflow_path(768)['cols_per_thread'], oneflow_path(1024)['cols_per_thread'])
          == (24, 32))
    check('1026 columns: a block path, pack 2 (1026 is not a multiple of 4)',
          three(oneflow_path(1026)) == {'path': 'block, shared memory', 'pack': 2,
                                        'threads_per_row': None})
    check('4096 float32 columns (16 KiB) with a 32 KiB budget: shared memory, pack 4',
          three(oneflow_path(4096, smem_per_block=32 * 1024)) ==
          {'path': 'block, shared memory', 'pack': 4, 'threads_per_row': None})
    check('16384 float32 columns (64 KiB) with a 32 KiB budget: uncached',
          oneflow_path(16384, smem_per_block=32 * 1024)['path'] == 'block, uncached')
    check('16384 float16 columns (32 KiB, cached in the input dtype) fit that budget',
          oneflow_path(16384, torch.float16, smem_per_block=32 * 1024)['path']
          == 'block, shared memory')
    check('float64: always the uncached path',
          oneflow_path(8, torch.float64)['path'] == 'block, uncached')
    check_raises('cols must be positive', ValueError, oneflow_path, 0, match='positive')


# In every path a block loops over rows with a grid stride, and the grid has at most
# (multiprocessors × resident blocks per multiprocessor × 32) blocks
# ([`GetNumBlocks`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L95-L116)).
# `oneflow_path()` below restates the choice of path, pack and threads per row; it replaces the
# occupancy query by a shared-memory budget that you pass in. `figure_layout()` draws from it which
# thread moves which element; here a short row, on the warp path, and a long one, on the
# shared-memory block path, each beside apex's block (next section):
#
# {{ layout_warp }}
#
# {{ layout_block }}

# Elements drawn per row in the layout figure, and the width of one element
_SHOWN, _CELL = 32, 19
_PATH_NAMES = {'warp': 'warp path', 'block, shared memory': 'shared-memory block path',
               'block, uncached': 'uncached block path'}
_ROW_KEPT = {'warp': 'in registers', 'block, shared memory': 'in shared memory',
             'block, uncached': 'nowhere: it reads the row again'}


def _strip(x0: float, y: float, owners: List[int], width: int, label: str) -> List[str]:
    """
    One row of elements: a cell per element, shaded by the thread that owns it, a frame around
    each run of `width` elements one thread moves with one access, and the thread's number above.
    """
    out = [f'<text x="{x0 - 8}" y="{y + 13}" text-anchor="end" font-size="11">{label}</text>']
    for i, t in enumerate(owners):
        # Four shades, so that neighbouring threads differ in both palettes
        out.append(f'<rect x="{x0 + i * _CELL}" y="{y}" width="{_CELL}" height="18" '
                   f'fill="currentColor" fill-opacity="{0.08 + 0.17 * (t % 4):.2f}" '
                   'stroke="currentColor" stroke-opacity="0.35" stroke-width="0.5"/>')
    for start in range(0, len(owners), width):
        n = min(width, len(owners) - start)
        out.append(f'<rect x="{x0 + start * _CELL}" y="{y}" width="{n * _CELL}" height="18" '
                   'fill="none" stroke="currentColor" stroke-width="1.5"/>')
        out.append(f'<text x="{x0 + (start + n / 2) * _CELL}" y="{y - 3}" text-anchor="middle" '
                   f'font-size="9">{owners[start]}</text>')
    return out


def figure_layout(cols: int, dtype: torch.dtype = torch.float32, rows_even: bool = True) -> str:
    """
    ## Which thread moves which element

    The first 32 elements of a row (two rows where OneFlow takes two per access), each shaded by
    the thread that loads it and framed by the vector access it belongs to, with that thread's
    number above: OneFlow's layout for `cols`, from `oneflow_path()`, and apex's
    `FusedLayerNorm` block, whose two passes over the row split it differently.
    """
    flow = oneflow_path(cols, dtype, rows_even=rows_even)
    shown = min(cols, _SHOWN)
    pack = flow['pack']
    if flow['path'] == 'warp':
        # Pack i of the row goes to lane i mod (threads per row)
        owners = [(c // pack) % flow['threads_per_row'] for c in range(shown)]
        head = (f'OneFlow {_PATH_NAMES["warp"]}: pack {pack}, {flow["threads_per_row"]} '
                f'threads per row, {flow["cols_per_thread"]} columns per thread')
    else:
        # Pack i goes to thread i of a block of at least 128 threads
        owners = [c // pack for c in range(shown)]
        head = f'OneFlow {_PATH_NAMES[flow["path"]]}: pack {pack}, one block per row'
    rows = ['row 0', 'row 1'] if flow['rows_per_access'] == 2 else ['row 0']
    # apex: 4 consecutive elements per thread (8 for half) for the statistics, one per thread after
    run = 8 if dtype == torch.float16 else 4
    x0, width = 70, 70 + _SHOWN * _CELL + 20
    parts = [f'<text x="0" y="14" font-size="12" font-weight="bold">{head}</text>',
             f'<text x="0" y="30" font-size="11">row kept {_ROW_KEPT[flow["path"]]}</text>']
    y = 52
    for label in rows:
        parts += _strip(x0, y, owners, pack, label)
        y += 34
    parts.append(f'<text x="0" y="{y + 4}" font-size="12" font-weight="bold">'
                 f'apex FusedLayerNorm: 128 threads (4 warps) per row</text>')
    y += 26
    parts += _strip(x0, y, [c // run for c in range(shown)], run, 'stats')
    y += 34
    parts += _strip(x0, y, [c % 128 for c in range(shown)], 1, 'output')
    y += 28
    if cols > shown:
        parts.append(f'<text x="{x0}" y="{y}" font-size="11">… {cols - shown} more columns</text>')
        y += 8
    label = (f'Thread-to-data layout for {cols} {str(dtype).replace("torch.", "")} columns: '
             f'OneFlow {_PATH_NAMES[flow["path"]]} and the apex FusedLayerNorm block')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" '
            f'viewBox="0 0 {width} {y + 6}" width="{width}" height="{y + 6}" '
            'font-family="sans-serif" fill="currentColor">' + ''.join(parts) + '</svg>')


def layout_figure(cols: int, dtype: torch.dtype = torch.float32) -> str:
    """The figure with its caption, the finding for this `cols` in one sentence."""
    flow = oneflow_path(cols, dtype)
    name = str(dtype).replace('torch.', '')
    run = 8 if dtype == torch.float16 else 4
    caption = (f'For {cols} {name} columns OneFlow takes the {_PATH_NAMES[flow["path"]]}: '
               f'each thread moves packs of {flow["pack"]} adjacent elements and the row is kept '
               f'{_ROW_KEPT[flow["path"]]}; apex reads the row in runs of {run} elements per '
               'thread for the statistics, then again one element per thread for the output.')
    return (f'<figure class="layout-figure">{figure_layout(cols, dtype)}'
            f'<figcaption>{caption}</figcaption></figure>')


# Try other sizes: the explorer below runs a JavaScript port of `oneflow_path()` (tested against
# it on a grid of sizes in `tests/test_dispatch_explorer.py`).
#
# {{ explorer }}

def explorer_html(cols: int = 768) -> str:
    """
    ## The dispatch explorer

    A form (number, select and checkbox inputs, each with a label, so the keyboard and screen
    readers work as usual) whose output is `oneflowPath()` of `ONEFLOW_PATH_JS`. The first output
    is filled here from `oneflow_path()`, so the page says something without JavaScript. The
    script travels as a `data:` URI (nothing is fetched): the build translates the text nodes of
    computed HTML, and must not mistake JavaScript for prose. The script takes its words (the
    path names) from hidden spans, which the build does translate.
    """
    import base64

    first = oneflow_path(cols)
    names = ''.join(f'<span hidden data-path="{k}">{v}</span>' for k, v in _PATH_NAMES.items())
    script = (ONEFLOW_PATH_JS + '// end oneflowPath\n' + """\
(function () {
  var byId = function (id) { return document.getElementById(id); };
  var sizes = {float32: 4, float16: 2, bfloat16: 2, float64: 8};
  function show(id, value) { byId(id).textContent = value === null ? '-' : String(value); }
  function update() {
    var cols = parseInt(byId('ln-cols').value, 10);
    var dtype = byId('ln-dtype').value;
    var smemText = byId('ln-smem').value;
    var smem = smemText === '' ? null : parseInt(smemText, 10);
    var out;
    try { out = oneflowPath(cols, dtype, smem, byId('ln-even').checked); } catch (e) {
      ['ln-path', 'ln-pack', 'ln-threads', 'ln-per-thread', 'ln-rows', 'ln-bytes'].forEach(
        function (id) { show(id, null); });
      return;
    }
    var name = document.querySelector('#ln-explorer [data-path="' + out.path + '"]');
    show('ln-path', name ? name.textContent : out.path);
    show('ln-pack', out.pack);
    show('ln-threads', out.threads_per_row);
    show('ln-per-thread', out.cols_per_thread);
    show('ln-rows', out.rows_per_access);
    show('ln-bytes', out.pack * sizes[dtype]);
  }
  ['ln-cols', 'ln-dtype', 'ln-smem', 'ln-even'].forEach(function (id) {
    byId(id).addEventListener('input', update);
    byId(id).addEventListener('change', update);
  });
  update();
})();
""")
    src = base64.b64encode(script.encode()).decode()

    def cell(v):
        return '-' if v is None else str(v)
    options = ''.join(f'<option>{d}</option>'
                      for d in ('float32', 'float16', 'bfloat16', 'float64'))
    return (
        '<form id="ln-explorer" class="ln-explorer" onsubmit="return false">'
        f'<p><label for="ln-cols">cols</label> <input id="ln-cols" type="number" min="1" '
        f'step="1" value="{cols}"> '
        f'<label for="ln-dtype">dtype</label> <select id="ln-dtype">{options}</select> '
        '<label for="ln-smem">shared memory per block, in bytes (empty: the row always fits)'
        '</label> <input id="ln-smem" type="number" min="0" step="1024"> '
        '<label><input id="ln-even" type="checkbox" checked> an even number of rows</label></p>'
        '<dl aria-live="polite">'
        f'<dt>path</dt><dd id="ln-path">{_PATH_NAMES[first["path"]]}</dd>'
        f'<dt>pack</dt><dd id="ln-pack">{first["pack"]}</dd>'
        f'<dt>threads per row</dt><dd id="ln-threads">{cell(first["threads_per_row"])}</dd>'
        f'<dt>columns per thread</dt><dd id="ln-per-thread">{cell(first["cols_per_thread"])}</dd>'
        f'<dt>rows per access</dt><dd id="ln-rows">{first["rows_per_access"]}</dd>'
        f'<dt>bytes per vector access</dt><dd id="ln-bytes">{first["pack"] * 4}</dd></dl>'
        f'{names}<script src="data:text/javascript;base64,{src}"></script></form>')


@check_group(fold=True)
def _check_figures():
    """
    ## The figures and the explorer follow the code

    The layout figure is drawn from `oneflow_path()`: another `cols` or dtype draws another
    picture. The explorer's first output is `oneflow_path(768)`; `tests/test_dispatch_explorer.py`
    runs its JavaScript against the Python function on a grid of inputs.
    """
    import base64
    import re

    a, b = figure_layout(24), figure_layout(4096)
    check('the layout figure for 24 columns differs from the one for 4096', a != b)
    check('... and from the one for 24 float16 columns', a != figure_layout(24, torch.float16))
    check('24 columns: two rows drawn (two rows per access), 4096: one',
          '>row 1<' in a and '>row 1<' not in b)
    check('the figure has an accessible name', 'role="img" aria-label="' in a)
    html = explorer_html(768)
    script = base64.b64decode(re.search(r'base64,([A-Za-z0-9+/=]+)"', html).group(1)).decode()
    check('the explorer embeds ONEFLOW_PATH_JS unchanged', ONEFLOW_PATH_JS in script)
    check('its first output is oneflow_path(768): warp path, pack 2, 32 threads',
          '<dd id="ln-threads">32</dd>' in html and '<dd id="ln-pack">2</dd>' in html)
    check('every control has a label', all(f'for="{i}"' in html
                                           for i in ('ln-cols', 'ln-dtype', 'ln-smem'))
          and '<label><input id="ln-even"' in html)


# ## apex `FusedLayerNorm`: one block of 4 warps per row, the row read twice
#
# apex's older kernel, behind `apex.normalization.FusedLayerNorm`
# ([`layer_norm_cuda_kernel.cu`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L51-L363))
# has a single layout, whatever the row length.
# [`HostApplyLayerNorm`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L803-L812)
# launches blocks of `threads(32, 4, 1)` (4 warps, 128 threads) on a grid of
# `blocks(1, min(n1, maxGridY), 1)`, and
# [`cuApplyLayerNorm_`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L317-L363)
# loops `for (i1 = blockIdx.y; i1 < n1; i1 += gridDim.y)`: **one row per block at a time, the 4
# warps splitting the row**. For each row,
# [`cuWelfordMuSigma2`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L51-L150):
#
# 1. each of the 128 threads takes 4 consecutive elements at a time, starting at 4 × its index and
#    striding by 512, and runs Welford over them (a scalar tail loop takes the rest)
#    ([L67-L88](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L67-L88));
#    the `at::Half` specialization takes 8 consecutive elements at a time, as four `__half2`
#    loads, after one thread takes a first element if the row is not 4-byte aligned
#    ([L152-L205](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L152-L205));
# 2. each warp merges its 32 partials with Chan's formula in 5 shuffle steps, reading from lane
#    `(lane + 2^l) & 31` ([L89-L100](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L89-L100));
# 3. the 4 warps merge through shared memory in a tree (the upper half of the warps writes, the
#    lower half merges), and thread (0, 0) broadcasts $\mu$ and $M_2$ through shared memory;
#    the variance is $M_2 / n_2$ ([L101-L141](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L101-L141)).
#
# Then the block reads the row **again**, one element per thread with stride 128, to write $y$
# (from global memory; for rows of a few to tens of KB, read moments before by the same block, much
# of it probably hits L1/L2), and thread (0, 0) stores $\mu$ and $1/\sigma$
# ([L331-L360](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L331-L360)):
# the uncached design, for every row length.
#
# The backward
# ([`HostLayerNormGradient`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L848-L894))
# launches up to three kernels:
#
# * $d\gamma$, $d\beta$ in two steps. `cuComputePartGradGammaBeta` runs a grid of
#   (`cols`/32 rounded up) × 16 blocks of 32 × 4 threads: each block takes a strip of 32 columns
#   and about a sixteenth of the rows (in segments of 16 rows), sums $dy$ and $dy\,\hat{x}$ in
#   shared memory, and writes one row of the two `part_size = 16` partial buffers, float32 for
#   half inputs
#   ([L481-L554](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L481-L554),
#   launch [L854-L875](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L854-L875)).
#   `cuComputeGradGammaBeta` then sums the 16 partials of each column with blocks of 32 × 8 threads
#   ([L556-L606](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L556-L606),
#   launch [L877-L881](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L877-L881)).
#   This step runs only when both $\gamma$ and $\beta$ are given.
# * $dx$ with the forward's layout
#   ([`cuComputeGradInput`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L608-L801),
#   launch [L884-L893](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L884-L893)):
#   a block of 4 warps per row; a first pass sums $dy\,\gamma$ and $dy\,\gamma\,\hat{x}$, merged by
#   XOR shuffles within each warp and through shared memory across warps; a second pass reads $x$
#   and $dy$ again and writes $dx$.
#
# The $dx$ kernel uses $\gamma$ clamped away from zero by magnitude,
# `k_gamma = clamp_by_magnitude(gamma[l], eps)`, **in both modes**: a $|\gamma_j| < \epsilon$ is
# replaced by $\pm\epsilon$ in the $\gamma\,dy$ term of every $dx$, with or without
# `memory_efficient`
# ([L378-L394](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L378-L394),
# [L751-L773](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L751-L773)).
# With `memory_efficient`, apex's autograd function saves the output $y$ instead of $x$ and no mean
# ([`fused_layer_norm.py`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/normalization/fused_layer_norm.py#L53-L56)),
# and the backward kernels recover $\hat{x} = (y - \beta)/\gamma$ with that clamped $\gamma$
# ([L761](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L761);
# the $d\gamma$ kernel divides by it too, [L414-L422](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L414-L422)).


# ## apex `FastLayerNorm`: the row in registers, a kernel per hidden size
#
# apex's fast kernel is the other one, in `apex.contrib.layer_norm` (`FastLayerNorm`). It is
# compiled once per hidden size and dtype combination, from 768 to 65536 columns
# ([`REGISTER_FWD_LAUNCHER`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_fwd_cuda_kernel.cu#L52-L202)),
# and refuses any other size
# (`"FWD: Unsupported hidden_size or types"`, [`ln_api.cpp#L59-L67`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_api.cpp#L59-L67)).
# Each registration fixes `CTAS_PER_ROW`, `WARPS_M`, `WARPS_N` and the bytes per load
# ([`Kernel_traits`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_kernel_traits.h#L58-L114)):
#
# * each thread loads `BYTES_PER_LDG` bytes per access (16 for most sizes, that is 4 float32 or
#   8 half elements, `NUM_ELTS`; 4 or 8 bytes for a few sizes such as 3840), `LDGS` = `cols` /
#   (elements per load × threads per row) times, into a register
#   array, and computes the statistics and the output from those registers: **$x$ is read once**
#   ([`ln_fwd_kernel`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_fwd_kernels.cuh#L62-L105));
# * up to 2304 columns a 128-thread block takes 4 rows, a warp each (`WARPS_M` = 4); from 3072 to
#   8192 its 4 warps share one row (`WARPS_N` = 4);
# * from 10240 float32 columns (12288 in half precision) a row is split over `CTAS_PER_ROW` = 2, 4
#   or 8 blocks, launched together with `cudaLaunchCooperativeKernel`; each block reduces its part,
#   writes it to a workspace, waits at an inter-block barrier and merges all parts with Chan's
#   formula ([`launch_`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_fwd_cuda_kernel.cu#L8-L47),
#   [`Stats`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_utils.cuh#L537-L593)).
#   The number of blocks comes from the occupancy
#   calculator, and they loop over rows.
#
# PyTorch's kernel and apex's `FusedLayerNorm` read each row twice, for every row length;
# `FastLayerNorm` holds it in registers, but only for the sizes it was compiled for; OneFlow picks
# one of its three paths by the row's length. We have timed none of them.


# ## Measured on the CPU
#
# `scripts/benchmark_kernels.py` times our plain PyTorch LayerNorm (several separate operations),
# `torch.compile` of it, PyTorch's native `F.layer_norm`, and `x.clone()` (the copy: the same bytes,
# no arithmetic), forward and forward + backward (all three gradients for every contender). It
# repeats each cell in rounds: a round times every contender once, as the median of several calls,
# in an order that rotates so each goes first in turn; ratios are taken within a round. It runs each
# cell twice: **warm**, the same $x$ on every call, so what fits in the caches stays there, and
# **cold**, rotating through enough inputs that, between two uses of one, the others fill the
# last-level cache twice over. A ratio is called within 1.1× only when its slowest round is. The
# machine was a small virtual machine that other jobs were using at the same time, so the spread
# between rounds is wide; that is why every cell gives its min and max.
#
# {{ plain_ops }}
#
# {{ cpu_table }}
#
# {{ cpu_summary }}
#
# [A fused LayerNorm on the CPU](fused_cpu.md) joins a compiled forward and a compiled
# hand-derived backward in one `torch.autograd.Function`, and counts the bytes each of these paths
# moves.
#
# {{ gpu_note }}

def classify(ratio: Dict[str, float], bound: float = 1.1) -> str:
    """
    ## A verdict the spread can carry

    `ratio` is a min / median / max over rounds. "within" only when even the slowest round is
    within `bound`, "beyond" only when even the fastest round is beyond it; else "inconclusive".
    """
    if ratio['max'] <= bound:
        return 'within'
    if ratio['min'] > bound:
        return 'beyond'
    return 'inconclusive'


def _load(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _cells(cpu: dict, dtype: str = 'float32', kind: Optional[str] = None):
    # (row, cache state, cell) for the saved rows of one dtype (and pass)
    return [(r, cache, cell) for r in cpu['results'] for cache, cell in r['cache'].items()
            if r['dtype'] == dtype and kind in (None, r['pass'])]


def _spread(s: Dict[str, float], unit: str = '×', scale: float = 1.0, digits: int = 2) -> str:
    # "median (min–max)" of a min / median / max summary
    f = f'{{:.{digits}f}}'
    return (f'{f.format(s["median"] * scale)}{unit} '
            f'({f.format(s["min"] * scale)}–{f.format(s["max"] * scale)})')


def _inverse(s: Dict[str, float]) -> Dict[str, float]:
    return {'min': 1 / s['max'], 'median': 1 / s['median'], 'max': 1 / s['min']}


def _ratio_of_spreads(a: Dict[str, float], b: Dict[str, float]) -> Dict[str, float]:
    # a / b when the two were not timed in the same rounds: the widest interval the rounds allow
    return {'min': a['min'] / b['max'], 'median': a['median'] / b['median'],
            'max': a['max'] / b['min']}


def cpu_findings(cpu: dict) -> Dict[str, object]:
    """
    ## The numbers the prose quotes, from the saved rounds

    * `clone`: `F.layer_norm`'s forward time over `x.clone()`'s, per round, in each float32
      forward cell;
    * `bf16`: bfloat16's `F.layer_norm` forward time over float32's at 4096 × 768, warm and cold
      (different cells, so the interval is the widest the rounds allow);
    * `compiled`: how many float32 cells `torch.compile` of the plain module is within 1.1× of
      `F.layer_norm` in, beyond it, or inconclusive, by `classify()`.
    """
    clone = [_inverse(cell['ratio']['clone']) for _, _, cell in _cells(cpu, kind='forward')]
    bf16 = {}
    for cache in ('warm', 'cold'):
        times = {d: next(cell['seconds']['F.layer_norm'] for r, c, cell in _cells(cpu, d, 'forward')
                         if c == cache and (r['rows'], r['cols']) == (4096, 768))
                 for d in ('float32', 'bfloat16')}
        bf16[cache] = _ratio_of_spreads(times['bfloat16'], times['float32'])
    verdicts = [classify(cell['ratio']['compiled']) for _, _, cell in _cells(cpu)]
    return {'clone': clone, 'bf16': bf16,
            'compiled': {v: verdicts.count(v) for v in ('within', 'beyond', 'inconclusive')}}


def _slower(s: Dict[str, float]) -> str:
    return 'slower' if s['min'] > 1 else 'faster' if s['max'] < 1 else 'inconclusive'


@check_group(fold=True)
def _check_saved():
    """
    ## The saved CPU measurements: rounds, ratios, cold inputs and the prose's claim

    The CPU results the tables are drawn from: at least 5 rounds, min ≤ median ≤ max everywhere,
    the ratios recomputed from the rounds, cold inputs that do not fit the last-level cache, and
    verdicts that add up. The GPU table is said to be skipped when no GPU measurement exists.
    """
    import statistics

    cpu = _load('cpu.json')
    check('saved CPU results exist and name their machine',
          cpu is not None and bool(cpu['machine']['cpu']),
          cpu['machine']['cpu'] if cpu else 'missing: run scripts/benchmark_kernels.py')
    check(f'{cpu["rounds"]} rounds per cell (at least 5)', cpu['rounds'] >= 5)
    cells = [(r, c, cell) for r in cpu['results'] for c, cell in r['cache'].items()]
    ordered = all(s['min'] <= s['median'] <= s['max']
                  for _, _, cell in cells for group in ('seconds', 'ratio')
                  for s in cell[group].values())
    check(f'{len(cells)} cells, warm and cold: min ≤ median ≤ max in each', ordered)
    recomputed = all(
        abs(statistics.median([t / f for t, f in zip(cell['rounds'][k],
                                                     cell['rounds']['F.layer_norm'])])
            - cell['ratio'][k]['median']) < 1e-12
        for _, _, cell in cells for k in cell['ratio'])
    check('every ratio is the median of the per-round ratios saved beside it', recomputed)
    llc = cpu['machine']['last_level_cache_bytes']
    cold_ok = all(cell['buffers'] * r['rows'] * r['cols'] * (4 if r['dtype'] == 'float32' else 2)
                  >= 2 * llc for r, c, cell in cells if c == 'cold')
    check(f'cold cells rotate through inputs of at least twice the {llc // 2 ** 20} MiB cache',
          cold_ok)
    f = cpu_findings(cpu)
    check('the verdicts on torch.compile count each float32 cell once',
          sum(f['compiled'].values()) == len(_cells(cpu)), str(f['compiled']))
    check('classify(): a spread across 1.1 is inconclusive',
          classify({'min': 1.0, 'median': 1.05, 'max': 1.2}) == 'inconclusive'
          and classify({'min': 0.9, 'median': 1.0, 'max': 1.1}) == 'within')
    beyond = [classify(c) == 'beyond' for c in f['clone']]
    check('the prose\'s claim: in at least one cell every round puts F.layer_norm above 1.1x the '
          'copy, or bfloat16 above float32',
          any(beyond) or 'slower' in (_slower(f['bf16']['warm']), _slower(f['bf16']['cold'])),
          f'{sum(beyond)} of {len(beyond)} cells; bfloat16: {_slower(f["bf16"]["warm"])} warm, '
          f'{_slower(f["bf16"]["cold"])} cold')
    note('F.layer_norm forward over x.clone(), medians per cell',
         ', '.join(f'{c["median"]:.2f}×' for c in f['clone']))
    note('bfloat16 over float32 at 4096×768, warm and cold',
         f'{_spread(f["bf16"]["warm"])}; {_spread(f["bf16"]["cold"])}')
    if _load('gpu.json') is None:
        skipped('GPU table', 'no results/gpu.json: no GPU measurement has been saved')
    else:
        check('saved GPU results name their device',
              bool(_load('gpu.json')['machine'].get('device')))


def _artifacts():
    """
    ## The tables and figures, drawn from the code and the saved results

    Nothing here is typed by hand: `scripts/benchmark_kernels.py` writes the JSON file, and the
    figures and the explorer come from `oneflow_path()`.
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
    out['layout_warp'] = layout_figure(24)
    out['layout_block'] = layout_figure(4096)
    out['explorer'] = explorer_html(768)
    #
    p = plain_passes()
    out['plain_ops'] = (f'Our plain module, in float32, runs {p["ops"]} separate ATen operations; '
                        f'between them they read a full-size tensor {p["reads"]} times and write '
                        f'one {p["writes"]} times (counted under a dispatch mode by '
                        f'`plain_passes()`), against one read and one write for a fused kernel.')
    cpu = _load('cpu.json')
    if cpu is None or 'cache' not in cpu['results'][0]:
        out['cpu_table'] = 'No CPU results saved yet: run `python scripts/benchmark_kernels.py`.'
        out['cpu_summary'] = out['cpu_bytes'] = ''
        return {**out, 'gpu_note': _gpu_note()}
    m = cpu['machine']
    lines = [f'Measured on **{m["cpu"]}** ({m["threads"]} thread(s), {m["allocator"]}, '
             f'{m["last_level_cache_bytes"] // 2 ** 20} MiB last-level cache), torch {m["torch"]}, '
             f'{m["date"]}, while other jobs shared the machine (load average '
             f'{m["load_average"]:.1f} at the end). Each cell: median (min–max) over '
             f'{cpu["rounds"]} rounds; a round times every contender once, in turn; ratios to '
             '`F.layer_norm` within each round (lower is faster). **Warm**: the same input every '
             'call. **Cold**: a rotation through inputs that together are at least twice the '
             'last-level cache.', '',
             '| shape | pass | cache | F.layer_norm, ms | plain | compiled | x.clone() |',
             '| --- | --- | --- | --- | --- | --- | --- |']
    for r, cache, cell in _cells(cpu):
        ratios = [_spread(cell['ratio'][k]) if k in cell['ratio'] else 'n/a'
                  for k in ('plain', 'compiled', 'clone')]
        lines.append(f'| {r["rows"]}×{r["cols"]} | {r["pass"]} | {cache} | '
                     f'{_spread(cell["seconds"]["F.layer_norm"], "", 1e3)} | '
                     + ' | '.join(ratios) + ' |')
    out['cpu_table'] = '\n'.join(lines)
    f = cpu_findings(cpu)
    medians = [c['median'] for c in f['clone']]
    slower = sum(classify(c) == 'beyond' for c in f['clone'])
    out['cpu_bytes'] = (
        f'On the CPU we measured, `F.layer_norm`\'s forward takes {min(medians):.2f}× to '
        f'{max(medians):.2f}× the time of `x.clone()`, which moves the same bytes (medians of the '
        f'{len(medians)} float32 forward cells; single rounds from '
        f'{min(c["min"] for c in f["clone"]):.2f}× to {max(c["max"] for c in f["clone"]):.2f}×); '
        f'in {slower} of the {len(medians)} cells even its fastest round takes more than 1.1× the '
        'copy\'s.\n'  # one sentence per line: each is translated on its own
        'At 4096 × 768, bfloat16 moves half the bytes of float32, and its forward takes '
        f'{_spread(f["bf16"]["warm"])} the time of float32\'s warm '
        f'({_slower(f["bf16"]["warm"])}) and {_spread(f["bf16"]["cold"])} cold '
        f'({_slower(f["bf16"]["cold"])}).')
    c = f['compiled']
    out['cpu_summary'] = (
        f'`torch.compile` of the plain module is within 1.1× of `F.layer_norm` in {c["within"]} '
        f'of the {sum(c.values())} float32 cells, beyond it in {c["beyond"]}, and inconclusive '
        f'in {c["inconclusive"]} (within: even its slowest round is within 1.1×; beyond: even its '
        'fastest is not). For a 64 × 96 float32 input, torch '
        f'{torch.__version__.split("+")[0]}\'s Inductor turns the forward into one C++ kernel, '
        'parallel over rows, that makes three passes over each row (sum, squared deviations, '
        'output); `tests/test_kernels.py` checks this on the generated code.')
    return {**out, 'gpu_note': _gpu_note()}


def _gpu_note() -> str:
    gpu = _load('gpu.json')
    if gpu is None:
        return ('**GPU**: not measured. No GPU measurement has been saved (the machines this page '
                'was built on had no GPU), so nothing on this page says how fast any of these '
                'kernels runs on a GPU. On a CUDA machine, `python scripts/benchmark_kernels.py` '
                'also measures the Triton kernel against `F.layer_norm` and a device-to-device '
                'copy, in GB/s, asking every contender for all three gradients in the backward, '
                'and saves `results/gpu.json`, which this page then shows.')
    lines = [f'**GPU**: {gpu["machine"]["device"]}, {gpu["machine"]["date"]}; '
             'GB/s (higher is faster), cold L2.', '',
             '| dtype | pass | cols | Triton | compiled_layer_norm | F.layer_norm | copy |',
             '| --- | --- | --- | --- | --- | --- | --- |']
    for r in gpu['results']:
        fused = f'{r["fused"]:.0f}' if r.get('fused') else 'n/a'
        lines.append(f'| {r["dtype"]} | {r["pass"]} | {r["cols"]} | {r["triton"]:.0f} | '
                     f'{fused} | {r["F.layer_norm"]:.0f} | {r["copy"]:.0f} |')
    return '\n'.join(lines)


# ## Exercises
#
# 1. **Short rows.** `traffic()` counts $\gamma$, $\beta$ and the per-row $\mu$, $1/\sigma$ as
#    well as $x$ and $y$. What share of a float32 forward's bytes are they for 4096 rows of 32
#    columns, and for 4096 rows of 4096? When may the text's "small next to them" be used?
# 2. **OneFlow by hand.** Without running `oneflow_path()`, derive OneFlow's path, pack and
#    threads per row for 1000 float32 columns, 1025 columns, and 4097 float32 columns with a
#    16 KiB shared-memory budget; then check your answers with the function.
# 3. **apex's reduction in Python.** Split a row of 768 float64 values over 128 threads as
#    `cuWelfordMuSigma2` does (4 consecutive elements per step, starting at 4 × the thread's
#    index, striding by 512), run Welford in each thread and merge the 128 partials with Chan's
#    formula. Does the merged $(\mu, M_2 / n)$ equal `torch.var_mean`?
# 4. **Only $d\gamma$.** Ask autograd for the gradient of `F.layer_norm` with respect to the weight
#    alone. Which `output_mask` does `native_layer_norm_backward` get, and which of PyTorch's
#    CUDA backward kernels does that mask still ask for?


@check_group(fold=True)
def _exercise_1():
    r"""
    ## Solution 1: short rows

    With 32 columns, $\gamma$, $\beta$ and the statistics are 3% of the bytes (two float32 values
    per row against 2 × 32 elements); with 4096 columns, under 0.1%. "Small next to them" holds
    for long rows only.
    """
    def small_share(rows: int, cols: int) -> float:
        t = traffic(rows, cols, torch.float32)
        x_and_y = 2 * rows * cols * 4  # read $x$, write $y$
        return 1 - x_and_y / t['bytes']
    short, long = small_share(4096, 32), small_share(4096, 4096)
    check('4096 × 32: γ, β, μ and 1/σ are 2% to 4% of the bytes', 0.02 < short < 0.04,
          f'{short:.2%}')
    check('4096 × 4096: under 0.1%', long < 1e-3, f'{long:.3%}')


@check_group(fold=True)
def _exercise_2():
    r"""
    ## Solution 2: OneFlow by hand

    1000 ≤ 1024 and even: the warp path, pack 2; 1000 > 32 × 2, so a whole warp, each thread
    holding the smallest array of 4, 8, …, 32 columns that covers the row, 32 (28 × 32 = 896 is
    too few). 1025 > 1024 and odd: a block path with pack 1, in shared memory when no budget is
    given. 4097 float32 columns are 16388 bytes, 4 more than 16 KiB: uncached, pack 1.
    """
    check('1000 columns: warp path, pack 2, 32 threads, 32 columns each',
          oneflow_path(1000) == {'path': 'warp', 'pack': 2, 'threads_per_row': 32,
                                 'cols_per_thread': 32, 'rows_per_access': 1})
    check('1025 columns: shared-memory block path, pack 1',
          (oneflow_path(1025)['path'], oneflow_path(1025)['pack']) == ('block, shared memory', 1))
    check('4097 float32 columns with 16 KiB: uncached block path, pack 1',
          (oneflow_path(4097, smem_per_block=16 * 1024)['path'],
           oneflow_path(4097, smem_per_block=16 * 1024)['pack']) == ('block, uncached', 1))


@check_group(fold=True)
def _exercise_3():
    r"""
    ## Solution 3: apex's reduction in Python

    Each thread keeps a running mean $\bar{x}$, $M_2$ and count $n$ (Welford); two partials
    $(\bar{x}_a, M_{2,a}, n_a)$ and $(\bar{x}_b, M_{2,b}, n_b)$ merge as
    $\delta = \bar{x}_b - \bar{x}_a$, $n = n_a + n_b$, $\bar{x} = \bar{x}_a + \delta\, n_b / n$,
    $M_2 = M_{2,a} + M_{2,b} + \delta^2 n_a n_b / n$ (Chan). The warps merge in a tree, which
    this loop replaces by halving the number of partials: the order changes the rounding, not
    the result.
    """
    cols, threads = 768, 128
    row = torch.randn(cols, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 3
    partials = []
    for t in range(threads):
        mean, m2, n = 0.0, 0.0, 0
        # 4 consecutive elements per step, from 4 × t, striding by 4 × 128 = 512
        for start in range(4 * t, cols, 4 * threads):
            for v in row[start:start + 4].tolist():
                n += 1
                delta = v - mean
                mean += delta / n
                m2 += delta * (v - mean)
        partials.append((mean, m2, n))
    # Chan's merge, pairwise: thread i with thread i + half, as the shuffles and the tree do
    while len(partials) > 1:
        half = len(partials) // 2
        merged = []
        for (mean_a, m2_a, n_a), (mean_b, m2_b, n_b) in zip(partials[:half], partials[half:]):
            n = n_a + n_b
            delta = mean_b - mean_a
            merged.append((mean_a + delta * n_b / n if n else 0.0,
                           m2_a + m2_b + delta * delta * n_a * n_b / n if n else 0.0, n))
        partials = merged
    mean, m2, n = partials[0]
    var_ref, mean_ref = torch.var_mean(row, unbiased=False)
    check_close(f'{threads} threads, Welford then Chan: (μ, M2 / n) == torch.var_mean',
                torch.tensor([mean, m2 / n], dtype=torch.float64),
                torch.stack([mean_ref, var_ref]))
    check(f'every element counted once: n = {n}', n == cols)


@check_group(fold=True)
def _exercise_4():
    r"""
    ## Solution 4: only the weight's gradient

    Autograd passes `output_mask = [False, True, False]`: neither $dx$ nor $d\beta$. With
    `dgamma` defined, PyTorch's CUDA backward still runs its $d\gamma$, $d\beta$ kernels (the
    test quoted in [PyTorch's section](#pytorchs-own-cuda-kernel-the-baseline-of-every-table));
    whether it also skips its $dx$ kernel we have not read.
    """
    import torch.nn.functional as F

    x, w, b = (torch.randn(*s, requires_grad=True) for s in ((4, 8), (8,), (8,)))
    with BackwardMasks() as seen:
        torch.autograd.grad(F.layer_norm(x, (8,), w, b), w, torch.randn(4, 8))
    check('dγ alone: output_mask [False, True, False]', seen.masks == [[False, True, False]],
          str(seen.masks))


def _test():
    """
    ## Run all the checks
    """
    _check_traffic()
    _check_plain_passes()
    _check_rows_cols()
    _check_backward_mask()
    _check_oneflow()
    _check_figures()
    _check_saved()
    _exercise_1()
    _exercise_2()
    _exercise_3()
    _exercise_4()


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
# * PyTorch, [`aten/src/ATen/native/cuda/layer_norm_kernel.cu`](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L706-L752)
#   (commit `bad757b`): the choice between the vectorized kernel and the two-kernel fallback;
#   [L682-L704](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L682-L704)
#   the launch, one block of `num_threads()` per row; [L148-L209](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L148-L209)
#   `compute_stats`; [L212-L277](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L212-L277)
#   the vectorized forward and its second read of the row; [L46-L103](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L46-L103)
#   the fallback kernels; [L1083-L1245](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L1083-L1245)
#   the backward's launches, the $d\gamma$, $d\beta$ kernels behind
#   [L1148](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L1148).
#   `num_threads()` (`C10_WARP_SIZE * 4`) is read from the installed wheel's
#   `torch/include/ATen/native/cuda/thread_constants.h`.
# * NVIDIA apex, `apex/contrib/csrc/layer_norm` (commit `6424da3`): the registered sizes and the
#   launch, [ln_fwd_cuda_kernel.cu#L8-L202](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_fwd_cuda_kernel.cu#L8-L202);
#   the kernel traits, [ln_kernel_traits.h#L58-L114](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_kernel_traits.h#L58-L114);
#   the forward kernel, [ln_fwd_kernels.cuh#L8-L107](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_fwd_kernels.cuh#L8-L107);
#   the statistics across blocks, [ln_utils.cuh#L537-L593](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_utils.cuh#L537-L593);
#   the refusal of other sizes, [ln_api.cpp#L59-L67](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/apex/contrib/csrc/layer_norm/ln_api.cpp#L59-L67).
# * NVIDIA apex, `csrc/layer_norm_cuda_kernel.cu`: `clamp_by_magnitude`,
#   [L378-L394](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L378-L394),
#   and its use in every $dx$,
#   [L751-L773](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L751-L773).
# * Triton, [`python/tutorials/05-layer-norm.py`](https://github.com/triton-lang/triton/blob/0a99ae9ad2f7872191b7acb1f7afb11cdb5382e5/python/tutorials/05-layer-norm.py#L63-L67)
#   (commit `0a99ae9`): the partial $d\gamma$, $d\beta$ buffers that "stay in the L2".
# * Guo, Yao, Zheng, Liu, [How to Implement an Efficient LayerNorm CUDA Kernel](https://oneflow2020.medium.com/how-to-implement-an-efficient-layernorm-cuda-kernel-oneflow-performance-optimization-731e91a285b8),
#   OneFlow: the measurement set-up of its comparison (A100-PCIE-40GB, half, shape
#   (49152, 32 to 32768)), reported as time and effective bandwidth; we could not read the plots.
# * PyTorch 2.13.0 (the installed wheel): `torch.compile`'s generated C++ for our plain forward,
#   inspected with `torch._inductor.utils.run_and_get_code` in `tests/test_kernels.py`; the ATen
#   operations of the plain module, counted by `plain_passes()`.
# * Williams, Waterman, Patterson, [Roofline: an insightful visual performance model for multicore architectures](https://doi.org/10.1145/1498765.1498785),
#   Communications of the ACM 52(4), 2009: the name of the roofline model and of its ridge point. We
#   have not read the paper; this page uses only the definition it writes out itself (peak
#   operations per second over bytes per second).
