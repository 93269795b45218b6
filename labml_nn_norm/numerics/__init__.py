r"""
---
title: Computing the mean and variance
summary: Four ways to get a row's mean and variance - the one-pass shortcut, two passes, Welford,
  and a warp of Welford threads merged with Chan's formula - each with an explicit accumulator
  dtype, and their measured errors for float32, float16 and bfloat16 inputs.
section: Layer Normalization
order: 3
---

# Computing the mean and variance

[LayerNorm](../layer_norm/index.md) needs, for every row, the mean $\mu$ and the biased
variance $\sigma^2$. On paper there is one answer; in floating point the way you compute it
decides whether you get it. This page writes four ways as a GPU thread (or a warp of them)
runs them, each with an explicit accumulator dtype, and measures them against float64 when the
site is built.

1. **The one-pass shortcut** $\sigma^2 = \mathbb{E}[x^2] - \mathbb{E}[x]^2$: one pass over the data,
   two running sums. When the mean is large compared with the spread, both terms are huge and
   nearly equal, and their difference is rounding noise: garbage, or a *negative* variance that
   becomes NaN under the square root. In float16 arithmetic $\sum x^2$ can also overflow to
   $+\infty$, which fails silently (measured below).
2. **Two passes**: the mean first, then the mean of the squared deviations $(x_i - \mu)^2$. It
   reads the row twice (or keeps it in fast memory).
3. **Welford's online update**: one pass, keeping a count $n$, the running mean $\bar{x}_n$ and
   $M_{2,n} = \sum_{i \le n} (x_i - \bar{x}_n)^2$. Welford (1962) gave an iteration formula for
   this "corrected sum of squares" (we have read the note's abstract, not its full text); we
   write the update with the same sequence of operations as the OneFlow, apex and PyTorch kernels
   in the Sources (how each of them rounds is another matter, see
   [below](#what-the-simulation-copies-and-what-it-does-not)):
   $$\delta = x_n - \bar{x}_{n-1} \qquad \bar{x}_n = \bar{x}_{n-1} + \frac{\delta}{n} \qquad
   M_{2,n} = M_{2,n-1} + \delta\,(x_n - \bar{x}_n)$$
4. **Chan's merge**: Chan, Golub and LeVeque (1979) give the variance of a sample of size
   $n_a + n_b$ from the means and variances of two parts, and build a pairwise algorithm on it.
   In the form OneFlow's kernel uses, two partial results $(n_a, \bar{x}_a, M_{2,a})$ and
   $(n_b, \bar{x}_b, M_{2,b})$ of disjoint parts combine into the result of their union:
   $$n = n_a + n_b \qquad \delta = \bar{x}_b - \bar{x}_a \qquad
   \bar{x} = \bar{x}_a + \delta\,\frac{n_b}{n} \qquad
   M_2 = M_{2,a} + M_{2,b} + \delta^2\, n_a \frac{n_b}{n}$$
   The GPU LayerNorm kernels in the Sources use both: each thread runs Welford over its share of
   the row, then the 32 threads of a warp merge their partials with Chan's formula in five shuffle
   steps (simulated below, as [OneFlow's kernel](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L235-L256)
   does it). [Our Triton kernel](../kernels/triton_layer_norm.md) merges column tiles with it.

What you will learn:

* where the shortcut breaks, measured: [Table 1](#measured-every-method-accumulating-in-float32);
* [Welford](#3-welfords-online-update) and [Chan](#4-chans-merge-of-two-partial-results) in code;
* why kernels accumulate in float32 ([whose accumulator?](#whose-accumulator)), and what goes
  wrong if they do not ([Table 2](#for-contrast-every-method-accumulating-in-the-input-dtype));
* why a warp's lanes can disagree bit for bit ([shuffles](#the-warps-shuffle-pattern));
* what a CPU simulation of a kernel cannot tell
  ([what it copies](#what-the-simulation-copies-and-what-it-does-not)).
"""

import functools
from typing import Callable, Dict, Optional, Tuple

import torch

from labml_nn_norm._check import check, check_close, check_group, check_raises, note

# ## Whose accumulator?
#
# A comparison is only fair if every method rounds in the same place. The kernels we read load
# float16/bfloat16 values and convert each to float32 before any arithmetic:
# OneFlow maps `half` and `nv_bfloat16` to a float compute type
# ([`DefaultComputeType`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L118-L133)),
# apex and PyTorch's CUDA kernel use `at::acc_type<T, true>`
# ([apex](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L830),
# [PyTorch](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L156-L168)),
# which is `float` for `Half` and `BFloat16`
# ([`AccumulateType.h`](https://github.com/pytorch/pytorch/blob/88c94d1270899898d29c83d965ec7c788ca997d3/aten/src/ATen/AccumulateType.h#L127-L131)).
# So every method below is a serial loop, one thread's (the warp: 32 threads'), with the
# accumulator dtype `acc` as an argument; the inputs stay in their own dtype and are converted as
# they are loaded. PyTorch's CPU helper `RowwiseMoments` does the same in SIMD form: it converts
# each float16 or bfloat16 vector to float, runs Welford per SIMD lane over chunks of 16 vectors
# and merges the chunks with Chan's formula in a cascade ([`moments_utils.h`](https://github.com/pytorch/pytorch/blob/20d26decd96326b8777d0bd8b591e593a2e7b758/aten/src/ATen/native/cpu/moments_utils.h#L76-L155);
# we did not check which current CPU kernels call it).
Stats = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # (count, mean, M2), one per row or lane


def shortcut(x: torch.Tensor,
             acc: torch.dtype = torch.float32) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""
    ## 1. The one-pass shortcut

    One thread walks the row once, keeping $\sum x$ and $\sum x^2$ in the accumulator dtype `acc`;
    every loaded value is converted to `acc` first, as a kernel does when it reads a float16
    number into a float32 register.
    """
    s1 = torch.zeros(x.shape[:-1], dtype=acc)
    s2 = torch.zeros_like(s1)
    for i in range(x.shape[-1]):
        value = x[..., i].to(acc)
        s1 = s1 + value
        s2 = s2 + value * value
    n = x.shape[-1]
    mean = s1 / n
    # $\sigma^2 = \mathbb{E}[x^2] - \mathbb{E}[x]^2$: two large, nearly equal numbers subtracted
    return mean, s2 / n - mean * mean


def two_pass(x: torch.Tensor,
             acc: torch.dtype = torch.float32) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    ## 2. Two passes

    The mean, then the mean of the squared deviations from it: the deviations are small numbers,
    so nothing large is subtracted from anything large. Both sums are serial, in `acc`.
    """
    n = x.shape[-1]
    total = torch.zeros(x.shape[:-1], dtype=acc)
    for i in range(n):
        total = total + x[..., i].to(acc)
    mean = total / n
    # Second pass over the same row
    squares = torch.zeros_like(total)
    for i in range(n):
        deviation = x[..., i].to(acc) - mean
        squares = squares + deviation * deviation
    return mean, squares / n


def welford_step(stats: Stats, value: torch.Tensor) -> Stats:
    r"""
    ## 3. Welford's online update

    One value into the running $(n, \bar{x}, M_2)$, in the dtype of `stats`. This is the form
    OneFlow's `WelfordCombine`, apex's `cuWelfordOnlineSum` and PyTorch's `WelfordOps::reduce`
    use (see Sources).
    """
    count, mean, m2 = stats
    count = count + 1
    # $\delta = x_n - \bar{x}_{n-1}$, the new value's distance from the old mean
    delta = value - mean
    # $\bar{x}_n = \bar{x}_{n-1} + \delta / n$
    mean = mean + delta / count
    # $M_{2,n} = M_{2,n-1} + \delta (x_n - \bar{x}_n)$: old and new distance, no large squares
    m2 = m2 + delta * (value - mean)
    return count, mean, m2


def welford(x: torch.Tensor, acc: torch.dtype = torch.float32) -> Stats:
    """
    One thread, one pass over the whole row (vectorized across rows only).
    Returns $(n, \\bar{x}, M_2)$; the variance is $M_2 / n$.
    """
    zeros = torch.zeros(x.shape[:-1], dtype=acc)
    stats = (zeros, zeros, zeros)
    for i in range(x.shape[-1]):
        stats = welford_step(stats, x[..., i].to(acc))
    return stats


def chan_merge(a: Stats, b: Stats) -> Stats:
    r"""
    ## 4. Chan's merge of two partial results

    Exact in real arithmetic for any split. Written as OneFlow's `WelfordCombine` and PyTorch's
    `WelfordOps::combine` are:
    $n_b / n$ first, then multiplied by $n_a$ (in float16 the product $n_a n_b$ of two counts of
    256 is already 65536, past float16's largest number). Empty parts ($n = 0$) change nothing,
    which is what a thread whose share of a ragged row is empty contributes.
    """
    n_a, mean_a, m2_a = a
    n_b, mean_b, m2_b = b
    n = n_a + n_b
    # Guard $n = 0$ (both parts empty): no division by zero, the result stays empty
    nb_over_n = n_b / torch.where(n > 0, n, torch.ones_like(n))
    delta = mean_b - mean_a
    mean = mean_a + delta * nb_over_n
    m2 = m2_a + m2_b + delta * delta * n_a * nb_over_n
    return n, mean, m2


def lane_welford(x: torch.Tensor, acc: torch.dtype = torch.float32, lanes: int = 32) -> Stats:
    """
    ### A warp, simulated: each lane's Welford

    The row is dealt out to `lanes` threads round-robin: lane $t$ gets columns
    $t, t + 32, t + 64, \\dots$ (OneFlow's warp kernel with one element per load; its wider
    loads give each lane short runs of neighbouring columns instead). Each lane runs Welford
    over its share in `acc`; a lane whose next column lies past the row's end skips it, as
    OneFlow's `col < cols` test does. Returns per-lane stats, shape `(..., lanes)`.
    """
    if lanes < 1 or lanes & (lanes - 1):
        raise ValueError('lanes must be a power of two (each shuffle step halves them), '
                         f'got {lanes}')
    cols = x.shape[-1]
    pad = (-cols) % lanes
    # (..., step, lane): element (s, t) is column s * lanes + t
    shares = torch.nn.functional.pad(x.to(acc), (0, pad)).reshape(*x.shape[:-1], -1, lanes)
    valid = (torch.arange(cols + pad) < cols).reshape(-1, lanes)
    zeros = torch.zeros(*x.shape[:-1], lanes, dtype=acc)
    stats = (zeros, zeros, zeros)
    for step in range(shares.shape[-2]):
        new = welford_step(stats, shares[..., step, :])
        stats = tuple(torch.where(valid[step], s_new, s) for s_new, s in zip(new, stats))
    return stats


def _shuffle(stats: Stats, source: torch.Tensor) -> Stats:
    # Lane $t$ reads lane `source[t]`; a source out of range reads NaN. (What the hardware returns
    # there does not matter to lane 0 of the `down` tree, which never reads such a lane: `_test()`
    # checks that lane 0 stays finite.)
    lanes = stats[0].shape[-1]
    inside = (source >= 0) & (source < lanes)
    safe = torch.where(inside, source, torch.zeros_like(source))
    return tuple(torch.where(inside, s[..., safe], torch.full_like(s, float('nan'))) for s in stats)


def warp_merge(stats: Stats, pattern: str = 'down') -> Stats:
    r"""
    ### A warp, simulated: merging the 32 partials with shuffles

    Five steps, each lane merging its partial with the one it reads from another lane:

    * `'down'`: lane $t$ reads lane $t + o$ for $o = 16, 8, 4, 2, 1$ (`__shfl_down_sync`).
      Only lane 0 ends with the whole row; OneFlow's `WelfordWarpAllReduce` and PyTorch's
      `compute_stats` then broadcast lane 0's result to the warp.
    * `'xor'`: lane $t$ reads lane $t \oplus o$ (`__shfl_xor_sync`, the butterfly). Every lane
      ends with the whole row. OneFlow's `WarpAllReduce` uses it for plain sums, not for
      Welford.
    * `'rotate'`: lane $t$ reads lane $(t + 2^l) \bmod 32$ for $l = 0, \dots, 4$ (apex's
      `cuWelfordMuSigma2`). Every lane ends with the whole row too. (apex writes the merged mean
      as $\frac{n_a}{n}\bar{x}_a + \frac{n_b}{n}\bar{x}_b$; we keep one merge formula for all
      three.)

    Returns the stats of every lane after the five steps.
    """
    lanes = stats[0].shape[-1]
    lane = torch.arange(lanes)
    if pattern == 'rotate':
        offsets = [1 << k for k in range(lanes.bit_length() - 1)]
    else:
        offsets = [lanes >> (k + 1) for k in range(lanes.bit_length() - 1)]
    for o in offsets:
        if pattern == 'down':
            source = lane + o
        elif pattern == 'xor':
            source = lane ^ o
        elif pattern == 'rotate':
            source = (lane + o) % lanes
        else:
            raise ValueError(f"pattern must be 'down', 'xor' or 'rotate', got {pattern!r}")
        # Every lane merges (its own, the one it read): a = self, b = the other lane
        stats = chan_merge(stats, _shuffle(stats, source))
    return stats


def warp_stats(x: torch.Tensor, acc: torch.dtype = torch.float32, lanes: int = 32) -> Stats:
    """
    The whole warp as OneFlow runs it: per-lane Welford, the `down` tree, then lane 0's
    result broadcast (here: taken) for every lane.
    """
    merged = warp_merge(lane_welford(x, acc, lanes), 'down')
    return tuple(s[..., 0] for s in merged)


# ## What the simulation copies, and what it does not
#
# The simulation copies the kernels' *structure*: which values each thread combines, in which
# order, and which formula merges two partials. It does not copy their rounding. Our
# `welford_step` and `chan_merge` use PyTorch's correctly rounded float32 division on the CPU,
# which none of the three kernels is guaranteed to do:
#
# * OneFlow's `Div` is `__fdividef`, CUDA's fast approximate division, when
#   `OF_LAYER_NORM_USE_FAST_MATH` is defined ([`layer_norm.cuh#L64-L71`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L64-L71)),
#   and OneFlow's CMake option of that name is on by default
#   ([`CMakeLists.txt#L31`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/CMakeLists.txt#L31),
#   [L160-L162](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/CMakeLists.txt#L160-L162)).
# * apex's `setup.py` compiles its LayerNorm kernel with `--use_fast_math`
#   ([L259-L268](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/setup.py#L259-L268)),
#   and its merge forms the mean as $\frac{n_a}{n}\bar{x}_a + \frac{n_b}{n}\bar{x}_b$
#   ([L23-L39](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L23-L39)).
# * PyTorch's vectorized CUDA path multiplies by `1.f/new_count` instead of dividing, and merges
#   with the same weighted mean
#   ([L115-L146](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L115-L146));
#   its CPU helper multiplies by a precomputed table of $1/(j+1)$
#   ([`moments_utils.h#L67-L71`](https://github.com/pytorch/pytorch/blob/20d26decd96326b8777d0bd8b591e593a2e7b758/aten/src/ATen/native/cpu/moments_utils.h#L67-L71),
#   [L128-L134](https://github.com/pytorch/pytorch/blob/20d26decd96326b8777d0bd8b591e593a2e7b758/aten/src/ATen/native/cpu/moments_utils.h#L128-L134)).
#
# So the errors measured below are those of each structure with correctly rounded float32
# arithmetic, on the CPU. A kernel's own errors can differ by its rounding; we have not run any of
# the three.

def _variance(stats: Stats) -> torch.Tensor:
    count, _, m2 = stats
    return m2 / count


METHODS: Dict[str, Callable[[torch.Tensor, torch.dtype], torch.Tensor]] = {
    'shortcut': lambda x, acc: shortcut(x, acc)[1],
    'two passes': lambda x, acc: two_pass(x, acc)[1],
    'Welford, 1 thread': lambda x, acc: _variance(welford(x, acc)),
    'warp: 32 × Welford + Chan': lambda x, acc: _variance(warp_stats(x, acc)),
}


# Every statement drawn from random rows is checked on each of these seeds (seed 0 is the table's)
SEEDS = tuple(range(8))


def _rows(dtype: torch.dtype, offset: float, rows: int = 64, cols: int = 512,
          seed: int = 0) -> torch.Tensor:
    # The same random rows for every method; rounded once to the input dtype
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(rows, cols, generator=g, dtype=torch.float64) + offset).to(dtype)


def _seed_rows(dtype: torch.dtype, offset: float) -> torch.Tensor:
    # `(seeds, 64, 512)`: the rows of every seed in `SEEDS`. The methods loop over columns and are
    # vectorized over everything in front, so 8 seeds cost about as much as one.
    return torch.stack([_rows(dtype, offset, seed=seed) for seed in SEEDS])


@functools.lru_cache(maxsize=None)
def variances(dtype: torch.dtype, offset: float,
              acc: Optional[torch.dtype] = torch.float32) -> Dict[str, torch.Tensor]:
    """
    ## Measuring

    For one input dtype and offset, each method's variance of every row, shape `(seeds, rows)`,
    with every method accumulating in `acc` (`None`: in the input dtype). Computed once per
    process: the tables, the plot and the checks all read these numbers.
    """
    offsets = _measured_offsets(dtype, acc)
    if offset in offsets:
        batch = _batched_variances(dtype, acc, offsets)
        return {name: var[offsets.index(offset)] for name, var in batch.items()}
    x = _seed_rows(dtype, offset)
    return {name: method(x, acc or dtype) for name, method in METHODS.items()}


def _measured_offsets(dtype: torch.dtype, acc: Optional[torch.dtype]) -> Tuple[float, ...]:
    # Every offset the tables, the plot and the checks measure for this input dtype and accumulator
    cases = CASES if acc is not None else _LOW
    offsets = {offset for d, offset in cases if d == dtype}
    if (dtype, acc) == (torch.float32, torch.float32):
        offsets |= set(PLOT_OFFSETS)
    return tuple(sorted(offsets))


@functools.lru_cache(maxsize=None)
def _batched_variances(dtype: torch.dtype, acc: Optional[torch.dtype],
                       offsets: Tuple[float, ...]) -> Dict[str, torch.Tensor]:
    # All these offsets at once, shape `(offsets, seeds, rows)`: the same rows as `_seed_rows` and
    # only element-wise arithmetic along the columns, so each row's variance is the one it gets
    # alone, bit for bit, in one pass of the Python loops instead of one per offset
    x = torch.stack([_seed_rows(dtype, offset) for offset in offsets])
    return {name: method(x, acc or dtype) for name, method in METHODS.items()}


def _exact(dtype: torch.dtype, offset: float) -> torch.Tensor:
    # The reference: float64 arithmetic on the same, already rounded inputs
    return _seed_rows(dtype, offset).double().var(-1, unbiased=False)


def failed(var: torch.Tensor) -> torch.Tensor:
    """Rows whose variance is negative, infinite or NaN: no usable $1/\\sigma$."""
    return ~torch.isfinite(var) | (var < 0)


@functools.lru_cache(maxsize=None)
def measure(dtype: torch.dtype, offset: float,
            acc: Optional[torch.dtype] = torch.float32) -> Dict[str, torch.Tensor]:
    """
    Each method's largest relative error of the variance over the 64 rows, one number per seed
    (shape `(seeds,)`); NaN for a seed where some row's variance failed.
    """
    exact = _exact(dtype, offset)
    errors = {}
    for name, var in variances(dtype, offset, acc).items():
        error = ((var.double() - exact).abs() / exact).amax(-1)
        errors[name] = torch.where(failed(var).any(-1), float('nan'), error)
    return errors


@functools.lru_cache(maxsize=None)
def output_errors(dtype: torch.dtype, offset: float) -> Dict[str, torch.Tensor]:
    """
    The largest absolute error of the normalized output of `F.layer_norm` and of
    [ours](../layer_norm/index.md), against `F.layer_norm` in float64 on the same inputs, one
    number per seed.
    """
    import torch.nn.functional as F

    from labml_nn_norm.layer_norm import layer_norm

    x = _seed_rows(dtype, offset)
    reference = F.layer_norm(x.double(), (x.shape[-1],))
    def error(y):
        return (y.double() - reference).abs().amax((-2, -1))
    return {'F.layer_norm': error(F.layer_norm(x, (x.shape[-1],))),
            'ours': error(layer_norm(x, x.shape[-1]))}


def normalize_with(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor,
                   eps: float = 1e-5) -> torch.Tensor:
    r"""
    A LayerNorm (without $\gamma$, $\beta$) built on given statistics, in their dtype:
    $(x - \mu)/\sqrt{\sigma^2 + \epsilon}$. What a kernel with a failed variance outputs.
    """
    return (x.to(mean.dtype) - mean[..., None]) * torch.rsqrt(var[..., None] + eps)


CASES = [(torch.float32, 0.0), (torch.float32, 1e2), (torch.float32, 1e3), (torch.float32, 1e4),
         (torch.float32, 1e6), (torch.float16, 0.0), (torch.float16, 1e2), (torch.float16, 300.0),
         (torch.bfloat16, 0.0), (torch.bfloat16, 1e2)]
# The plot's offsets: $10^0$ to $10^6$ in half decades
PLOT_OFFSETS = tuple(float(f"{10 ** (k / 2):.4g}") for k in range(13))


_STABLE = ('two passes', 'Welford, 1 thread', 'warp: 32 × Welford + Chan')
_ORDER = ('two passes', 'warp: 32 × Welford + Chan', 'Welford, 1 thread')
_LOW = [(dtype, offset) for dtype, offset in CASES if dtype != torch.float32]


def _results():
    # Every number the tables and the prose use (cached by `measure` and `output_errors`)
    f32 = {case: measure(*case) for case in CASES}
    low = {case: measure(*case, acc=None) for case in _LOW}
    outputs = {case: output_errors(*case) for case in CASES}
    return f32, low, outputs


def _failure_cell(var: torch.Tensor) -> str:
    # What came out instead of a variance, counted over one seed's rows
    kinds = (('negative', torch.isfinite(var) & (var < 0)), ('+inf', var == float('inf')),
             ('-inf', var == -float('inf')), ('NaN', torch.isnan(var)))
    return ', '.join(f'**{kind} in {int(rows.sum())} of {var.numel()} rows**'
                     for kind, rows in kinds if rows.any())


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace('torch.', '')


def _table(cases: list, acc: Optional[torch.dtype], outputs: bool = False) -> str:
    # Seed 0 of every case: an error, or the count of failed rows
    names = list(METHODS) + (['`F.layer_norm` output', 'ours output'] if outputs else [])
    lines = ['| input | offset | ' + ' | '.join(names) + ' |', '|' + ' --- |' * (len(names) + 2)]
    for dtype, offset in cases:
        var = variances(dtype, offset, acc)
        cells = [f'{e[0].item():.1e}' if e[0] == e[0] else _failure_cell(var[name][0])
                 for name, e in measure(dtype, offset, acc).items()]
        if outputs:
            cells += [f'{e[0].item():.1e}' for e in output_errors(dtype, offset).values()]
        lines.append(f'| {_dtype_name(dtype)} | {offset:g} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _welford_above_1e3() -> int:
    # Float32 at $10^4$: the seeds where one-thread Welford's error exceeds $10^{-3}$
    return int((measure(torch.float32, 1e4)['Welford, 1 thread'] > 1e-3).sum())


def _shortcut_note() -> str:
    # The first claim under Table 1, with its one count
    n = len(SEEDS)
    return (f'* In every table row with offset from 100 to $10^4$ and in all {n} seeds, the '
            f"shortcut's error exceeds $10^{{-3}}$ (or some variance fails), while two passes and "
            f'the warp stay below $10^{{-3}}$. So does one-thread Welford, except for float32 '
            f'at $10^4$, where its error exceeds $10^{{-3}}$ in {_welford_above_1e3()} of {n} '
            f'seeds. For float32 inputs at offsets $10^3$ and up, some of the shortcut\'s '
            f'variances come out negative in every seed.')


def _order_counts() -> dict:
    # Beyond $10^4$, float32: in how many seeds each ordering of the three stable methods holds
    e5, e6 = (measure(torch.float32, offset) for offset in (1e5, 1e6))
    two, warp, one = (e5[name] for name in _ORDER)
    ratio = two / warp
    return {'warp best at 1e5': int(((warp < two) & (warp < one)).sum()),
            'two passes beat Welford at 1e5': int((two < one).sum()),
            'two/warp at 1e5': (ratio.min().item(), ratio.max().item()),
            'two passes best at 1e6': int(((e6[_ORDER[0]] < e6[_ORDER[1]]) &
                                           (e6[_ORDER[0]] < e6[_ORDER[2]])).sum()),
            'Welford worst at 1e6': int(((e6[_ORDER[2]] > e6[_ORDER[0]]) &
                                         (e6[_ORDER[2]] > e6[_ORDER[1]])).sum())}


def _order_note() -> str:
    # The counts above, as two items of the list in the prose
    c, n = _order_counts(), len(SEEDS)
    low, high = c['two/warp at 1e5']
    return (f"* At offset $10^5$ (in the plot): the warp is the most accurate of the three in "
            f"{c['warp best at 1e5']} of {n} seeds, its error {low:.1f} to {high:.1f} times "
            f"smaller than two passes'; two passes beat one-thread Welford in "
            f"{c['two passes beat Welford at 1e5']} of {n} seeds.\n"
            f"* At offset $10^6$: two passes are the most accurate in "
            f"{c['two passes best at 1e6']} of {n} seeds, and one-thread Welford is the least "
            f"accurate in {c['Welford worst at 1e6']} of {n}.")


def _lane_disagreement(offset: float = 0.0) -> Tuple[int, int, int]:
    # Rows (of 64) whose 32 lanes end with bitwise-different means: xor butterfly with Chan's
    # merge, the down tree + broadcast, and an xor butterfly of plain sums
    x = _rows(torch.float32, offset)
    lanes = lane_welford(x)
    xor_mean = warp_merge(lanes, 'xor')[1]
    down_mean = warp_merge(lanes, 'down')[1][..., :1].expand(-1, 32)
    total = lanes[0] * lanes[1]
    for o in (16, 8, 4, 2, 1):
        total = total + total[..., torch.arange(32) ^ o]

    def differ(v):
        return int((v != v[..., :1]).any(-1).sum())
    return differ(xor_mean), differ(down_mean), differ(total)


def figure_error_vs_offset(offsets=PLOT_OFFSETS, dtype: torch.dtype = torch.float32):
    """
    ## The plot

    For each method, the median over the seeds of the largest relative error (line) and the
    range from the smallest to the largest (band), against the offset; an offset where some seed's
    variance failed gets a cross at the top instead.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    # Colour-blind-safe colours, and a marker each, so the lines differ without colour too
    styles = zip(('#d55e00', '#0072b2', '#009e73', '#cc79a7'), ('o', 's', '^', 'D'))
    for name, (colour, marker) in zip(METHODS, styles):
        errors = torch.stack([measure(dtype, offset)[name] for offset in offsets])
        ok = ~torch.isnan(errors).any(-1)
        xs = [o for o, good in zip(offsets, ok) if good]
        good = errors[ok].clamp_min(1e-9)
        ax.fill_between(xs, good.amin(-1), good.amax(-1), color=colour, alpha=0.25, lw=0)
        ax.plot(xs, good.median(-1).values, marker=marker, color=colour, label=name, ms=4)
        # An offset where some seed's variance failed: a cross at the top
        bad = [o for o, good in zip(offsets, ok) if not good]
        ax.plot(bad, [10.0] * len(bad), 'x', color=colour, ms=6)
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xlabel(f'row offset (mean), spread 1; {_dtype_name(dtype)} inputs and accumulator')
    ax.set_ylabel('max relative error of the variance')
    ax.axhline(1.0, color='#888888', lw=0.8, ls='--')
    ax.text(1.2, 1.4, 'a cross drawn at error 10: some variance negative or not finite', fontsize=8,
            color='#444444')
    ax.legend(fontsize=8, loc='center left', bbox_to_anchor=(1.02, 0.5),
              title=f'median and range, {len(SEEDS)} seeds', title_fontsize=8)
    ax.grid(True, which='major', alpha=0.3)
    return fig


def _artifacts():
    """
    ## The tables and the plot, made when the site is built
    """
    xor_rows, down_rows, sum_rows = _lane_disagreement()
    lanes_note = (f'Float32 inputs at offset 0, 64 rows of 512: after the xor butterfly with '
                  f"Chan's merge, the 32 lanes hold bitwise-different means in **{xor_rows}** of "
                  f'64 rows; after the down tree and the broadcast of lane 0, in {down_rows}; '
                  f'after an xor butterfly of plain sums, in {sum_rows}.')
    return {'error_table': _table(CASES, torch.float32, outputs=True),
            'low_precision_table': _table(_LOW, None), 'order_note': _order_note(),
            'shortcut_note': _shortcut_note(),
            'lanes_note': lanes_note, 'error_vs_offset': figure_error_vs_offset()}


def _ragged_case() -> Tuple[torch.Tensor, Stats]:
    # Three `float64` rows of 97 columns, and their whole-row stats $(n, \mu, M_2)$
    x = torch.randn(3, 97, dtype=torch.float64) * 4 + 10
    whole = (torch.full((3,), 97.0, dtype=torch.float64), x.mean(-1),
             x.var(-1, unbiased=False) * 97)
    return x, whole


@check_group(fold=True)
def _check_chan_merge(x: torch.Tensor, whole: Stats):
    """
    ## Chan's merge: any split gives the whole row (float64)

    Splitting a row anywhere (including into an empty part) and merging the parts' stats gives
    the whole row's stats, in `float64`.
    """
    empty = (torch.zeros(3, dtype=torch.float64),) * 3
    for split in ([1, 96], [50, 47], [96, 1], [30, 30, 37], [0, 97]):
        parts = torch.split(x, split, dim=-1)
        merged = empty
        for p in parts:
            merged = chan_merge(merged, welford(p, torch.float64) if p.shape[-1] else empty)
        check_close(f'split {split}: merged (n, mean, M2) == whole row', merged, whole,
                    rtol=1e-12, atol=1e-10)


@check_group(fold=True)
def _check_warp(x: torch.Tensor, whole: Stats):
    r"""
    ## The warp simulation gives the whole row (float64, ragged shares)

    With 97 columns the lanes get ragged shares. For 1 to 128 lanes the `down` tree leaves the
    whole row's $(n, \bar{x}, M_2)$ in lane 0, and `xor` and `rotate` leave it in every lane.
    """
    for lanes in (1, 2, 32, 128):
        check_close(f'{lanes} lanes, down tree: lane 0 holds the whole row (n, mean, M2)',
                    warp_stats(x, torch.float64, lanes), whole, rtol=1e-12, atol=1e-10)
    per_lane = lane_welford(x, torch.float64)
    for pattern in ('xor', 'rotate'):
        stats = warp_merge(per_lane, pattern)
        check_close(f'{pattern}: every lane holds the whole row (n, mean, M2)', stats,
                    tuple(w[:, None].expand(-1, 32) for w in whole), rtol=1e-12, atol=1e-10)


@check_group(fold=True)
def _check_welford_two_pass():
    """
    ## Welford and two passes agree

    In `float32`, at offsets 0 and $10^3$.
    """
    for offset in (0.0, 1e3):
        x = _rows(torch.float32, offset, rows=8, cols=300, seed=1)
        n, mean, m2 = welford(x)
        check_close(f'offset {offset:g}: Welford mean, variance == two-pass', (mean, m2 / n),
                    two_pass(x), rtol=1e-4, atol=1e-5)


@check_group
def _check_torch_half_sums():
    """
    ## PyTorch's own half-precision sums

    A pitfall when measuring this with PyTorch tensor ops: on the CPU, `x.sum()` and `x.mean()` of
    a float16 or bfloat16 tensor do *not* accumulate in that dtype. The CPU sum kernel
    [says](https://github.com/pytorch/pytorch/blob/eb720578cea26093f0a91b9cb66476b62fd61627/aten/src/ATen/native/cpu/SumKernel.cpp#L62-L65)
    it sums float16/bfloat16 in float, and `_test()` checks it: the float16 sum equals the float32
    sum rounded once, while a float16 running sum is far off. Mixing such ops with a hand-written
    half-precision Welford loop compares two different accumulators.
    """
    # 8 rows of every seed at once
    rows = torch.cat([_rows(torch.float64, 10.0, rows=8, seed=seed) for seed in SEEDS])
    for dtype in (torch.float16, torch.bfloat16):
        h = rows.to(dtype)
        exact = h.double().sum(-1)
        check(f'{_dtype_name(dtype)}: x.sum() == float32 sum rounded once',
              torch.equal(h.sum(-1), h.float().sum(-1).to(dtype)))
        check(f'{_dtype_name(dtype)}: x.mean() == float32 mean rounded once',
              torch.equal(h.mean(-1), h.float().mean(-1).to(dtype)))
        running = torch.zeros(h.shape[0], dtype=dtype)
        for i in range(h.shape[-1]):
            running = running + h[:, i]
        err_torch = (h.sum(-1).double() - exact).abs().reshape(len(SEEDS), 8).amax(-1)
        err_running = (running.double() - exact).abs().reshape(len(SEEDS), 8).amax(-1)
        check(f'{_dtype_name(dtype)}: a running sum in the dtype is over 10x further off, '
              f'in all {len(SEEDS)} seeds', bool((err_running > 10 * err_torch).all()),
              f'smallest ratio {(err_running / err_torch).min().item():.3g}')


def _all_seeds(condition: torch.Tensor) -> bool:
    # A per-seed condition, shape `(seeds,)`, holds in every seed
    return bool(condition.all())


# ## Measured: every method accumulating in float32
#
# Rows of 512 values $x = \text{offset} + \mathcal{N}(0, 1)$, 64 rows per case, rounded once to
# the input dtype, simulated on the CPU. The table shows one draw of the rows (seed 0); each cell is
# the largest relative error of the variance over its 64 rows, or, in bold, how many rows gave a
# negative, infinite or NaN variance instead. The reference is float64 arithmetic on the same,
# already rounded inputs. The last two columns are the largest absolute error of the *normalized
# output* of PyTorch's `F.layer_norm` (CPU) and of [ours](../layer_norm/index.md).
#
# {{ error_table }}
#
# One draw of random rows could be a lucky one, so every statement below was measured on 8 draws
# (seeds 0 to 7; each seed draws 64 new rows for each row of the table) and is asserted in
# `_test()` for each of them.
# The plot shows the same 8 seeds:
#
# ![Log-log plot of the largest relative error of the variance against the row offset, from 1 to
# one million, for the shortcut, two passes, one-thread Welford and the warp: a line for the median
# over 8 seeds and a shaded band from the smallest to the largest; crosses at the top mark offsets
# where some variance came out negative.](error_vs_offset.svg)
#
# *Float32 inputs and accumulator, 8 seeds: the shortcut's error passes $10^{-3}$ by offset 100 and
# its variances turn negative from $10^3$, while two passes and the warp stay below $10^{-3}$ up to
# $10^4$.*
#
# {{ shortcut_note }}
#
# * With a float32 accumulator the input dtype hardly matters: for float16 and bfloat16 inputs
#   the two-pass, Welford and warp errors all stay below $10^{-4}$, in all 8 seeds.
# * The warp (32 lanes, each a Welford run over 16 values, merged by Chan's formula) is more
#   accurate than one thread's Welford over all 512 values in every row of both tables, in all 8
#   seeds.
# * For float32 inputs at offsets $10^2$ to $10^4$, two passes are the most accurate, then the
#   warp, then one-thread Welford, in all 8 seeds. Beyond that the order changes, and part of it
#   depends on the seed:
#
# {{ order_note }}
#
# * At offset $10^6$ every method's error exceeds $10^{-3}$, in all 8 seeds. We attribute this to
#   the float32 accumulator: its spacing is $1/16$ near $10^6$, where Welford's running mean
#   lives, and $32$ near $5 \cdot 10^8$, where the two-pass running sum ends.

@check_group
def _check_table1():
    """
    ### Table 1: the claims in the prose

    `float32` accumulator, in every seed: the shortcut fails at offsets from 100 to $10^4$, two
    passes and the warp do not, nor does one-thread Welford except at float32 $10^4$ (a count);
    the warp beats one-thread Welford in every row.
    """
    f32, low, _ = _results()
    n = len(SEEDS)
    for (dtype, offset), errors in f32.items():
        if 100 <= offset <= 1e4:
            e = errors['shortcut']
            check(f'{_dtype_name(dtype)}, offset {offset:g}: shortcut error > 1e-3 or a '
                  'failed variance', _all_seeds(torch.isnan(e) | (e > 1e-3)),
                  f'smallest {e.nan_to_num(float("inf")).min().item():.1e}')
            worst = max(errors[name].max().item() for name in _ORDER[:2])
            check(f'{_dtype_name(dtype)}, offset {offset:g}: two passes and the warp < 1e-3',
                  worst < 1e-3, f'worst {worst:.1e}')
            if (dtype, offset) != (torch.float32, 1e4):
                worst = errors['Welford, 1 thread'].max().item()
                check(f'{_dtype_name(dtype)}, offset {offset:g}: one-thread Welford < 1e-3',
                      worst < 1e-3, f'worst {worst:.1e}')
    above = _welford_above_1e3()
    check('float32, offset 1e4: one-thread Welford > 1e-3 in some seeds, not all (the count in '
          'the prose)', 0 < above < n, f'{above} of {n} seeds')
    for offset in (1e3, 1e4, 1e5, 1e6):
        negative = (variances(torch.float32, offset)['shortcut'] < 0).sum(-1)
        check(f'float32, offset {offset:g}: some shortcut variance is negative',
              _all_seeds(negative > 0), f'negative rows per seed {negative.tolist()}')
    worst_low = max(f32[case][name].max().item() for case in _LOW for name in _STABLE)
    check('float16/bfloat16 inputs: two passes, Welford, warp all < 1e-4', worst_low < 1e-4,
          f'worst {worst_low:.1e}')
    for table, label in ((f32, 'float32 acc'), (low, 'input-dtype acc')):
        ratios = torch.stack([t['Welford, 1 thread'] / t['warp: 32 × Welford + Chan']
                              for t in table.values()])
        check(f'{label}: warp more accurate than one-thread Welford in every row',
              bool((ratios > 1).all()), f'smallest ratio {ratios.min().item():.2g}')


@check_group
def _check_table1_order():
    """
    ### Table 1: the order of the stable methods

    Up to $10^4$: two passes, then the warp, then one-thread Welford, in every seed. At $10^5$
    and $10^6$ the counts in the prose, which are computed from the same numbers, and the shape
    of the sentence around them. At offset $10^6$ every method fails, which we attribute to the
    spacing of `float32` numbers there.
    """
    f32 = _results()[0]
    n = len(SEEDS)
    for offset in (1e2, 1e3, 1e4):
        e = f32[(torch.float32, offset)]
        check(f'float32, offset {offset:g}: two passes < warp < Welford, in all {n} seeds',
              _all_seeds((e[_ORDER[0]] < e[_ORDER[1]]) & (e[_ORDER[1]] < e[_ORDER[2]])),
              'worst seed ' + ', '.join(f'{e[name].max().item():.1e}' for name in _ORDER))
    counts = _order_counts()
    note('float32, offsets 1e5 and 1e6: seeds (of 8) where each order holds', str(counts))
    check(f'offset 1e5: the warp the most accurate of three in all {n} seeds',
          counts['warp best at 1e5'] == n, str(counts['warp best at 1e5']))
    check('offset 1e5: two passes vs one-thread Welford depends on the seed (0 < count < 8)',
          0 < counts['two passes beat Welford at 1e5'] < n,
          str(counts['two passes beat Welford at 1e5']))
    at_1e6 = min(f32[(torch.float32, 1e6)][name].min().item() for name in _STABLE)
    check(f'float32, offset 1e6: every method error > 1e-3, in all {n} seeds', at_1e6 > 1e-3,
          f'best {at_1e6:.1e}')
    spacing = {v: (torch.nextafter(torch.tensor(v), torch.tensor(float('inf'))) - v).item()
               for v in (1e6, 5e8)}
    check('float32 spacing: 1/16 near 1e6, 32 near 5e8', spacing == {1e6: 0.0625, 5e8: 32.0},
          str(spacing))


# ## For contrast: every method accumulating in the input dtype
#
# The float16 and bfloat16 rows again, with every method's arithmetic in the input dtype: what a
# kernel that skipped the conversion would get.
#
# {{ low_precision_table }}
#
# Each statement holds in all 8 seeds and is asserted in `_test()`:
#
# * Every method is at least 100 times worse than with the float32 accumulator, in every row.
# * In float16 the sums overflow float16's largest value, 65504, and what comes out is not always
#   NaN. At offset 100 the shortcut's $\sum x^2$ overflows ($x^2$ alone does once $|x| \ge 256$):
#   its variance is $+\infty$ in every row, and a LayerNorm built on it multiplies by
#   $1/\sqrt{\infty + \epsilon} = 0$ and outputs exactly 0 (then $\beta$) everywhere, a silent
#   failure with no NaN to notice. At offset 300 the row sum $512 \times 300$ overflows as well:
#   the shortcut's variance is $\infty - \infty$ = NaN, and two passes get the mean $+\infty$ and
#   the variance $+\infty$, so their LayerNorm outputs $-\infty \cdot 0$ = NaN everywhere.
# * No method is uniformly worst: at offsets 100 and 300 Welford beats both sum-based methods
#   (its running mean stays near the data, where a running sum grows with the count), while for
#   bfloat16 at offset 0 it is the worst of the four.

@check_group
def _check_table2():
    r"""
    ### Table 2: the claims in the prose

    In every seed: accumulating in the input's dtype costs every method a factor of 100 or more;
    in `float16`, $x^2$ overflows once $|x|$ reaches 256, the overflows give $+\infty$ or NaN as
    the prose says, and a LayerNorm on the shortcut's $+\infty$ outputs zeros; Welford beats the
    sum-based methods at large offsets, and loses at 0.
    """
    f32, low, _ = _results()
    for case, errors in low.items():
        for name in METHODS:
            e, fair = errors[name], f32[case][name]
            ratio = (e / fair).nan_to_num(float('inf'))
            check(f'{_dtype_name(case[0])}, offset {case[1]:g}, {name}: '
                  '>= 100x the float32-acc error, or a failed variance', _all_seeds(ratio >= 100),
                  f'smallest ratio {ratio.min().item():.3g}')
    square = {v: torch.tensor(v, dtype=torch.float16) ** 2 for v in (255.0, 256.0)}
    check('255² = 65025 fits float16 (max 65504)', bool(torch.isfinite(square[255.0])))
    check('256² = 65536 overflows float16 to inf', bool(torch.isinf(square[256.0])))
    #
    # Offset 100: the shortcut's $\sum x^2$ overflows, its variance is $+\infty$, the output 0
    x = _seed_rows(torch.float16, 100.0)
    squares = (x.double() ** 2).sum(-1).min().item()
    check("float16 acc, offset 100: every row's exact sum of squares > 65504", squares > 65504,
          f'smallest {squares:.3g}')
    mean, var = shortcut(x, torch.float16)
    check('float16 acc, offset 100: shortcut variance +inf in every row',
          bool((var == float('inf')).all()))
    y = normalize_with(x, mean, var)
    check('float16 acc, offset 100: a LayerNorm on the shortcut outputs exactly 0 everywhere',
          bool((y == 0).all()), f'{y.numel()} outputs, {int((y != 0).sum())} non-zero')
    #
    # Offset 300: the row sum overflows too
    x = _seed_rows(torch.float16, 300.0)
    var = shortcut(x, torch.float16)[1]
    check('float16 acc, offset 300: shortcut variance NaN in every row', bool(var.isnan().all()))
    mean, var = two_pass(x, torch.float16)
    check('float16 acc, offset 300: two passes give mean +inf and variance +inf in every row',
          bool((mean == float('inf')).all() and (var == float('inf')).all()))
    check('float16 acc, offset 300: a LayerNorm on the two-pass statistics outputs NaN everywhere',
          bool(normalize_with(x, mean, var).isnan().all()))
    #
    for case in [c for c in _LOW if c[1] >= 100]:
        e = low[case]
        sums = torch.minimum(*(e[name].nan_to_num(float('inf'))
                               for name in ('shortcut', 'two passes')))
        check(f'{_dtype_name(case[0])} acc, offset {case[1]:g}: '
              'Welford beats both sum-based methods', _all_seeds(e['Welford, 1 thread'] < sums),
              f"worst Welford {e['Welford, 1 thread'].max().item():.1e}")
    e = low[(torch.bfloat16, 0.0)]
    others = torch.stack([e[name] for name in METHODS if name != 'Welford, 1 thread']).amax(0)
    check('bfloat16 acc, offset 0: Welford is the worst of the four',
          _all_seeds(e['Welford, 1 thread'] > others),
          f"best Welford {e['Welford, 1 thread'].min().item():.1e}")


# ## The warp's shuffle pattern
#
# OneFlow's `WelfordWarpReduce` merges with `__shfl_down_sync`: lane $t$ reads lane $t + o$ for
# $o = 16, 8, 4, 2, 1$, so only lane 0 ends with the whole row, and `WelfordWarpAllReduce` then
# broadcasts lane 0's result with `__shfl_sync`. PyTorch's vectorized CUDA path, `compute_stats`,
# does the same when a block is one warp (larger blocks merge warps through shared memory)
# ([L170-L175, L206-L207](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L170-L207)).
# apex instead reads lane $(t + 2^l) \bmod 32$ for $l = 0, \dots, 4$, after which every lane holds
# all 32 partials, and still broadcasts lane 0
# ([L89-L100, L143-L148](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L89-L148)).
# The xor *butterfly* (`__shfl_xor_sync`, lane $t$ with lane $t \oplus o$) is what OneFlow's
# [`WarpAllReduce`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L42-L48)
# does; the same file uses it for the backward pass's plain sums ([L989-L991](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L989-L991)),
# not for Welford. A butterfly gives every lane the result without a broadcast, and for a sum all
# lanes agree bit for bit, since floating-point addition is commutative. Chan's merge is not
# symmetric in its two arguments once rounded, and the simulation measures what that does:
#
# {{ lanes_note }}
#
# We conjecture that this is why the Welford reductions broadcast lane 0 rather than use a
# butterfly; none of the three sources says so.

@check_group
def _check_lane_bits(x: torch.Tensor):
    """
    ### Which lanes end with the whole row, and with the same bits

    In `float64` on the ragged rows: after the `down` tree only lane 0 is right. In `float32` at
    offset 0: an xor butterfly of sums leaves all lanes with the same bits, one of Chan's merges
    does not.
    """
    down = warp_merge(lane_welford(x, torch.float64), 'down')
    check('down tree: lanes 16-31 read past the warp at the first step, so only lane 0 is right',
          bool(torch.isnan(down[1][:, 16:]).all() and torch.isfinite(down[1][:, 0]).all()),
          'lanes 16-31 NaN, lane 0 finite: the broadcast of lane 0 is needed')
    #
    # `float32`, offset 0: which butterflies leave every lane with the same bits
    xor_rows, down_rows, sum_rows = _lane_disagreement()
    note('float32, offset 0: rows whose lanes disagree bitwise on the mean',
         f'xor + Chan {xor_rows}, down + broadcast {down_rows}, xor + sum {sum_rows} (of 64)')
    check('xor butterfly of sums: all lanes agree bit for bit', sum_rows == 0,
          f'{sum_rows} rows differ')
    check("xor butterfly of Chan's merges: lanes disagree in some rows", xor_rows > 0,
          f'{xor_rows} of 64 rows')


@check_group(fold=True)
def _check_ours_vs_torch():
    """
    ## Our LayerNorm against PyTorch's

    On every row of the table and in every seed, the output error of
    [ours](../layer_norm/index.md) is within 2x of `F.layer_norm`'s, on the CPU.
    """
    outputs = _results()[2]
    for (dtype, offset), errors in outputs.items():
        ours, torchs = errors['ours'], errors['F.layer_norm']
        # (plus one float32 ulp of slack for rows where PyTorch's error is 0)
        check(f'{_dtype_name(dtype)}, offset {offset:g}', _all_seeds(ours <= 2 * torchs + 1.2e-7),
              f'largest ratio {(ours / torchs).max().item():.2f}')


@check_group(fold=True)
def _check_errors():
    """
    ## Errors
    """
    x = _rows(torch.float32, 0.0, rows=2, cols=64)
    check_raises('lane_welford needs a power-of-two lane count', ValueError, lane_welford,
                 x, torch.float32, 24, match='24')
    check_raises('warp_merge knows three patterns', ValueError, warp_merge, lane_welford(x),
                 'ring', match='ring')


# ## Exercises
#
# 1. Find the offset where the float32 shortcut's first variance turns negative: try offsets
#    10, 30, 100, 300 and 1000 on the rows of all 8 seeds (`_seed_rows`).
# 2. Shift the data before the shortcut: subtract each row's first value $K = x_1$, then
#    $\sigma^2 = \mathbb{E}[(x - K)^2] - \mathbb{E}[x - K]^2$. How accurate is it at offsets
#    $10^4$ and $10^6$, compared with two passes?
# 3. Show that Welford's update is Chan's merge with a part of one value: merge $(1, x_n, 0)$
#    into $(n - 1, \bar{x}_{n-1}, M_{2,n-1})$ and compare with `welford_step`.
# 4. `chan_merge` computes $n_b / n$ first. Merge two float16 partials of 256 values each, once
#    with `chan_merge` and once as $M_{2,a} + M_{2,b} + \delta^2 n_a n_b / n$: which one
#    overflows?


@check_group(fold=True)
def _exercise_1():
    """
    ## Solution 1: where the shortcut's variance turns negative
    """
    for offset in (10.0, 30.0, 100.0, 300.0, 1e3):
        var = shortcut(_seed_rows(torch.float32, offset))[1]  # (seeds, rows)
        negative = (var < 0).sum(-1)  # (seeds,)
        if offset < 1e3:
            check(f'float32, offset {offset:g}: no negative variance in any seed',
                  bool((negative == 0).all()), f'negative rows per seed {negative.tolist()}')
        else:
            check(f'float32, offset {offset:g}: negative variances in every seed',
                  bool((negative > 0).all()), f'negative rows per seed {negative.tolist()}')


@check_group(fold=True)
def _exercise_2():
    """
    ## Solution 2: the shortcut on shifted data
    """
    def _shifted_shortcut(x: torch.Tensor, acc: torch.dtype = torch.float32):
        # The shortcut on $x - K$ with $K = x_1$: the variance does not change under a shift, and
        # the shifted row's mean is small when $x_1$ is close to the row's mean
        k = x[..., :1].to(acc)  # (..., 1)
        mean, var = shortcut(x.to(acc) - k, acc)
        return mean + k[..., 0], var
    #
    def error(var, dtype, offset):
        return ((var.double() - _exact(dtype, offset)).abs() / _exact(dtype, offset)).amax()
    for offset in (1e4, 1e6):
        x = _seed_rows(torch.float32, offset)  # (seeds, rows, 512)
        shifted = error(_shifted_shortcut(x)[1], torch.float32, offset).item()
        passes = error(two_pass(x)[1], torch.float32, offset).item()
        check(f'float32, offset {offset:g}: shifted shortcut < 1e-4 and < two passes '
              '(max over 8 seeds)', shifted < 1e-4 and shifted < passes,
              f'shifted {shifted:.1e}, two passes {passes:.1e}')


@check_group(fold=True)
def _exercise_3():
    """
    ## Solution 3: Welford's update is Chan's merge with one value
    """
    x = _rows(torch.float64, 3.0, rows=4, cols=50, seed=2)
    stats = welford(x[:, :49], torch.float64)
    one = (torch.ones(4, dtype=torch.float64), x[:, 49], torch.zeros(4, dtype=torch.float64))
    check_close('chan_merge(stats, (1, x_n, 0)) == welford_step(stats, x_n), (n, mean, M2)',
                chan_merge(stats, one), welford_step(stats, x[:, 49]), rtol=0, atol=1e-12)


@check_group(fold=True)
def _exercise_4():
    """
    ## Solution 4: why `n_b / n` comes first
    """
    h = torch.float16
    a = (torch.tensor(256.0, dtype=h), torch.tensor(0.0, dtype=h), torch.tensor(256.0, dtype=h))
    b = (torch.tensor(256.0, dtype=h), torch.tensor(1.0, dtype=h), torch.tensor(256.0, dtype=h))
    m2 = chan_merge(a, b)[2]
    delta = b[1] - a[1]
    naive = a[2] + b[2] + delta * delta * a[0] * b[0] / (a[0] + b[0])
    check('float16, two parts of 256: chan_merge M2 = 640 (exact), the n_a n_b form overflows',
          m2.item() == 640.0 and naive.isinf().item(),
          f'chan_merge {m2.item()}, naive {naive.item()}')


def _test():
    """
    ## Checks
    """
    torch.manual_seed(0)
    x, whole = _ragged_case()
    _check_chan_merge(x, whole)
    _check_warp(x, whole)
    _check_welford_two_pass()
    _check_torch_half_sums()
    _check_table1()
    _check_table1_order()
    _check_table2()
    _check_lane_bits(x)
    _check_ours_vs_torch()
    _check_errors()
    _exercise_1()
    _exercise_2()
    _exercise_3()
    _exercise_4()


# ## Sources
#
# * B. P. Welford, Note on a method for calculating corrected sums of squares and products,
#   *Technometrics* 4(3):419-420, 1962 ([doi:10.1080/00401706.1962.10490022](https://doi.org/10.1080/00401706.1962.10490022)):
#   the one-pass iteration for the corrected sum of squares. We read only its abstract; the
#   form of the update on this page is the one in the kernels below.
# * T. F. Chan, G. H. Golub, R. J. LeVeque, [Updating formulae and a pairwise algorithm for
#   computing sample variances](http://i.stanford.edu/TR/CS-TR-79-773.html), Stanford report
#   STAN-CS-79-773, November 1979: from its abstract, the formula for the variance of $m + n$ values
#   from the means and variances of two parts, the pairwise algorithm built on it, and its use for
#   parallel computing. We have not read the full report.
# * OneFlow, [`oneflow/core/cuda/layer_norm.cuh`](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L212-L256):
#   `WelfordCombine` (one value; two partials, $n_b/n$ first), `WelfordWarpReduce`
#   (`__shfl_down_sync`, offsets 16 to 1), `WelfordWarpAllReduce` (then `__shfl_sync` from lane 0);
#   [L42-L48](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L42-L48)
#   `WarpAllReduce` with `__shfl_xor_sync`, used for plain sums at
#   [L989-L991](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L989-L991);
#   [L118-L133](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L118-L133)
#   float compute type for `half` and `nv_bfloat16`;
#   [L337-L359](https://github.com/Oneflow-Inc/oneflow/blob/25c8978c1c8b1371ef6aa4187dae4495bd233c35/oneflow/core/cuda/layer_norm.cuh#L337-L359)
#   lane $t$'s columns `(pack_id * 32 + t) * pack_size`, each converted to the compute type before
#   `WelfordCombine`, and the `col < cols` test for ragged rows.
# * apex, [`csrc/layer_norm_cuda_kernel.cu`](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L13-L39):
#   `cuWelfordOnlineSum` and `cuChanOnlineSum`;
#   [L89-L100](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L89-L100)
#   the warp merge reading lane `(threadIdx.x + (1 << l)) & 31`;
#   [L143-L148](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L143-L148)
#   the broadcast from lane 0;
#   [L830](https://github.com/NVIDIA/apex/blob/6424da3b4faa6c8f062da4a48c424fff3f02d42d/csrc/layer_norm_cuda_kernel.cu#L830)
#   `at::acc_type<scalar_t_in, true>` as the statistics type.
# * PyTorch, [`aten/src/ATen/native/cuda/layer_norm_kernel.cu`](https://github.com/pytorch/pytorch/blob/bad757be610b43809dc32b7b50d1800d0cfb6750/aten/src/ATen/native/cuda/layer_norm_kernel.cu#L148-L209):
#   `compute_stats`, per-thread Welford on values cast to `acc_type<T, true>`, the
#   `WARP_SHFL_DOWN` tree, and `WARP_SHFL(..., 0)` for a one-warp block.
# * PyTorch, [`aten/src/ATen/native/SharedReduceOps.h`](https://github.com/pytorch/pytorch/blob/23fa910d585aa44701bc29e0e49ee01965864b08/aten/src/ATen/native/SharedReduceOps.h#L96-L160):
#   `WelfordOps` - `reduce` (Welford), `combine` (Chan, `nb_over_n` first), `warp_shfl_down`.
# * PyTorch, [`aten/src/ATen/AccumulateType.h`](https://github.com/pytorch/pytorch/blob/88c94d1270899898d29c83d965ec7c788ca997d3/aten/src/ATen/AccumulateType.h#L127-L131):
#   `acc_type<Half, true>` and `acc_type<BFloat16, true>` are `float`.
# * PyTorch, [`aten/src/ATen/native/cpu/SumKernel.cpp`](https://github.com/pytorch/pytorch/blob/eb720578cea26093f0a91b9cb66476b62fd61627/aten/src/ATen/native/cpu/SumKernel.cpp#L62-L65):
#   the comment that float16/bfloat16 sums are done in float (the cast-load policies), which
#   `_test()` confirms by measurement.
# * PyTorch, [`aten/src/ATen/native/cpu/moments_utils.h`](https://github.com/pytorch/pytorch/blob/20d26decd96326b8777d0bd8b591e593a2e7b758/aten/src/ATen/native/cpu/moments_utils.h#L76-L155):
#   the CPU helper `RowwiseMoments` - Welford per SIMD lane over chunks of 16 vectors, half
#   vectors converted to float first, chunk results merged in a cascade with `AddMomentsVec`
#   (Chan's formula). We did not check which current CPU kernels call it.
