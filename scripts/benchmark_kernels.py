"""
Benchmarks LayerNorm implementations and saves the timings as JSON for the kernels pages
(`labml_nn_norm/kernels/results/`). A measurement, never a test.

    .venv/bin/python scripts/benchmark_kernels.py            # CPU always; GPU too with CUDA
    .venv/bin/python scripts/benchmark_kernels.py --quick    # 5 shorter rounds (noisier)

CPU: forward, and forward + backward (all three gradients: dx, dweight, dbias), of our plain
PyTorch `layer_norm` (several separate ops), `torch.compile` of it, `compiled_layer_norm` (a
compiled forward and a compiled hand-derived backward), `F.layer_norm`, and `x.clone()` (the same
bytes as a forward, no arithmetic), float32 and bfloat16, in two cache states:

* **warm**: the same `x` on every call, so whatever of it fits in the caches is still there;
* **cold**: every call takes the next of several input buffers whose total is at least twice the
  last-level cache, so each input was last touched many megabytes ago.

The contenders are interleaved: each *round* times every contender once (the median of several
calls), and the order rotates from round to round so that each one goes first in turn. A ratio
to `F.layer_norm` is taken within a round (same machine state) and reported as min / median / max
over the rounds; the page's `classify()` calls a ratio "within 1.1x" only when its largest round
is.

GPU: GB/s of the Triton kernel, `compiled_layer_norm`, `F.layer_norm` and a device-to-device copy,
fp32/fp16/bf16; the backward asks every contender for all three gradients.
"""

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from labml_nn_norm.kernels import compiled_layer_norm  # noqa: E402
from labml_nn_norm.layer_norm import layer_norm  # noqa: E402

RESULTS = ROOT / 'labml_nn_norm' / 'kernels' / 'results'
CPU_SHAPES = [(4096, 768), (2048, 4096), (16384, 1024)]
CONTENDERS = ('F.layer_norm', 'plain', 'compiled', 'fused')


def cpu_model() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def last_level_cache_bytes() -> int:
    # The largest cache Linux reports for CPU 0 (32 MiB if it reports none)
    sizes = []
    for f in Path('/sys/devices/system/cpu/cpu0/cache').glob('index*/size'):
        text = f.read_text().strip()
        scale = {'K': 1024, 'M': 1024 ** 2}.get(text[-1], 1)
        sizes.append(int(text.rstrip('KM')) * scale)
    return max(sizes, default=32 * 1024 ** 2)


def summary(values: List[float]) -> Dict[str, float]:
    return {'min': min(values), 'median': statistics.median(values), 'max': max(values)}


def time_calls(fn: Callable[[int], object], target_s: float, min_calls: int = 3) -> float:
    """Median seconds of one call of `fn(i)`, `i` counting calls, over at least `target_s`."""
    times, start = [], time.perf_counter()
    i = 0
    while i < min_calls or time.perf_counter() - start < target_s:
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
        i += 1
    return statistics.median(times)


def _cpu_cell(rows: int, cols: int, dtype: torch.dtype, kind: str, cache: str, compiled,
              rounds: int, target_s: float, llc: int) -> Tuple[Dict[str, List[float]], int]:
    """Per-round times of every contender for one (shape, dtype, pass, cache state)."""
    nbytes = rows * cols * torch.empty((), dtype=dtype).element_size()
    # Cold: enough buffers that the others (inputs alone) fill twice the last-level cache
    buffers = 1 if cache == 'warm' else max(3, math.ceil(2 * llc / nbytes) + 1)
    xs = [((torch.randn(rows, cols) + 3).to(dtype)) for _ in range(buffers)]
    dys = [torch.randn(rows, cols, dtype=dtype) for _ in range(buffers)]
    w, b = torch.randn(cols, dtype=dtype), torch.randn(cols, dtype=dtype)
    xgs = [x.clone().requires_grad_() for x in xs]
    wg, bg = w.clone().requires_grad_(), b.clone().requires_grad_()
    impls = {
        'F.layer_norm': lambda a, w_, b_: F.layer_norm(a, (cols,), w_, b_),
        'plain': lambda a, w_, b_: layer_norm(a, (cols,), w_, b_),
        'compiled': lambda a, w_, b_: compiled(a, (cols,), w_, b_),
        'fused': lambda a, w_, b_: compiled_layer_norm(a, (cols,), w_, b_),
    }
    calls = {}
    for name, f in impls.items():
        if kind == 'forward':
            def call(i, f=f):
                with torch.no_grad():
                    return f(xs[i % buffers], w, b)
        else:
            # All three gradients for every contender: the same work for each
            def call(i, f=f):
                k = i % buffers
                return torch.autograd.grad(f(xgs[k], wg, bg), (xgs[k], wg, bg), dys[k])
        calls[name] = call
    if kind == 'forward':
        calls['clone'] = lambda i: xs[i % buffers].clone()
    for call in calls.values():
        call(0)  # warm-up: compiles once per shape, dtype and grad mode
    times = {name: [] for name in calls}
    names = list(calls)
    for r in range(rounds):
        # Interleaved, and each contender goes first in turn
        for name in names[r % len(names):] + names[:r % len(names)]:
            times[name].append(time_calls(calls[name], target_s))
    return times, buffers


def bench_cpu(rounds: int, target_s: float, llc: int) -> List[dict]:
    # One compiled graph per shape, dtype and grad mode: more than dynamo's default budget
    torch._dynamo.config.recompile_limit = 64
    compiled = torch.compile(layer_norm, dynamic=False)
    out = []
    for dtype in (torch.float32, torch.bfloat16):
        for rows, cols in CPU_SHAPES:
            for kind in ('forward', 'forward+backward'):
                row = {'rows': rows, 'cols': cols, 'pass': kind,
                       'dtype': str(dtype).replace('torch.', ''), 'cache': {}}
                for cache in ('warm', 'cold'):
                    times, buffers = _cpu_cell(rows, cols, dtype, kind, cache, compiled, rounds,
                                               target_s, llc)
                    base = times['F.layer_norm']
                    row['cache'][cache] = {
                        'buffers': buffers,
                        'seconds': {k: summary(v) for k, v in times.items()},
                        # Paired within each round: the same machine state for both
                        'ratio': {k: summary([t / f for t, f in zip(v, base)])
                                  for k, v in times.items() if k != 'F.layer_norm'},
                        'rounds': times,
                    }
                # The flat keys the fused-CPU page reads: each warm cell's fastest round
                warm = row['cache']['warm']['seconds']
                for k in CONTENDERS + ('clone',):
                    row[k] = warm[k]['min'] if k in warm else None
                size = torch.empty((), dtype=dtype).element_size()
                traffic = (2 if kind == 'forward' else 5) * rows * cols * size
                row['F.layer_norm GB/s'] = traffic / warm['F.layer_norm']['min'] / 1e9
                out.append(row)
                print(_cpu_line(row), flush=True)
    return out


def _cpu_line(row: dict) -> str:
    # One row: median ratio to F.layer_norm [min, max] for each contender, warm and cold
    text = f'{row["dtype"]:8s} {row["rows"]:6d}×{row["cols"]:<5d} {row["pass"]:17s}'
    for cache, cell in row['cache'].items():
        base = cell['seconds']['F.layer_norm']['median']
        text += f'\n    {cache}: F.layer_norm {base * 1e3:7.2f} ms'
        for k, r in cell['ratio'].items():
            text += f'  {k} {r["median"]:.2f} [{r["min"]:.2f}, {r["max"]:.2f}]'
    return text


def bench_gpu():
    import triton.testing

    from labml_nn_norm.kernels.triton_layer_norm import triton_layer_norm
    out = []
    M = 4096
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        for N in (512, 1024, 2048, 4096, 8192, 16384):
            x = torch.randn(M, N, device='cuda', dtype=dtype)
            w = torch.randn(N, device='cuda', dtype=dtype)
            b = torch.randn(N, device='cuda', dtype=dtype)
            size = x.element_size()
            for kind in ('forward', 'backward'):
                if kind == 'forward':
                    fns = {'triton': lambda: triton_layer_norm(x, (N,), w, b),
                           'fused': lambda: compiled_layer_norm(x, (N,), w, b),
                           'F.layer_norm': lambda: F.layer_norm(x, (N,), w, b),
                           'copy': lambda: x.clone()}
                    traffic = 2 * x.numel() * size
                else:
                    fns = {}
                    for name, f in (('triton', triton_layer_norm), ('fused', compiled_layer_norm),
                                    ('F.layer_norm', F.layer_norm)):
                        xg, wg, bg = (t.clone().requires_grad_() for t in (x, w, b))
                        y = f(xg, (N,), wg, bg)
                        dy = torch.randn_like(y)
                        # dx, dweight and dbias for every contender: asking for dx alone lets
                        # native_layer_norm_backward skip its dweight/dbias kernels
                        # (output_mask [True, False, False]) while ours always computes them
                        fns[name] = (lambda y=y, dy=dy, leaves=(xg, wg, bg):
                                     torch.autograd.grad(y, leaves, dy, retain_graph=True))
                    fns['copy'] = lambda: x.clone()
                    traffic = 3 * x.numel() * size  # read x and dy, write dx
                row = {'dtype': str(dtype).replace('torch.', ''), 'pass': kind,
                       'rows': M, 'cols': N}
                for name, f in fns.items():
                    # do_bench clears the L2 cache before each call (a cold-cache measurement);
                    # the 20%, 50% and 80% quantiles of its timed calls
                    lo, mid, hi = triton.testing.do_bench(f, quantiles=[0.2, 0.5, 0.8])
                    moved = 2 * x.numel() * size if name == 'copy' else traffic
                    row[name] = moved / (mid * 1e-3) / 1e9
                    row[name + ' range'] = [moved / (hi * 1e-3) / 1e9, moved / (lo * 1e-3) / 1e9]
                out.append(row)
                print(f'{row["dtype"]:9s} {kind:8s} N={N:6d}  triton {row["triton"]:7.0f} GB/s   '
                      f'fused {row["fused"]:7.0f}   '
                      f'F.layer_norm {row["F.layer_norm"]:7.0f}   copy {row["copy"]:7.0f}',
                      flush=True)
    return out


def machine(device: str) -> dict:
    import importlib.metadata
    jemalloc = 'jemalloc' in os.environ.get('LD_PRELOAD', '')
    info = {'date': datetime.date.today().isoformat(), 'torch': torch.__version__,
            'python': platform.python_version(), 'threads': torch.get_num_threads(),
            'cpu': cpu_model(), 'last_level_cache_bytes': last_level_cache_bytes(),
            'load_average': os.getloadavg()[0] if hasattr(os, 'getloadavg') else None,
            'allocator': 'jemalloc (pages kept)' if jemalloc else 'system malloc'}
    try:
        info['triton'] = importlib.metadata.version('triton')
    except importlib.metadata.PackageNotFoundError:
        info['triton'] = None
    if device == 'cuda':
        info['device'] = torch.cuda.get_device_name()
    return info


JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'


def _reexec_with_jemalloc():
    """
    With glibc's malloc, every tensor over 32 MB is fresh mmap'ed memory, so each call pays ~16k
    page faults and the timings swing 5x from run to run. jemalloc that never returns pages
    (Debian's `libjemalloc2`) keeps the memory mapped: the timings then measure the kernels. Used
    when installed.
    """
    if os.path.exists(JEMALLOC) and 'jemalloc' not in os.environ.get('LD_PRELOAD', '') \
            and '--system-malloc' not in sys.argv:
        env = dict(os.environ, LD_PRELOAD=JEMALLOC,
                   MALLOC_CONF='dirty_decay_ms:-1,muzzy_decay_ms:-1')
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main():
    _reexec_with_jemalloc()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='5 shorter rounds (noisier)')
    parser.add_argument('--no-save', action='store_true', help='print only')
    parser.add_argument('--system-malloc', action='store_true',
                        help="keep glibc's malloc (noisy for large tensors)")
    parser.add_argument('--rounds', type=int, default=7,
                        help='rounds of interleaved timings per cell (at least 5)')
    parser.add_argument('--threads', type=int, default=None,
                        help="torch's intra-op threads (default: torch's own choice); on a shared "
                             'machine one thread is least disturbed by other processes')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rounds = 5 if args.quick else max(5, args.rounds)
    target_s = 0.02 if args.quick else 0.05
    llc = last_level_cache_bytes()
    print(f'CPU: {cpu_model()}, {torch.get_num_threads()} threads, torch {torch.__version__}, '
          f'last-level cache {llc / 2 ** 20:.0f} MiB; {rounds} rounds')
    start = time.time()
    results = bench_cpu(rounds, target_s, llc)
    cpu = {'machine': machine('cpu'), 'command': 'python ' + ' '.join(sys.argv),
           'rounds': rounds, 'seconds_per_measurement': target_s,
           'wall_time_s': round(time.time() - start),
           # Read by the fused-CPU page: its flat keys are the fastest of this many rounds
           'repeats': rounds, 'results': results}
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / 'cpu.json').write_text(json.dumps(cpu, indent=1) + '\n')
    if torch.cuda.is_available():
        gpu = {'machine': machine('cuda'), 'command': 'python scripts/benchmark_kernels.py',
               'results': bench_gpu()}
        if not args.no_save:
            (RESULTS / 'gpu.json').write_text(json.dumps(gpu, indent=1) + '\n')
    else:
        print('GPU: no CUDA device here; the GPU table is not measured.')


if __name__ == '__main__':
    main()
