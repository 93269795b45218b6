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
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
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


def _start_runner(todo: List[Tuple[str, Path]], touch: bool = False,
                  stdin: bool = False) -> subprocess.Popen:
    # The runner works while the build goes on; `page_result()` waits for each page. With
    # `stdin`, it imports torch at once and reads its jobs when they are written
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED='0')
    args = [sys.executable, str(RUNNER)] + [f'{name}={out}' for name, out in todo]
    if touch:
        args += ['--touch', str(FINISHED)]
    if stdin:
        return subprocess.Popen(args + ['--stdin'], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                text=True)
    return subprocess.Popen(args, cwd=ROOT, env=env)


def start_checks(paths: List[Path]):
    """
    ## Run the checks, or take them from the cache

    Each page's result lives in `.cache/pages/<module>/<key>/`, its key from
    [the cache](cache.md). Pages without a result for their current key run, the slowest first
    (by their last run), in one runner process that forks a child per page. It starts as early
    as the build allows (`on_config`), so the pages are parsed and highlighted while it works;
    when some page has never run (a fresh clone), the runner starts even before the keys are
    computed, and is told its pages when they are known. Under `mkdocs serve`, pages that have
    an older result are shown with it, marked out of date, while a runner works in the
    background.
    """
    early = None
    if any(latest_result(module_name(p)) is None for p in paths):
        early = _start_runner([], stdin=True)
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
    _state['blocking'] = early
    jobs = [(module_name(p), folders[p]) for p in blocking]
    if early is not None:
        early.stdin.write(''.join(f'{name}={out}\n' for name, out in jobs))
        early.stdin.close()
    elif jobs:
        _state['blocking'] = _start_runner(jobs)
    running = _state['background']
    if background and (running is None or running.poll() is not None):
        log.info('re-running the checks of %s in the background',
                 ', '.join(module_name(p) for p in background))
        jobs = [(module_name(p), folders[p]) for p in background]
        _state['background'] = _start_runner(jobs, touch=True)
    _state['pages'] = (paths, folders, stale)
    _state['expected'] = _expected_ends(blocking, latest)


def _expected_ends(blocking: List[Path], latest) -> Dict[Path, float]:
    # When each page's run should end, from the last run times, with the runner's one page per
    # core, slowest first; a page that does not run is ready at 0
    cores = [0.0] * max(1, os.cpu_count() or 1)
    ends = {}
    for path in blocking:
        last = _last_seconds(path, latest[path])
        start = min(cores)
        ends[path] = start + (last[1] if not last[0] else last[1] / 20000)
        cores[cores.index(start)] = ends[path]
    return ends


def expected_end(path: Path) -> float:
    """When the page's checks are expected to end (seconds from their start; 0 if they do not
    run): the build hands MkDocs the pages in this order, so it renders each as soon as it can."""
    return _state.get('expected', {}).get(path, 0.0)


# How long each page's checks took at their last run, kept apart from the results so that
# clearing the results (`rm -rf .cache/pages`) keeps the order in which the pages run best; and,
# for a fresh clone, how long they took in one (`check_seconds.json`, written by hand from a
# fresh clone's `.cache/seconds.json`: there `fused_cpu` compiles from scratch, 20 s of the
# build, and must start first). Only the order depends on them, never a result
SECONDS = CACHE.parent / 'seconds.json'
FRESH_SECONDS = HERE / 'check_seconds.json'


def _last_seconds(path: Path, last: Optional[Path]) -> Tuple[bool, float]:
    # How long the page's checks took last time (the runner writes it); pages never run go
    # first, the longest source first
    seconds = last / 'seconds' if last else None
    if seconds and seconds.exists():
        return False, float(seconds.read_text())
    if module_name(path) in _remembered():
        return False, _remembered()[module_name(path)]
    return True, float(path.stat().st_size)


def _remembered() -> Dict[str, float]:
    if 'seconds' not in _state:
        _state['seconds'] = {}
        for path in (FRESH_SECONDS, SECONDS):
            try:
                _state['seconds'].update(json.loads(path.read_text(encoding='utf-8')))
            except (OSError, ValueError):
                pass
    return _state['seconds']


def page_result(path: Path) -> dict:
    """
    ## One page's result

    The page's result, once its checks have ended (the runner writes `status` last), or its
    previous result under `mkdocs serve`. Each page waits for its own checks only: MkDocs renders
    the pages whose checks have ended while the others still run.
    """
    paths, folders, stale = _state['pages']
    folder = folders[path] if path not in stale else stale[path]
    runner = _state.get('blocking')
    while path not in stale and not (folder / 'status').exists() \
            and runner is not None and runner.poll() is None:
        time.sleep(0.01)
    result = read_result(folder, module_name(path))
    result.update(folder=folder, stale=path in stale)
    if path not in stale and result['ok']:
        _prune(module_name(path), folder)
    return result


def finish_checks() -> Dict[Path, dict]:
    # Every page's result, and the runner's end; each page's run time remembered
    results = {path: page_result(path) for path in _state['pages'][0]}
    if _state.get('blocking') is not None:
        _state['blocking'].wait()
    seconds = dict(_remembered())
    for result in results.values():
        if (result['folder'] / 'seconds').exists():
            seconds[result['module']] = float((result['folder'] / 'seconds').read_text())
    if seconds != _remembered():
        SECONDS.parent.mkdir(parents=True, exist_ok=True)
        SECONDS.write_text(json.dumps(seconds, indent=1, sort_keys=True), encoding='utf-8')
        _state['seconds'] = seconds
    return results


# ## Sources
#
# * Python 3.11, [`os.fork`](https://docs.python.org/3.11/library/os.html#os.fork) and
#   [`os.wait`](https://docs.python.org/3.11/library/os.html#os.wait): the runner forks one child
#   per page, one per core, and waits for one to end only when every core has one;
#   [`subprocess.Popen`](https://docs.python.org/3.11/library/subprocess.html#subprocess.Popen)
#   starts the runner without waiting for it.
