r"""
---
title: A fused LayerNorm on the CPU
summary: torch.compile of a forward and of the hand-derived backward, joined by one
  autograd.Function, timed against F.layer_norm beside the bytes each path moves.
section: Fast kernels
order: 33
nav: Fused on the CPU
symbols: eps \epsilon; weight \gamma; bias \beta; mean \mu; x_hat \hat{x}
---

# A fused LayerNorm on the CPU

[The kernels page](index.md) measured `torch.compile` of our plain LayerNorm against PyTorch's
own `F.layer_norm` on the CPU. Its time over `F.layer_norm`'s, in the saved record (the last
table below):

{{ compiled_ratios }}

Each is the median over the saved rounds, with the fastest and the slowest round in
parentheses, once with a warm cache and once cold; where that range spans 1.1, the rounds
cannot say whether the compiled module is within 1.1× of `F.layer_norm`. Where the
backward's extra time comes from is *not* extra memory traffic: the traffic table below counts
the compiled module's forward + backward at the same full-size reads and writes as
`F.layer_norm`'s and the hand-derived path's, so AOTAutograd's backward keeps no extra
full-size intermediates from the forward. What differs must be what a byte count does not see:
how many loops a generated kernel makes over a row, and how its loops split between threads (we
have not profiled which). PyTorch's kernel uses a hand-derived gradient that needs only $x$,
$\gamma$ and two numbers per row.

This page writes that design with `torch.compile` alone: a `torch.autograd.Function` whose
forward and backward are each a compiled function. The forward computes the statistics in one
fused kernel and saves only $\mu$ and $1/\sigma$ per row; the backward is the formula derived on
[the backward page](../layer_norm/backward.md), $d\gamma$, $d\beta$ and

$$dx = \frac{1}{\sigma}\Big(g - \overline{g} - \hat{x}\,\overline{g\hat{x}}\Big),
\qquad g = \gamma\,dy$$

Then it counts the bytes each path moves, because on the CPU, as on a GPU, a pass that does so
little arithmetic per element is paid for by its memory traffic.

## What you will learn

* how to join two compiled functions, a forward and a hand-derived backward, with one
  `torch.autograd.Function`: [the autograd function](#the-autograd-function-joining-them);
* what Inductor does with `torch.var_mean` on the CPU, and how to read it in the generated code:
  [the forward](#the-forward-as-one-compiled-function),
  [Welford or two steps](#checks-the-statistics-in-the-generated-code-welford-or-two-steps);
* how to count the bytes each path moves, and why they set the bound:
  [what each path moves](#what-each-path-moves-and-how-fast-it-runs).
"""

import functools
import math
import re
from typing import Dict, Optional, Tuple

import torch

from labml_nn_norm._check import check, check_close, check_group, check_raises, skipped
from labml_nn_norm.layer_norm import (
    _shape_t,
    check_normalized_shape,
    normalized_shape_tuple,
    statistics_dtype,
)


def _forward(x: torch.Tensor, weight: Optional[torch.Tensor], bias: Optional[torch.Tensor],
             eps: float) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""
    ## The forward, as one compiled function

    `x` is the `(rows, cols)` view. `torch.var_mean` asks for the mean and the (biased)
    variance together. On the CPU, Inductor by default lowers it to two passes (the mean, then
    the variance) for rows of up to 1024 elements, and to a one-pass Welford reduction for longer
    rows or when there is a single row
    ([`use_two_step_variance`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/_inductor/lowering.py#L7079-L7126):
    the threshold at L7098-L7100, the single row at
    [L7112](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/_inductor/lowering.py#L7112);
    [`var_mean_helper_`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/_inductor/lowering.py#L7172-L7194),
    [`cpp.use_two_step_variance_threshold = 1024`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/_inductor/config.py#L1800-L1801)).
    Its comments give the reasons: "The two-step algorithm can be faster for non-split
    reductions because Welford does more work per element" (L7080-L7081), and for the value,
    "1024 is a default value to pass all the UTs about accuracy. A larger threshold can still
    get performance benefits" (L7098-L7099). `_compiled()` below takes up that second sentence
    and raises the threshold to `TWO_STEP_UP_TO` columns (`_test()` checks the generated code
    both ways). It is a choice, not a measured finding: no saved timing compares the two
    reductions on this CPU. The output is one more pass over the row just read. Statistics are
    in `float32` for half-precision inputs, as in [our LayerNorm](../layer_norm/index.md).
    """
    xc = x.to(statistics_dtype(x.dtype))
    var, mean = torch.var_mean(xc, dim=-1, correction=0, keepdim=True)
    rstd = torch.rsqrt(var + eps)
    y = (xc - mean) * rstd
    if weight is not None:
        y = y * weight.to(xc.dtype)
    if bias is not None:
        y = y + bias.to(xc.dtype)
    return y.to(x.dtype), mean, rstd


def _backward(dy: torch.Tensor, x: torch.Tensor, weight: Optional[torch.Tensor],
              mean: torch.Tensor, rstd: torch.Tensor, has_bias: bool):
    r"""
    ## The backward, as one compiled function

    $\hat{x}$ is recomputed from $x$ and the two saved numbers per row. The two row means of
    $dx$ and the two column sums of $d\gamma$, $d\beta$ are reductions along different axes, so
    Inductor makes separate loops for them; everything element-wise is fused into those loops.
    """
    dtype = mean.dtype
    x_hat = (x.to(dtype) - mean) * rstd
    dyc = dy.to(dtype)
    # $g = \gamma\,dy$, the gradient with respect to $\hat{x}$
    g = dyc * weight.to(dtype) if weight is not None else dyc
    g_mean = g.mean(-1, keepdim=True)
    g_x_hat_mean = (g * x_hat).mean(-1, keepdim=True)
    dx = (rstd * (g - g_mean - x_hat * g_x_hat_mean)).to(x.dtype)
    # $\partial L/\partial\gamma = \sum_r dy\,\hat{x}$, $\partial L/\partial\beta = \sum_r dy$
    # summed in two steps: first within `k` blocks of rows, then over the blocks. A single
    # sum over all rows gives the compiled loop nothing to split between threads but the
    # columns; the blocks are a second axis to split between threads
    rows, cols = x.shape
    k = next(k for k in (16, 8, 4, 2, 1) if rows % k == 0)

    def column_sum(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(k, rows // k, cols).sum(1).sum(0)
    dweight = column_sum(dyc * x_hat).to(weight.dtype) if weight is not None else None
    param_dtype = weight.dtype if weight is not None else x.dtype
    dbias = column_sum(dyc).to(param_dtype) if has_bias else None
    return dx, dweight, dbias


# Rows up to this many elements get the two-pass statistics (Inductor's default: 1024)
TWO_STEP_UP_TO = 65536


@functools.lru_cache(maxsize=None)
def _compiled(which: str):
    """
    ## Compiled once, on first use

    `dynamic=False`: Inductor specializes each compiled function to the shapes and dtypes it
    sees, and compiles again (a few seconds) for a new `(rows, cols)` or dtype, up to
    `torch._dynamo.config.recompile_limit` variants per function. Training runs see one or two
    shapes.
    """
    if which == 'forward':
        return torch.compile(_forward, dynamic=False,
                             options={'cpp.use_two_step_variance_threshold': TWO_STEP_UP_TO})
    return torch.compile(_backward, dynamic=False)


class CompiledLayerNormFunction(torch.autograd.Function):
    """
    ## The autograd function joining them

    It saves $x$, $\\gamma$ and the per-row $\\mu$ and $1/\\sigma$: what PyTorch's own kernel saves
    (see [the backward page](../layer_norm/backward.md)). Autograd never looks inside the
    compiled functions.
    """

    @staticmethod
    def forward(ctx, x, normalized_shape, weight, bias, eps):
        cols = math.prod(normalized_shape)
        rows = x.reshape(-1, cols)
        w = weight.reshape(cols) if weight is not None else None
        b = bias.reshape(cols) if bias is not None else None
        y, mean, rstd = _compiled('forward')(rows, w, b, eps)
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.has_bias = bias is not None
        ctx.normalized_shape = normalized_shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, dy):
        x, weight, mean, rstd = ctx.saved_tensors
        cols = math.prod(ctx.normalized_shape)
        w = weight.reshape(cols) if weight is not None else None
        dx, dw, db = _compiled('backward')(dy.reshape(-1, cols), x.reshape(-1, cols), w, mean,
                                           rstd, ctx.has_bias)
        shape = ctx.normalized_shape
        return (dx.reshape(x.shape), None, dw.reshape(shape) if dw is not None else None,
                db.reshape(shape) if db is not None else None, None)


def compiled_layer_norm(x: torch.Tensor, normalized_shape: _shape_t,
                        weight: Optional[torch.Tensor] = None,
                        bias: Optional[torch.Tensor] = None, eps: float = 1e-5) -> torch.Tensor:
    """
    ## The function

    The contract of `F.layer_norm`, and the same shape checks as our LayerNorm. An empty input
    never reaches the compiler (a zero-size reduction has nothing to fuse): it gives an empty
    output and, through `F.layer_norm`, the same zero gradients.
    """
    shape = normalized_shape_tuple(normalized_shape)
    check_normalized_shape(x, shape, weight, bias)
    if x.numel() == 0:
        return torch.nn.functional.layer_norm(x, shape, weight, bias, eps)
    return CompiledLayerNormFunction.apply(x, shape, weight, bias, eps)


def inductor_traffic(fn, *args) -> Dict[str, float]:
    r"""
    ## Bytes moved, read off the generated code

    Runs `fn` under `torch.compile`'s code capture and, for every generated C++ kernel call,
    adds up the full-size `(rows, cols)` buffers it takes: `const` pointers are read, the others
    written. The result is in elements per element of $x$: a *lower bound* on traffic, since a
    kernel that loops over a row twice (statistics, then output) counts its input once; for rows
    that fit in the cache the second loop reads from the cache, not from memory.
    """
    from torch._inductor.utils import run_and_get_code

    # Compiled afresh: a function dynamo has already compiled for these shapes generates nothing
    torch._dynamo.reset()
    _, codes = run_and_get_code(fn, *args)
    rows, cols = args[0].reshape(-1, args[0].shape[-1]).shape
    full = rows * cols
    reads = writes = 0
    for code in codes:
        # Buffer sizes: the graph's inputs (asserted) and the buffers it allocates
        sizes = {}
        for name, dims in re.findall(r'assert_size_stride\((\w+), \(([\d, ]*)\)', code):
            sizes[name] = math.prod(int(d) for d in dims.split(',') if d.strip())
        for name, dims in re.findall(
                r'(\w+) = (?:empty_strided_cpu\(|reinterpret_tensor\(\w+, )\(([\d, ]*)\)', code):
            sizes[name] = math.prod(int(d) for d in dims.split(',') if d.strip())
        # Each kernel's signature says which of its pointers are const (read)
        signatures = {}
        for kernel, params in re.findall(
                r'^(cpp_fused_\w+) = async_compile\.cpp_pybinding\(\[([^\]]*)\]', code, re.M):
            signatures[kernel] = ['const' in p for p in params.split("', '")]
        for kernel, call_args in re.findall(r'^\s*(cpp_fused_\w+)\(([^)]*)\)', code, re.M):
            for is_const, arg in zip(signatures[kernel], call_args.split(',')):
                if sizes.get(arg.strip()) == full:
                    reads += is_const
                    writes += not is_const
    return {'reads': reads, 'writes': writes}


def aten_traffic(fn, *args) -> Dict[str, int]:
    """
    ## Bytes moved by eager PyTorch

    For the paths that are not compiled (our plain module, `F.layer_norm`, `x.clone()`), every
    ATen operation is a separate pass over memory: a dispatch mode sees each one and counts the
    full-size tensors it takes and returns (forward and, when `fn` calls `backward()`, the
    backward's operations too).
    """
    from labml_nn_norm.kernels import PassCounter

    # Views and `detach` move nothing
    views = (torch.ops.aten.view, torch.ops.aten._unsafe_view, torch.ops.aten.detach,
             torch.ops.aten.t, torch.ops.aten.alias, torch.ops.aten.expand)
    with PassCounter(args[0].numel(), skip=views) as counter:
        fn(*args)
    return {'reads': counter.counts['reads'], 'writes': counter.counts['writes']}


def traffic_table(rows: int = 64, cols: int = 96) -> Dict[str, Dict[str, Dict[str, int]]]:
    """
    ## The traffic of every path, forward and forward + backward

    Counted on a small float32 input (the counts do not depend on the size). The compiled
    paths are read off Inductor's code, the others counted operation by operation.
    """
    import torch.nn.functional as F

    from labml_nn_norm.layer_norm import layer_norm

    x, w, b, dy = torch.randn(rows, cols) + 1, torch.randn(cols), torch.randn(cols), \
        torch.randn(rows, cols)

    def grads(f):
        def run(x, weight, bias):
            f(x, (cols,), weight, bias).backward(dy)
        return run

    def leaves():
        return [t.clone().requires_grad_() for t in (x, w, b)]
    compiled_plain = torch.compile(layer_norm, dynamic=False)
    out = {}
    with torch.no_grad():
        out['plain'] = {'forward': aten_traffic(lambda *a: layer_norm(a[0], (cols,), *a[1:]),
                                                x, w, b)}
        out['F.layer_norm'] = {'forward': aten_traffic(
            lambda *a: F.layer_norm(a[0], (cols,), *a[1:]), x, w, b)}
        out['x.clone()'] = {'forward': aten_traffic(lambda a: a.clone(), x)}
        out['compiled (autograd)'] = {'forward': inductor_traffic(
            lambda *a: compiled_plain(a[0], (cols,), *a[1:]), x, w, b)}
        out['compiled (hand-derived)'] = {'forward': inductor_traffic(
            _compiled('forward'), x, w, b, 1e-5)}
    out['plain']['forward+backward'] = aten_traffic(grads(layer_norm), *leaves())
    out['F.layer_norm']['forward+backward'] = aten_traffic(grads(F.layer_norm), *leaves())
    out['compiled (autograd)']['forward+backward'] = inductor_traffic(
        grads(compiled_plain), *leaves())
    # The backward's inputs μ and 1/σ from the eager forward: the same shapes and dtypes as the
    # compiled one's, without compiling it again
    _, mean, rstd = _forward(x, w, b, 1e-5)
    backward = inductor_traffic(_compiled('backward'), dy, x, w, mean, rstd, True)
    forward = out['compiled (hand-derived)']['forward']
    out['compiled (hand-derived)']['forward+backward'] = {
        k: forward[k] + backward[k] for k in ('reads', 'writes')}
    return out


def _load_cpu() -> Optional[dict]:
    import json
    from pathlib import Path
    path = Path(__file__).parent / 'results' / 'cpu.json'
    return json.loads(path.read_text()) if path.exists() else None


def _float32_cells(cpu: dict, kind: str):
    # (row, cache state, cell) of the saved float32 cells of one pass
    from labml_nn_norm.kernels import _cells
    return _cells(cpu, 'float32', kind)


def compiled_ratios(cpu: dict) -> str:
    """`torch.compile` of the plain module over `F.layer_norm`, float32, per shape and pass."""
    from labml_nn_norm.kernels import _spread
    lines = []
    for kind in ('forward', 'forward+backward'):
        cells = [f'{_spread(cell["ratio"]["compiled"])} at {r["rows"]}×{r["cols"]} {cache}'
                 for r, cache, cell in _float32_cells(cpu, kind) if 'compiled' in cell['ratio']]
        lines.append(f'* float32, {kind}: ' + ', '.join(cells))
    return '\n'.join(lines)


# The two compiled contenders of the figure, and their colours
CONTENDERS = {'compiled': ('torch.compile (autograd)', 'blue'),
              'fused': ('compiled_layer_norm (hand-derived)', 'orange')}


def ratio_verdicts(cpu: dict, bound: float = 1.1) -> Dict[str, Dict[str, int]]:
    """
    ## How many ratios are within the bound, by median and by their spread

    Per contender, over every saved cell (both dtypes, both passes, warm and cold): how many
    medians are within `bound`, and the verdict of the kernels page's `classify()` on each
    min / median / max.
    """
    from labml_nn_norm.kernels import classify
    out = {}
    for key in CONTENDERS:
        ratios = [cell['ratio'][key] for r in cpu['results'] for cell in r['cache'].values()
                  if key in cell['ratio']]
        verdicts = [classify(s, bound) for s in ratios]
        out[key] = {'cells': len(ratios), 'median': sum(s['median'] <= bound for s in ratios),
                    **{v: verdicts.count(v) for v in ('within', 'beyond', 'inconclusive')}}
    return out


def figure_ratios(cpu: dict, bound: float = 1.1) -> str:
    """
    ## The ratios and their spread, drawn

    One row per shape, pass and cache state, one panel per dtype; per contender a dot at the
    median ratio to `F.layer_norm` over the rounds and a whisker from the fastest round to the
    slowest, on a log scale, with lines at 1 and at `bound`.
    """
    from labml_nn_norm.layer_norm import FIGURE_COLOURS, svg_figure, svg_legend
    dtypes = ('float32', 'bfloat16')
    rows = [(r['rows'], r['cols'], r['pass'], cache) for r in cpu['results']
            if r['dtype'] == dtypes[0] for cache in r['cache']]
    cell = {(r['dtype'], r['rows'], r['cols'], r['pass'], cache): c
            for r in cpu['results'] for cache, c in r['cache'].items()}
    spreads = [c['ratio'][k] for c in cell.values() for k in CONTENDERS if k in c['ratio']]
    # The scale: a little beyond the fastest and the slowest round, and at least 0.5 to 2
    lo = min(min(s['min'] for s in spreads), 0.5) / 1.1
    hi = max(max(s['max'] for s in spreads), 2.0) * 1.1
    left, panel, gap, top, step = 205, 250, 30, 58, 17

    def x(v: float, k: int) -> float:
        return left + k * (panel + gap) + panel * math.log(v / lo) / math.log(hi / lo)
    bottom = top + step * len(rows)
    parts = [svg_legend([(FIGURE_COLOURS[c], True, name) for name, c in CONTENDERS.values()],
                        left + 6, 14, step=220)]
    for k, dtype in enumerate(dtypes):
        parts.append(f'<text x="{x(lo, k) + panel / 2:.0f}" y="38" text-anchor="middle" '
                     f'font-weight="bold">{dtype}</text>')
        tick = 2.0 ** math.ceil(math.log2(lo))
        while tick <= hi:
            parts.append(f'<line x1="{x(tick, k):.1f}" x2="{x(tick, k):.1f}" y1="{top - 6}" '
                         f'y2="{bottom}" stroke="currentColor" stroke-opacity="0.15"/>'
                         f'<text x="{x(tick, k):.1f}" y="{bottom + 13}" text-anchor="middle" '
                         f'font-size="10">{tick:g}</text>')
            tick *= 2
        for v, dash in ((1.0, ''), (bound, ' stroke-dasharray="3 2"')):
            parts.append(f'<line x1="{x(v, k):.1f}" x2="{x(v, k):.1f}" y1="{top - 6}" '
                         f'y2="{bottom}" stroke="currentColor"{dash}/>')
        parts.append(f'<text x="{x(bound, k) + 3:.1f}" y="{top - 8}" font-size="10">'
                     f'{bound:g}×</text>')
        # Per contender one path of whiskers and one group of dots
        for j, (name, (_, colour)) in enumerate(CONTENDERS.items()):
            whiskers, dots = [], []
            for i, key in enumerate(rows):
                s = cell[(dtype,) + key]['ratio'].get(name)
                if s is None:
                    continue
                y = top + step * i + step / 2 + 4 * (2 * j - 1)
                whiskers.append(f'M{x(s["min"], k):.1f},{y:.1f}H{x(s["max"], k):.1f}')
                dots.append(f'<circle cx="{x(s["median"], k):.1f}" cy="{y:.1f}" r="3"/>')
            c = FIGURE_COLOURS[colour]
            parts.append(f'<path d="{"".join(whiskers)}" stroke="{c}" stroke-width="1.5"/>'
                         f'<g fill="{c}">{"".join(dots)}</g>')
    for i, (n, h, kind, cache) in enumerate(rows):
        parts.append(f'<text x="{left - 12}" y="{top + step * i + step / 2 + 4:.1f}" '
                     f'text-anchor="end" font-size="11">{n}×{h} {kind}, {cache}</text>')
    parts.append(f'<text x="{left + panel + gap / 2:.0f}" y="{bottom + 30}" text-anchor="middle" '
                 'font-size="11">time over F.layer_norm\'s (log scale; dot: median, line: '
                 f'fastest to slowest of {cpu["rounds"]} rounds)</text>')
    v = ratio_verdicts(cpu, bound)
    n = sum(c['cells'] for c in v.values())
    label = (f'Dot-and-whisker plot of {n} time ratios to F.layer_norm on the CPU, per shape, '
             'pass and cache state, float32 and bfloat16, with reference lines at 1 and '
             f'{bound:g}')
    caption = (f'By their median, {sum(c["median"] for c in v.values())} of these {n} ratios '
               f'are within {bound:g}× of F.layer_norm, but the spread over {cpu["rounds"]} '
               f'rounds puts only {sum(c["within"] for c in v.values())} within it in every '
               f'round ({v["fused"]["within"]} of compiled_layer_norm\'s, '
               f'{v["compiled"]["within"]} of torch.compile\'s), '
               f'{sum(c["beyond"] for c in v.values())} beyond it in every round, and leaves '
               f'{sum(c["inconclusive"] for c in v.values())} inconclusive.')
    return svg_figure(''.join(parts), left + 2 * panel + gap + 20, bottom + 40, label, caption)


def _artifacts():
    """
    ## The tables and the figure, drawn from the saved results and the counts

    Bytes per element of $x$ in float32 (4 bytes per full-size read or write), beside the times
    `scripts/benchmark_kernels.py` saved.
    """
    from labml_nn_norm.kernels import _spread
    counts = traffic_table()
    lines = ['| path | forward: reads + writes | bytes / element | forward + backward '
             '| bytes / element |', '| --- | --- | --- | --- | --- |']
    for name, passes in counts.items():
        cells = []
        for kind in ('forward', 'forward+backward'):
            c = passes.get(kind)
            cells += ([f'{c["reads"]} + {c["writes"]}', str(4 * (c['reads'] + c['writes']))]
                      if c else ['', ''])
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    out = {'traffic': '\n'.join(lines)}
    out['loops'] = (
        'All the fused paths move the least there is to move: one read of $x$ and one write of '
        '$y$ forward; $x$ and $dy$ read and $dx$ written backward. So the byte count alone does '
        'not separate them from `F.layer_norm`. What it does not see is how many times a kernel '
        'loops over a row it has just read, and how well its loops split between threads: the '
        'timings are where those show.')
    cpu = _load_cpu()
    if cpu is None or not any('fused' in c['ratio'] for r in cpu['results']
                              for c in r.get('cache', {}).values()):
        out['timings'] = ('No timings of `compiled_layer_norm` saved yet: run '
                          '`python -m scripts.benchmark_kernels`.')
        out['compiled_ratios'] = 'No saved timings yet.'
        out['ratios_figure'] = ''
        return out
    m = cpu['machine']
    lines = [f'Measured on **{m["cpu"]}** ({m["threads"]} threads, {m["allocator"]}), torch '
             f'{m["torch"]}, {m["date"]}; each cell the median (min–max) over {cpu["rounds"]} '
             'rounds of the time over `F.layer_norm`\'s in the same round (lower is faster).', '',
             '| dtype | shape | pass | cache | F.layer_norm, ms | plain | compiled (autograd) '
             '| compiled (hand-derived) |', '| --- | --- | --- | --- | --- | --- | --- | --- |']
    for r in cpu['results']:
        for cache, cell in r['cache'].items():
            cells = [_spread(cell['ratio'][k]) if k in cell['ratio'] else 'n/a'
                     for k in ('plain', 'compiled', 'fused')]
            lines.append(f'| {r["dtype"]} | {r["rows"]}×{r["cols"]} | {r["pass"]} | {cache} | '
                         f'{_spread(cell["seconds"]["F.layer_norm"], "", 1e3)} | '
                         + ' | '.join(cells) + ' |')
    out['timings'] = '\n'.join(lines)
    out['compiled_ratios'] = compiled_ratios(cpu)
    out['ratios_figure'] = figure_ratios(cpu)
    return out


# ## What each path moves, and how fast it runs
#
# Full-size reads and writes per element of $x$ (a float32 `(64, 96)` input; a compiled kernel's
# input counts once, however many loops read it):
#
# {{ traffic }}
#
# {{ loops }}
#
# {{ timings }}
#
# The same ratios drawn, each with its spread over the rounds; the dashed line is the goal of
# being within 1.1× of `F.layer_norm`:
#
# {{ ratios_figure }}


@check_group
def _check_generated_statistics():
    """
    ## Checks: the statistics in the generated code, Welford or two steps

    What `_compiled("forward")` changes, read in the C++ Inductor generates for rows of 4096
    columns.
    """
    # The forward's statistics in the generated code, for 4096 columns: Inductor's default is
    # a Welford reduction; ours, two steps
    from torch._inductor.utils import run_and_get_code
    x, w, b = torch.randn(4, 4096) + 1, torch.randn(4096), torch.randn(4096)
    for name, fn, welford in (('torch.compile, default', torch.compile(_forward, dynamic=False),
                               True),
                              ('_compiled("forward")', _compiled('forward'), False)):
        torch._dynamo.reset()
        _, codes = run_and_get_code(fn, x, w, b, 1e-5)
        check(f'{name}, 4096 columns: ' + ('a Welford reduction' if welford else
                                           'two steps, no Welford'),
              ('welford' in '\n'.join(codes).lower()) == welford)


@check_group(fold=True)
def _check_against_f_layer_norm():
    """
    ## Checks: as close to the exact answer as `F.layer_norm` is

    For each case, the output and the three gradients are computed three ways: by
    `compiled_layer_norm`, by `F.layer_norm` in the same dtype, and by `F.layer_norm` in float64
    on the same (rounded) inputs, the exact answer. Ours may be no further from the exact answer
    than twice `F.layer_norm`'s distance, plus a slack of a few roundings of the result to the
    dtype (relative to the largest value). Cases: float32, float64, bfloat16, float16, no affine
    parameters, no bias, an empty batch, a 2-d `normalized_shape`.
    """
    import torch.nn.functional as F

    slack = {torch.float32: 1e-5, torch.float64: 1e-10, torch.bfloat16: 2e-2,
             torch.float16: 2e-3}
    # Each new (rows, cols), dtype or missing parameter compiles both functions again (a few
    # tenths of a second each, seconds with a cold cache): the 2-d `normalized_shape` flattens to
    # the first case's (64, 96), and the float64 case is `_check_contract`'s gradcheck input
    cases = [((64, 96), (96,), torch.float32, True, True),
             ((4, 16, 2, 48), (2, 48), torch.float32, True, True),
             ((5, 10), (10,), torch.float64, True, True),
             ((64, 96), (96,), torch.bfloat16, True, True),
             ((8, 64), (64,), torch.float16, True, True),
             ((64, 96), (96,), torch.float32, False, False),
             ((64, 96), (96,), torch.float32, True, False),
             ((0, 96), (96,), torch.float32, True, True)]

    def outputs(f, x, ns, w, b, dy):
        leaves = [t.clone().requires_grad_() for t in (x, w, b) if t is not None]
        it = iter(leaves)
        xs, ws, bs = next(it), next(it) if w is not None else None, \
            next(it) if b is not None else None
        y = f(xs, ns, ws, bs)
        return [y.detach()] + list(torch.autograd.grad(y, leaves, dy))
    for shape, ns, dtype, affine, has_bias in cases:
        x = (torch.randn(shape, dtype=torch.float64) * 2 + 1).to(dtype)
        w = torch.randn(ns, dtype=dtype) if affine else None
        b = torch.randn(ns, dtype=dtype) if has_bias else None
        dy = torch.randn(shape, dtype=dtype)
        exact = outputs(F.layer_norm, *[t.double() if t is not None else None
                                        for t in (x,)], ns,
                        *[t.double() if t is not None else None for t in (w, b, dy)])
        ours = outputs(compiled_layer_norm, x, ns, w, b, dy)
        theirs = outputs(F.layer_norm, x, ns, w, b, dy)
        worst = []
        for a, t, e in zip(ours, theirs, exact):
            if a.shape != t.shape or a.dtype != t.dtype:
                worst.append(float('inf'))
                continue
            if a.numel() == 0:
                continue
            scale = e.abs().max().item() or 1.0
            ours_err = (a.double() - e).abs().max().item()
            theirs_err = (t.double() - e).abs().max().item()
            worst.append((ours_err - 2 * theirs_err) / scale)
        name = (f'{str(dtype)[6:]} {list(shape)} over {list(ns)}'
                + ('' if affine else ', no affine')
                + ('' if has_bias or not affine else ', no bias'))
        check(name, len(ours) == len(theirs) and all(v <= slack[dtype] for v in worst),
              f'{len(ours)} tensors, worst excess {max(worst, default=0):.1e} of the largest value')


@check_group(fold=True)
def _check_contract():
    """
    ## Checks: gradcheck, and the errors of bad input

    The hand-derived backward is the true gradient (`gradcheck` in float64), and a mistake in
    the arguments gets the same kind of message as our LayerNorm's.
    """

    # The shape of the float64 case above, so that nothing is compiled again
    x = torch.randn(5, 10, dtype=torch.float64, requires_grad=True)
    w = torch.randn(10, dtype=torch.float64, requires_grad=True)
    b = torch.randn(10, dtype=torch.float64, requires_grad=True)
    check('torch.autograd.gradcheck in float64 (x, weight, bias)',
          torch.autograd.gradcheck(lambda *a: compiled_layer_norm(a[0], (10,), *a[1:]),
                                   (x, w, b)))
    check_raises('normalized_shape that the input does not end in', ValueError,
                 compiled_layer_norm, torch.randn(4, 8), (4,), match='expected input with shape')
    check_raises('a weight of the wrong shape', ValueError, compiled_layer_norm,
                 torch.randn(4, 8), (8,), torch.randn(4), match='weight')


# ## Exercises
#
# 1. **The backward without compiling.** `_forward` and `_backward` are plain functions until
#    `_compiled()` compiles them. Call `_backward` on the $\mu$ and $1/\sigma$ that `_forward`
#    returns and compare with autograd through `_forward`, in float64.
# 2. **What the backward keeps.** Count the bytes that `compiled_layer_norm` saves for the
#    backward on a float32 `(64, 96)` input (use `torch.autograd.graph.saved_tensors_hooks`),
#    and the same for our plain `layer_norm`, whose backward autograd derives.
# 3. **Half precision.** Feed `_forward` a `bfloat16` input: in which dtypes come $y$, $\mu$ and
#    $1/\sigma$ back, and why?


@check_group(fold=True)
def _exercise_1():
    """
    ## Solution 1: the backward without compiling

    The hand-derived `_backward`, run eagerly, is autograd's gradient of `_forward`.
    """
    x = torch.randn(12, 20, dtype=torch.float64) * 2 + 1
    weight, bias = torch.randn(20, dtype=torch.float64), torch.randn(20, dtype=torch.float64)
    dy = torch.randn(12, 20, dtype=torch.float64)
    leaves = [t.clone().requires_grad_() for t in (x, weight, bias)]
    y, mean, rstd = _forward(*leaves, 1e-5)
    expected = torch.autograd.grad(y, leaves, dy)
    check_close('_backward(dy, x, γ, μ, 1/σ) == autograd through _forward: dx, dγ, dβ (float64)',
                list(_backward(dy, x, weight, mean.detach(), rstd.detach(), True)),
                list(expected))


@check_group(fold=True)
def _exercise_2():
    """
    ## Solution 2: what the backward keeps

    Ours keeps $x$, $\\gamma$ and two float32 numbers per row; autograd's backward of the plain
    formula keeps more, among them full-size intermediates.
    """
    from labml_nn_norm.layer_norm import layer_norm

    def saved_bytes(f):
        sizes = []

        def pack(t):
            sizes.append(t.numel() * t.element_size())
            return t
        x = (torch.randn(64, 96) + 1).requires_grad_()
        weight, bias = torch.randn(96, requires_grad=True), torch.randn(96, requires_grad=True)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            f(x, (96,), weight, bias)
        return sum(sizes)
    ours, plain = saved_bytes(compiled_layer_norm), saved_bytes(layer_norm)
    expected = 64 * 96 * 4 + 96 * 4 + 2 * 64 * 4  # x, γ, μ and 1/σ
    check('compiled_layer_norm saves x, γ, μ, 1/σ; the plain layer_norm at least one more '
          'full-size tensor', ours == expected and plain >= ours + 64 * 96 * 4,
          f'{ours:,} bytes vs {plain:,}')


@check_group(fold=True)
def _exercise_3():
    """
    ## Solution 3: half precision

    The statistics are computed, and kept, in float32 (`statistics_dtype`); only $y$ is rounded
    back to the input's dtype.
    """
    x = (torch.randn(4, 32) * 3 + 1).to(torch.bfloat16)
    y, mean, rstd = _forward(x, None, None, 1e-5)
    check('bfloat16 in: y bfloat16, μ and 1/σ float32',
          (y.dtype, mean.dtype, rstd.dtype) == (torch.bfloat16, torch.float32, torch.float32),
          f'{y.dtype}, {mean.dtype}, {rstd.dtype}')


@check_group
def _check_figure():
    """
    ## Checks: the figure of the saved ratios

    Its verdicts are `classify()`'s, the kernels page's rule, and add up; it is a well-formed,
    named SVG that a different bound redraws.
    """
    from labml_nn_norm.kernels import classify, cpu_findings
    from labml_nn_norm.layer_norm import check_figure
    cpu = _load_cpu()
    if cpu is None:
        skipped('the figure of the saved ratios', 'no results/cpu.json saved')
        return
    v = ratio_verdicts(cpu)
    check('every ratio gets one verdict: within, beyond or inconclusive',
          all(c['within'] + c['beyond'] + c['inconclusive'] == c['cells'] for c in v.values()),
          str(v))
    float32 = [classify(cell['ratio']['compiled']) for r in cpu['results']
               for cell in r['cache'].values() if r['dtype'] == 'float32']
    check('torch.compile, float32: the same verdicts as the kernels page',
          {k: float32.count(k) for k in cpu_findings(cpu)['compiled']}
          == cpu_findings(cpu)['compiled'], str(cpu_findings(cpu)['compiled']))
    check('a verdict of within implies a median within 1.1x',
          all(c['within'] <= c['median'] for c in v.values()))
    check_figure('ratios figure', figure_ratios(cpu), figure_ratios(cpu, bound=1.2))


def _test():
    """
    ## Run all the checks
    """
    torch.manual_seed(0)
    _check_figure()
    _check_against_f_layer_norm()
    _check_contract()
    _exercise_1()
    _exercise_2()
    _exercise_3()
    # Last: it resets the compiler's caches
    _check_generated_statistics()


if __name__ == '__main__':
    _test()

# ## Sources
#
# * [The backward page](../layer_norm/backward.md): the formula for $dx$, $d\gamma$, $d\beta$ and
#   what PyTorch's kernel saves, each with its own sources.
# * PyTorch 2.13.0 (the installed wheel, commit `cf30153c`): `torch.compile` and the C++ code
#   Inductor generates, read with `torch._inductor.utils.run_and_get_code` (the counts above are
#   computed from it when the site is built); Inductor's lowering of `var_mean`,
#   [`torch/_inductor/lowering.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/_inductor/lowering.py#L7172-L7208)
#   (Welford, or a two-step variance when `use_two_step_variance` says so), and
#   [`config.py`](https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/_inductor/config.py#L1800-L1801):
#   the CPU threshold of 1024 elements.
