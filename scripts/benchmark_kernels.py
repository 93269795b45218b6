"""
Benchmarks LayerNorm implementations and prints a table; saves the figures as JSON for the
kernels page (`labml_nn_norm/kernels/results/`). A measurement, never a test.

    .venv/bin/python scripts/benchmark_kernels.py          # CPU always; GPU too with CUDA
    .venv/bin/python scripts/benchmark_kernels.py --quick  # fewer, shorter timings

CPU: forward and forward+backward of our plain PyTorch `layer_norm` (several separate ops),
`torch.compile` of it, `compiled_layer_norm` (a compiled forward and a compiled hand-derived
backward), `F.layer_norm`, and `x.clone()` (the bandwidth floor), median times, float32 and
bfloat16; the contenders take turns going first.
GPU: GB/s of the Triton kernel, `compiled_layer_norm`, `F.layer_norm` and a device-to-device
copy, fp32/fp16/bf16.
"""

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils import benchmark

from labml_nn_norm.kernels import compiled_layer_norm
from labml_nn_norm.layer_norm import layer_norm

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / 'labml_nn_norm' / 'kernels' / 'results'
CPU_SHAPES = [(4096, 768), (2048, 4096), (16384, 1024)]


def cpu_model() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_time(fn, min_run_time: float) -> float:
    # torch.utils.benchmark handles warm-up and threads; the median resists outliers from a busy
    # machine (with every thread torch would use: the Timer's default is one)
    timer = benchmark.Timer(stmt='fn()', globals={'fn': fn}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median


def bench_cpu(min_run_time: float, first: int = 0):
    # One compiled graph per shape, dtype and grad mode: more than dynamo's default budget
    torch._dynamo.config.recompile_limit = 64
    compiled = torch.compile(layer_norm, dynamic=False)
    rows_out = []
    for (rows, cols), dtype in [(s, d) for d in (torch.float32, torch.bfloat16)
                                for s in CPU_SHAPES]:
        x = (torch.randn(rows, cols) + 3).to(dtype)
        w, b = torch.randn(cols, dtype=dtype), torch.randn(cols, dtype=dtype)
        xg, wg, bg = (t.clone().requires_grad_() for t in (x, w, b))
        dy = torch.randn(rows, cols, dtype=dtype)
        impls = {
            'F.layer_norm': lambda a, w_, b_: F.layer_norm(a, (cols,), w_, b_),
            'plain': lambda a, w_, b_: layer_norm(a, (cols,), w_, b_),
            'compiled': lambda a, w_, b_: compiled(a, (cols,), w_, b_),
            'fused': lambda a, w_, b_: compiled_layer_norm(a, (cols,), w_, b_),
        }
        # The contenders take turns: each run of the table starts from a different one
        names = list(impls)
        order = names[first % len(names):] + names[:first % len(names)]
        for kind in ('forward', 'forward+backward'):
            row = {'rows': rows, 'cols': cols, 'pass': kind,
                   'dtype': str(dtype).replace('torch.', '')}
            for name in order:
                f = impls[name]
                if kind == 'forward':
                    with torch.no_grad():
                        f(x, w, b)  # warm-up (compiles once per shape)
                        row[name] = median_time(lambda: f(x, w, b), min_run_time)
                else:
                    f(xg, wg, bg).backward(dy)
                    row[name] = median_time(lambda: f(xg, wg, bg).backward(dy), min_run_time)
            row['clone'] = (median_time(lambda: x.clone(), min_run_time) if kind == 'forward'
                            else None)
            # Minimum traffic: read x, write y; backward also read x and dy, write dx
            size = x.element_size()
            traffic = (2 if kind == 'forward' else 5) * x.numel() * size
            row['F.layer_norm GB/s'] = traffic / row['F.layer_norm'] / 1e9
            rows_out.append(row)
            print(_cpu_line(row), flush=True)
    return rows_out


def _cpu_line(row: dict) -> str:
    # One row of the CPU table: F.layer_norm's time, the others relative to it
    base = row['F.layer_norm']
    text = (f'{row["dtype"]:8s} {row["rows"]:6d}×{row["cols"]:<5d} {row["pass"]:17s} '
            f'F.layer_norm {base * 1e3:8.2f} ms   '
            f'plain {row["plain"] / base:5.2f}×   compiled {row["compiled"] / base:5.2f}×   '
            f'fused {row["fused"] / base:5.2f}×')
    if row['clone']:
        text += f'   clone {row["clone"] / base:5.2f}×'
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
                        xg = x.clone().requires_grad_()
                        y = f(xg, (N,), w.clone().requires_grad_(), b.clone().requires_grad_())
                        dy = torch.randn_like(y)
                        fns[name] = (lambda y=y, dy=dy, xg=xg:
                                     torch.autograd.grad(y, xg, dy, retain_graph=True))
                    fns['copy'] = lambda: x.clone()
                    traffic = 3 * x.numel() * size  # read x and dy, write dx
                row = {'dtype': str(dtype).replace('torch.', ''), 'pass': kind,
                       'rows': M, 'cols': N}
                for name, f in fns.items():
                    ms = triton.testing.do_bench(f)
                    moved = 2 * x.numel() * size if name == 'copy' else traffic
                    row[name] = moved / (ms * 1e-3) / 1e9
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
            'cpu': cpu_model(),
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
    parser.add_argument('--quick', action='store_true', help='shorter timings (noisier)')
    parser.add_argument('--no-save', action='store_true', help='print only')
    parser.add_argument('--system-malloc', action='store_true',
                        help="keep glibc's malloc (noisy for large tensors)")
    parser.add_argument('--repeat', type=int, default=3,
                        help='runs of the whole CPU table (fastest cell kept)')
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f'CPU: {cpu_model()}, {torch.get_num_threads()} threads, torch {torch.__version__}')
    # The whole table several times, keeping each cell's fastest median: large CPU tensors are
    # fresh mmap'ed pages on some runs and not on others, and the page faults swamp the kernel
    # itself
    runs = [bench_cpu(0.2 if args.quick else 0.5, first=i)
            for i in range(1 if args.quick else args.repeat)]
    merged = []
    for cells in zip(*runs):
        row = dict(cells[0])
        for key in ('F.layer_norm', 'plain', 'compiled', 'fused', 'clone'):
            if row[key] is not None:
                row[key] = min(c[key] for c in cells)
        row['F.layer_norm GB/s'] = max(c['F.layer_norm GB/s'] for c in cells)
        merged.append(row)
    print('fastest of each cell over the runs:')
    for row in merged:
        print(_cpu_line(row))
    cpu = {'machine': machine('cpu'), 'command': 'python scripts/benchmark_kernels.py',
           'repeats': len(runs), 'results': merged}
    if not args.no_save:
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
