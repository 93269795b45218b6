"""
Runs pages at build time:
`python literate_norm/run_page.py MODULE=OUT_DIR [MODULE=OUT_DIR ...] [--touch FILE]`, or with
`--stdin`, the `MODULE=OUT_DIR` jobs one per line on its standard input, read once torch is
imported: the build starts the runner before it knows which pages must run.

For each page module, in a process of its own, it writes to its `OUT_DIR`:
`stdout` (what the page's `_test()` prints; the "Run it" box shows it), `status` (`0` when
`_test()` passed), and the page's `_artifacts()`: each figure as `<name>.svg`, each Markdown
string as `<name>.md`.

The runner imports torch and matplotlib once and then *forks* one child per page, several at a
time: a page starts in milliseconds instead of paying for `import torch` again, which is most of
a small page's run time. (It forks before torch has started any threads, so the children are safe.)
"""

import gc
import importlib
import os
import sys
import time
import traceback
from pathlib import Path


def _save_figure(figure, path: Path):
    # Deterministic SVG: no date in the metadata, fixed ids
    import matplotlib
    matplotlib.rcParams['svg.hashsalt'] = 'labml_nn_norm'
    # Text as text, not as glyph outlines: smaller, searchable, and styled by the page's fonts
    matplotlib.rcParams['svg.fonttype'] = 'none'
    figure.savefig(path, format='svg', metadata={'Date': None}, bbox_inches='tight')


def run_one(module_name: str, out: Path):
    """Run one page's `_test()` then `_artifacts()`, writing into `out` (in the current process)."""
    module = importlib.import_module(module_name)
    module._test()
    sys.stdout.flush()
    for name, value in (getattr(module, '_artifacts', lambda: {})() or {}).items():
        if isinstance(value, str):
            (out / f'{name}.md').write_text(value, encoding='utf-8')
        else:
            _save_figure(value, out / f'{name}.svg')


def _child(module_name: str, out: Path) -> int:
    # The child's stdout and stderr go to files in its own folder
    out.mkdir(parents=True, exist_ok=True)
    for fd, name in ((1, 'stdout'), (2, 'stderr')):
        target = os.open(out / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    start = time.perf_counter()
    try:
        run_one(module_name, out)
        code = 0
    except BaseException:  # the page failed: its traceback is what the page will show
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # How long it took, so the next build starts the slowest pages first; `status` last, since
    # its presence means "finished"
    (out / 'seconds').write_text(f'{time.perf_counter() - start:.2f}')
    (out / 'status').write_text(str(code))
    return code


def main(jobs, touch=None, stdin=False):
    # One thread per page, several pages at once (OpenMP threads spin while waiting: oversubscribing
    # two cores with several multi-threaded processes slows everything down)
    os.environ['OMP_NUM_THREADS'] = '1'
    import matplotlib
    matplotlib.use('Agg')
    # torch, imported once and inherited by every child; and what torch loads on first use,
    # which every child would load again (seconds each): `torch._dynamo` with the first optimizer,
    # `torch.distributed.tensor` with the first `assert_close`, and pyplot for the figures. None
    # of them starts a thread, so forking after them stays safe
    import matplotlib.pyplot  # noqa: F401
    import torch
    # Without a GPU, Triton's kernels run in its interpreter, which must be chosen before Triton
    # is first imported (`torch._dynamo` imports it)
    if not torch.cuda.is_available():
        os.environ.setdefault('TRITON_INTERPRET', '1')
    import torch._dynamo  # noqa: F401
    import torch.distributed.tensor  # noqa: F401

    import labml_nn_norm._check  # noqa: F401
    # Everything imported so far is moved out of the garbage collector's reach: a child's
    # collections would otherwise walk (and so copy, page by page) the parent's objects that the
    # fork shares with it. It saves about a tenth of the runner's time
    gc.freeze()
    if stdin:
        jobs = [tuple(line.strip().split('=', 1)) for line in sys.stdin if line.strip()]
    running = {}
    parallel = max(1, os.cpu_count() or 1)
    for name, out in jobs:
        while len(running) >= parallel:
            pid, _ = os.wait()
            running.pop(pid, None)
        pid = os.fork()
        if pid == 0:
            os._exit(_child(name, Path(out)))
        running[pid] = name
    while running:
        pid, _ = os.wait()
        running.pop(pid, None)
    if touch:
        Path(touch).touch()
    # Without the interpreter's teardown: the frozen objects are never collected, and Triton's
    # bindings would list each as leaked
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    args = sys.argv[1:]
    touch = None
    if '--touch' in args:
        i = args.index('--touch')
        touch = args[i + 1]
        del args[i:i + 2]
    stdin = '--stdin' in args
    main([tuple(a.split('=', 1)) for a in args if a != '--stdin'], touch, stdin)
