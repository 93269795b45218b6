r"""
---
title: Running the page checks
summary: Each page's checks run once per version of its code, the slowest first, in one process
  that forks a child per page; under mkdocs serve a page shows its last output while they re-run.
section: How this site is made
order: 47
nav: Running the page checks
---

# Running the page checks

Every page of the package runs its `_test()` and `_artifacts()` when the site is built: the
"Run it" box shows what the checks printed, and the tables and figures come from what the page
computed. [The cache](cache.md) says when a page must run again; this module runs the pages that
must, in one runner process (`run_page.py`), and reads back what they wrote.
"""

import html
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from literate_norm.cache import page_key
from literate_norm.pages import ROOT, module_name

HERE = Path(__file__).resolve().parent
CACHE = ROOT / '.cache' / 'pages'
RUNNER = HERE / 'run_page.py'
# Touched by the background runner when it finishes; `mkdocs serve` watches it
FINISHED = CACHE / 'finished'
log = logging.getLogger('mkdocs.hooks.literate')
# What must outlive one build of `mkdocs serve`, which loads the hook module afresh at every
# rebuild while this module stays imported: whether this is `serve`, and the background runner
SERVE_STATE: Dict[str, object] = {'serve': False, 'background': None}
_state = SERVE_STATE


_ANSI = re.compile(r'\x1b\[([0-9;]*)m')
_STYLE = {'1': 'lit-bold', '4': 'lit-heading', '32': 'lit-ok', '36': 'lit-key', '31': 'lit-bad',
          '33': 'lit-warn', '34': 'lit-meta'}


def terminal_to_html(text: str) -> str:
    """
    labml's logger writes `\\r`, padding and ANSI colours: keep the last state of each line,
    colours as classes.
    """
    lines = [line.split('\r')[-1].rstrip() for line in text.split('\n')]
    out = []
    for line in lines:
        parts, open_span = [], False
        for i, piece in enumerate(_ANSI.split(line)):
            if i % 2 == 0:
                parts.append(html.escape(piece, quote=False))
                continue
            if open_span:
                parts.append('</span>')
                open_span = False
            cls = ' '.join(_STYLE[c] for c in piece.split(';') if c in _STYLE)
            if cls:
                parts.append(f'<span class="{cls}">')
                open_span = True
        out.append(''.join(parts) + ('</span>' if open_span else ''))
    return '\n'.join(out).strip('\n')


def read_result(out: Path, name: str) -> dict:
    # Bytes, not text: text mode would turn the logger's `\r` into line breaks
    def read(file: str) -> str:
        path = out / file
        return path.read_bytes().decode('utf-8', 'replace') if path.exists() else ''
    ok = read('status').strip() == '0'
    output = read('stdout') + ('' if ok else '\n' + read('stderr'))
    return {'module': name, 'ok': ok, 'output': terminal_to_html(output)}


def latest_result(name: str):
    # The most recent finished run of a page, whatever its key: shown, marked, while checks re-run
    runs = [d for d in (CACHE / name).glob('*') if (d / 'status').exists()]
    return max(runs, key=lambda d: (d / 'status').stat().st_mtime) if runs else None


def _prune(name: str, keep: Path):
    # One finished result per page is enough; older keys only take space
    for old in (CACHE / name).glob('*'):
        if old != keep and old.is_dir() and (old / 'status').exists():
            shutil.rmtree(old, ignore_errors=True)


def _start_runner(todo: List[Tuple[str, Path]], touch: bool = False) -> subprocess.Popen:
    # The runner works while the build goes on; `finish_checks()` waits for it
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED='0')
    args = [sys.executable, str(RUNNER)] + [f'{name}={out}' for name, out in todo]
    if touch:
        args += ['--touch', str(FINISHED)]
    return subprocess.Popen(args, cwd=ROOT, env=env)


def start_checks(paths: List[Path]):
    """
    ## Run the checks, or take them from the cache

    Each page's result lives in `.cache/pages/<module>/<key>/`, its key from
    [the cache](cache.md). Pages without a result for their current key run, the slowest first
    (by their last run), in one runner process that forks a child per page. It starts as early
    as the build allows (`on_config`), so the pages are parsed and highlighted while it works.
    Under `mkdocs serve`, pages that have an older result are shown with it, marked out of date,
    while a runner works in the background.
    """
    keys = {p: page_key(ROOT, p, 'labml_nn_norm', [RUNNER]) for p in paths}
    folders = {p: CACHE / module_name(p) / keys[p] for p in paths}
    todo = [p for p in paths if not (folders[p] / 'status').exists()]
    # Each page's previous result, if any: shown while it re-runs (serve), and its run time
    latest = {p: latest_result(module_name(p)) for p in todo}
    stale = {p: d for p, d in latest.items() if d is not None} if _state['serve'] else {}

    def slowest_first(pages):
        return sorted(pages, key=lambda p: _last_seconds(p, latest[p]), reverse=True)
    blocking = slowest_first(p for p in todo if p not in stale)
    background = slowest_first(p for p in todo if p in stale)
    _state['blocking'] = None
    if blocking:
        jobs = [(module_name(p), folders[p]) for p in blocking]
        _state['blocking'] = _start_runner(jobs)
    running = _state['background']
    if background and (running is None or running.poll() is not None):
        log.info('re-running the checks of %s in the background',
                 ', '.join(module_name(p) for p in background))
        jobs = [(module_name(p), folders[p]) for p in background]
        _state['background'] = _start_runner(jobs, touch=True)
    _state['pages'] = (paths, folders, stale)


def _last_seconds(path: Path, last: Optional[Path]) -> Tuple[bool, float]:
    # How long the page's checks took last time (the runner writes it); pages never run go
    # first, the longest source first
    seconds = last / 'seconds' if last else None
    if seconds and seconds.exists():
        return False, float(seconds.read_text())
    return True, float(path.stat().st_size)


def finish_checks() -> Dict[Path, dict]:
    # Wait for the checks started by `start_checks()`, then read every page's result
    if _state.get('blocking') is not None:
        _state['blocking'].wait()
    paths, folders, stale = _state['pages']
    results = {}
    for path in paths:
        folder = folders[path] if path not in stale else stale[path]
        result = read_result(folder, module_name(path))
        result.update(folder=folder, stale=path in stale)
        if path not in stale and result['ok']:
            _prune(module_name(path), folder)
        results[path] = result
    return results


# ## Sources
#
# * Python 3.11, [`os.fork`](https://docs.python.org/3.11/library/os.html#os.fork) and
#   [`os.wait`](https://docs.python.org/3.11/library/os.html#os.wait): the runner forks one child
#   per page and waits for any child to end before it starts the next;
#   [`subprocess.Popen`](https://docs.python.org/3.11/library/subprocess.html#subprocess.Popen)
#   starts the runner without waiting for it.
