r"""
---
title: Computing the mean and variance
summary: Four ways to get a row's mean and variance - the one-pass shortcut, two passes, Welford, and Chan's merge that GPU reductions use - and their measured errors in float32, float16 and bfloat16.
---

# Computing the mean and variance

[LayerNorm](../layer_norm/index.md) needs, for every row, the mean $\mu$ and the biased
variance $\sigma^2$. On paper there is one answer; in floating point the way you compute it
decides whether you get it. This page implements four ways, measures them against a float64
reference when the site is built, and shows why real kernels use the last one.

1. **The one-pass shortcut** $\sigma^2 = \mathbb{E}[x^2] - \mathbb{E}[x]^2$: one pass over the data,
   two running sums. When the mean is large compared with the spread, both terms are huge and
   nearly equal, and their difference is rounding noise: garbage, or a *negative* variance that
   becomes NaN under the square root.
2. **Two passes**: the mean first, then the mean of the squared deviations $(x_i - \mu)^2$. Accurate,
   but it reads the row twice (or keeps it in fast memory).
3. **Welford's online update** (Welford, 1962): one pass, keeping a count $n$, the running mean
   $\bar{x}_n$ and $M_{2,n} = \sum_{i \le n} (x_i - \bar{x}_n)^2$:
   $$\delta = x_n - \bar{x}_{n-1} \qquad \bar{x}_n = \bar{x}_{n-1} + \frac{\delta}{n} \qquad
   M_{2,n} = M_{2,n-1} + \delta\,(x_n - \bar{x}_n)$$
4. **Chan's pairwise merge** (Chan, Golub and LeVeque, 1979/1983): two partial results
   $(n_a, \bar{x}_a, M_{2,a})$ and $(n_b, \bar{x}_b, M_{2,b})$ of disjoint parts combine exactly into
   the result of their union:
   $$n = n_a + n_b \qquad \delta = \bar{x}_b - \bar{x}_a \qquad
   \bar{x} = \bar{x}_a + \delta\,\frac{n_b}{n} \qquad
   M_2 = M_{2,a} + M_{2,b} + \delta^2\,\frac{n_a n_b}{n}$$
   This is what a GPU kernel does: each thread runs Welford over its share of the row, then the
   32 threads of a warp merge their partials in a butterfly of 5 shuffle steps, and warps merge
   through shared memory ([the Triton kernel](../kernels/triton_layer_norm.md) does it across column tiles).

### Measured: the largest relative error of the variance

Rows of 512 values $x = \text{offset} + \mathcal{N}(0, 1)$, 64 rows each. Each method runs in the
dtype of its input; the reference is float64 arithmetic on the same (already rounded) inputs.
The last two columns are the largest absolute error of the *normalized output* of PyTorch's
`F.layer_norm` and of [ours](../layer_norm/index.md), which both keep half-precision statistics in float32.

{{ error_table }}

![Relative error of the variance against the row offset, float32, for each method](error_vs_offset.svg)

In half precision every method is poor, Welford worst (each update divides by a count and rounds
to 11 or 8 significant bits), which is why `F.layer_norm`, our LayerNorm and every fast kernel
convert half-precision inputs to float32 before computing statistics: their output errors (last
two columns) are the size of one float16/bfloat16 rounding of the output.

The shortcut is the only one that breaks as the offset grows in float32; the two-pass form, Welford and
Chan's merge lose accuracy only as the inputs themselves lose digits (at offset $10^6$ a float32
keeps about one decimal digit below the decimal point). In float16 the shortcut overflows
outright: $x^2$ exceeds float16's largest value, 65504, as soon as $|x| \ge 256$.
"""

from typing import Tuple

import torch

Stats = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # (count, mean, M2), one per row


def shortcut(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""
    ## 1. The one-pass shortcut

    $\mathbb{E}[x^2] - \mathbb{E}[x]^2$ over the last dimension, in `x`'s own dtype.
    """
    mean = x.mean(-1)
    return mean, x.square().mean(-1) - mean.square()


def two_pass(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    ## 2. Two passes

    The mean, then the mean of the squared deviations from it: the deviations are small numbers,
    so nothing large is subtracted from anything large.
    """
    mean = x.mean(-1, keepdim=True)
    return mean.squeeze(-1), (x - mean).square().mean(-1)


def welford(x: torch.Tensor) -> Stats:
    r"""
    ## 3. Welford's online update

    One column at a time (vectorized across the rows, as every row of a GPU kernel runs at once).
    Returns $(n, \bar{x}, M_2)$; the variance is $M_2 / n$.
    """
    rows, cols = x.shape[:-1], x.shape[-1]
    mean = torch.zeros(rows, dtype=x.dtype, device=x.device)
    m2 = torch.zeros(rows, dtype=x.dtype, device=x.device)
    for n in range(1, cols + 1):
        value = x[..., n - 1]
        # $\delta = x_n - \bar{x}_{n-1}$, the new value's distance from the old mean
        delta = value - mean
        # $\bar{x}_n = \bar{x}_{n-1} + \delta / n$
        mean = mean + delta / n
        # $M_{2,n} = M_{2,n-1} + \delta (x_n - \bar{x}_n)$: old and new distance, no large squares
        m2 = m2 + delta * (value - mean)
    count = torch.full(rows, float(cols), dtype=x.dtype, device=x.device)
    return count, mean, m2


def chan_merge(a: Stats, b: Stats) -> Stats:
    r"""
    ## 4. Chan's merge of two partial results

    Exact in real arithmetic for any split. Empty parts ($n = 0$) are allowed: they change nothing,
    which is what a thread whose share of a ragged row is empty contributes.
    """
    n_a, mean_a, m2_a = a
    n_b, mean_b, m2_b = b
    n = n_a + n_b
    # Guard $n = 0$ (both parts empty): no division by zero, the result stays empty
    safe_n = torch.where(n > 0, n, torch.ones_like(n))
    delta = mean_b - mean_a
    mean = mean_a + delta * (n_b / safe_n)
    # $n_b / n$ before multiplying by $n_a$: in float16 the product $n_a n_b$ of two counts of 256
    # is already 65536, past float16's largest number (real kernels keep counts in float32)
    m2 = m2_a + m2_b + delta.square() * n_a * (n_b / safe_n)
    return n, mean, m2


def tree_reduce(x: torch.Tensor, lanes: int = 32) -> Stats:
    """
    ### A warp's reduction, simulated

    The row is dealt out to `lanes` "threads" round-robin (thread $t$ gets columns
    $t, t + 32, t + 64, \\dots$, the pattern that makes a warp's loads coalesced), each runs
    Welford over its share, and the partials are merged in a butterfly: lane $t$ with lane
    $t + 16$, then $t + 8$, … until lane 0 holds the whole row after $\\log_2 32 = 5$ steps.
    """
    if lanes & (lanes - 1):
        raise ValueError(f'lanes must be a power of two (a butterfly halves them), got {lanes}')
    cols = x.shape[-1]
    # Pad the row to a multiple of `lanes`; padded slots get count 0 and so contribute nothing
    pad = (-cols) % lanes
    padded = torch.nn.functional.pad(x, (0, pad))
    # (…, per-lane share, lanes) -> each lane's values along the last dimension
    shares = padded.reshape(*x.shape[:-1], -1, lanes).transpose(-1, -2)
    valid = (torch.arange(cols + pad, device=x.device) < cols).reshape(-1, lanes).T.to(x.dtype)
    stats = _masked_welford(shares, valid)
    # The butterfly: halve the number of live lanes at each step
    while stats[0].shape[-1] > 1:
        half = stats[0].shape[-1] // 2
        stats = chan_merge(tuple(s[..., :half] for s in stats), tuple(s[..., half:] for s in stats))
    return tuple(s[..., 0] for s in stats)


def _masked_welford(shares: torch.Tensor, valid: torch.Tensor) -> Stats:
    # Welford per lane over its share, skipping the padded slots (valid == 0)
    count = torch.zeros(shares.shape[:-1], dtype=shares.dtype, device=shares.device)
    mean, m2 = torch.zeros_like(count), torch.zeros_like(count)
    for i in range(shares.shape[-1]):
        value, keep = shares[..., i], valid[:, i]
        count = count + keep
        delta = (value - mean) * keep
        mean = mean + delta / torch.where(count > 0, count, torch.ones_like(count))
        m2 = m2 + delta * (value - mean)
    return count, mean, m2


METHODS = {
    'shortcut E[x²]−E[x]²': lambda x: shortcut(x)[1],
    'two passes': lambda x: two_pass(x)[1],
    'Welford': lambda x: (lambda n, m, m2: m2 / n)(*welford(x)),
    'Chan merge (32 lanes)': lambda x: (lambda n, m, m2: m2 / n)(*tree_reduce(x)),
}


def _rows(dtype: torch.dtype, offset: float, rows: int = 64, cols: int = 512, seed: int = 0) -> torch.Tensor:
    # The same random rows for every method; rounded once to the dtype under test
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(rows, cols, generator=g, dtype=torch.float64) + offset).to(dtype)


def measure(dtype: torch.dtype, offset: float) -> dict:
    """
    ## Measuring

    For one dtype and offset: each method's largest relative error of the variance (`nan` when a
    row's variance came out negative or not finite), and the largest absolute error of the
    normalized output of `F.layer_norm` and of ours.
    """
    import torch.nn.functional as F
    from labml_nn_norm.layer_norm import layer_norm

    x = _rows(dtype, offset)
    exact = x.double().var(-1, unbiased=False)
    errors = {}
    for name, method in METHODS.items():
        var = method(x).double()
        bad = ~torch.isfinite(var) | (var < 0)
        errors[name] = float('nan') if bad.any() else ((var - exact).abs() / exact).max().item()
    reference = F.layer_norm(x.double(), (x.shape[-1],))
    errors['F.layer_norm output'] = (F.layer_norm(x, (x.shape[-1],)).double() - reference).abs().max().item()
    errors['ours output'] = (layer_norm(x, x.shape[-1]).double() - reference).abs().max().item()
    return errors


CASES = [(torch.float32, 0.0), (torch.float32, 1e2), (torch.float32, 1e3), (torch.float32, 1e4),
         (torch.float32, 1e6), (torch.float16, 0.0), (torch.float16, 1e2), (torch.float16, 300.0),
         (torch.bfloat16, 0.0), (torch.bfloat16, 1e2)]


def _artifacts():
    """
    ## The table and the plot, made when the site is built
    """
    import math
    import matplotlib.pyplot as plt

    results = [(dtype, offset, measure(dtype, offset)) for dtype, offset in CASES]
    names = list(results[0][2])
    lines = ['| input | offset | ' + ' | '.join(names) + ' |', '|' + ' --- |' * (len(names) + 2)]
    for dtype, offset, errors in results:
        cells = ['**NaN / negative**' if math.isnan(e) else f'{e:.1e}' for e in errors.values()]
        lines.append(f'| {str(dtype).replace("torch.", "")} | {offset:g} | ' + ' | '.join(cells) + ' |')
    #
    offsets = [10.0 ** k for k in range(0, 7)]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for name in METHODS:
        errs = [measure(torch.float32, o)[name] for o in offsets]
        # A NaN (negative variance) is drawn at the top of the plot, where "100% wrong" lives
        ax.plot(offsets, [1e1 if math.isnan(e) else max(e, 1e-9) for e in errs], marker='o', label=name)
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xlabel('row offset (mean), spread 1, float32')
    ax.set_ylabel('max relative error of the variance')
    ax.axhline(1.0, color='#888888', lw=0.8, ls='--')
    ax.text(1.2, 1.4, '100% error; points at 10 are NaN/negative', fontsize=8, color='#444444')
    ax.legend(fontsize=8, loc='center left', bbox_to_anchor=(1.02, 0.5))
    ax.grid(True, which='major', alpha=0.3)
    return {'error_table': '\n'.join(lines), 'error_vs_offset': fig}


def _test():
    """
    ## Checks
    """
    from labml_nn_norm._check import check, check_close, check_raises, section

    torch.manual_seed(0)
    section("Chan's merge: any split gives the whole")
    x = torch.randn(3, 97, dtype=torch.float64) * 4 + 10
    whole = (torch.full((3,), 97.0, dtype=torch.float64), x.mean(-1), x.var(-1, unbiased=False) * 97)
    for split in ([1, 96], [50, 47], [96, 1], [30, 30, 37], [0, 97]):
        parts = torch.split(x, split, dim=-1)
        stats = [welford(p) if p.shape[-1] else (torch.zeros(3, dtype=torch.float64),) * 3 for p in parts]
        merged = stats[0]
        for s in stats[1:]:
            merged = chan_merge(merged, s)
        torch.testing.assert_close(merged, whole, rtol=1e-12, atol=1e-10)
    check('splits [1|96], [50|47], [96|1], [30|30|37], [0|97] (an empty part) merge to the whole', True)
    for lanes in (1, 2, 32, 128):
        check_close(f'butterfly over {lanes} lanes (97 columns: ragged shares)', tree_reduce(x, lanes), whole,
                    rtol=1e-12, atol=1e-10)
    #
    section('Welford and two passes agree (float32)')
    for offset in (0.0, 1e3):
        x = _rows(torch.float32, offset, rows=8, cols=300, seed=1)
        n, mean, m2 = welford(x)
        check_close(f'offset {offset:g}: Welford mean, variance == two-pass', (mean, m2 / n), two_pass(x),
                    rtol=1e-4, atol=1e-5)
    #
    section('The shortcut fails for real (float32, offset 1e4)')
    errors = measure(torch.float32, 1e4)
    var = shortcut(_rows(torch.float32, 1e4))[1]
    check('shortcut: variance wrong by over 10% or negative',
          errors['shortcut E[x²]−E[x]²'] != errors['shortcut E[x²]−E[x]²'] or errors['shortcut E[x²]−E[x]²'] > 0.1,
          f'{(var < 0).sum().item()} of 64 rows negative, max relative error {errors["shortcut E[x²]−E[x]²"]:.2g}')
    for name in ('two passes', 'Welford', 'Chan merge (32 lanes)'):
        check(f'{name}: relative error < 1e-3', errors[name] < 1e-3, f'{errors[name]:.1e}')
    #
    section('float16: x² overflows above 256')
    check('255² = 65025 fits float16 (max 65504)', torch.isfinite(torch.tensor(255.0, dtype=torch.float16) ** 2))
    check('256² = 65536 overflows float16 to inf', torch.isinf(torch.tensor(256.0, dtype=torch.float16) ** 2))
    errors = measure(torch.float16, 300.0)
    check('float16 shortcut at offset 300: NaN', errors['shortcut E[x²]−E[x]²'] != errors['shortcut E[x²]−E[x]²'])
    check('float16 two passes at offset 300: finite', errors['two passes'] < 1.0, f'{errors["two passes"]:.1e}')
    #
    section('Our LayerNorm stays within 2x of PyTorch on every row of the table')
    for dtype, offset in CASES:
        errors = measure(dtype, offset)
        ours, torchs = errors['ours output'], errors['F.layer_norm output']
        # (plus one float32 ulp of slack for rows where PyTorch's error is 0)
        check(f'{str(dtype).replace("torch.", "")}, offset {offset:g}', ours <= 2 * torchs + 1.2e-7,
              f'ours {ours:.1e}, PyTorch {torchs:.1e}')
    check_raises('tree_reduce needs a power-of-two lane count', ValueError, tree_reduce, x, 24, match='24')
