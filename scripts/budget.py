"""
Measures the site's budgets and prints them (a measurement, not a test):

- the full build time, cold (page-check cache cleared, so every page's `_test()` runs), then warm;
- per page, the bytes the browser loads for it: HTML, CSS, JS, fonts, figures (sum of response sizes),
  with the site-wide search index (data, fetched once and cached) reported apart.

    .venv/bin/python scripts/budget.py            # targets: build <= 20 s on 2 cores, page <= 600 KB
"""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from scripts.literate.hooks import CACHE, ROOT, page_sources


def timed_build(dest: Path) -> float:
    start = time.perf_counter()
    # Not `-q`: it silences the warnings that `--strict` counts, so a failing page would build green
    done = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--strict', '-d', str(dest)], cwd=ROOT,
                          env=dict(os.environ, NO_MKDOCS_2_WARNING='1'), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f'mkdocs build --strict failed:\n{done.stderr[-4000:]}')
    return time.perf_counter() - start


def page_weights(site: Path):
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    paths = [''] + [str(p.parent) + '/' if p.name == 'index.md' else str(p.with_suffix('')) + '/'
                    for _, p in page_sources()]
    weights = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which('chromium') or '/usr/bin/chromium',
                                    args=['--headless', '--no-sandbox', '--disable-gpu'])
        for path in paths:
            page = browser.new_page(viewport={'width': 1280, 'height': 900})
            sizes = {}
            page.on('requestfinished', lambda r: sizes.__setitem__(r.url, r.sizes()['responseBodySize']))
            page.goto(f'http://127.0.0.1:{server.server_port}/{path}', wait_until='networkidle')
            # The search index is data shared by the whole site (fetched once, cached), reported apart
            index = sum(v for u, v in sizes.items() if u.endswith('search_index.json'))
            weights[path or '(home)'] = (sum(sizes.values()) - index, len(sizes) - (index > 0), index)
            page.close()
        browser.close()
    server.shutdown()
    return weights


def main():
    with tempfile.TemporaryDirectory() as tmp:
        shutil.rmtree(CACHE, ignore_errors=True)
        cold = timed_build(Path(tmp) / 'cold')
        warm = timed_build(Path(tmp) / 'warm')
        print(f'cores: {os.cpu_count()}   pages: {len(list(page_sources()))}')
        print(f'build, cold (every _test() runs): {cold:6.1f} s   (target <= 20 s)')
        print(f'build, warm (checks cached):      {warm:6.1f} s')
        print('\npage weight: HTML, CSS, JS, fonts and figures as loaded by Chromium, uncompressed')
        print(f'{"page":40} {"KB":>8} {"requests":>9}')
        for path, (size, count, index) in page_weights(Path(tmp) / 'warm').items():
            flag = '' if size <= 600_000 else '   over 600 KB'
            print(f'{path:40} {size / 1000:8.1f} {count:9d}{flag}')
        print(f'plus the site-wide search index, loaded once for search: {index / 1000:.1f} KB')


if __name__ == '__main__':
    main()
