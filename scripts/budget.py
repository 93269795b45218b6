"""
Measures the site's budgets and prints them (a measurement, not a test):

- the full build time, cold (page-check cache cleared, so every page's `_test()` runs), then
  warm;
- edit-to-reload under `mkdocs serve`, in a scratch copy of the tree (your files are never
  edited): seconds until a prose edit shows, and until a code edit shows (marked out of date) and
  until its checks have re-run, with the pages that re-ran;
- per page, the bytes the browser loads for it: HTML, CSS, JS, fonts, figures (sum of response
  sizes), with the site-wide search index (data, fetched once and cached) reported apart.

    .venv/bin/python -m scripts.budget

Targets: cold build <= 15 s on 2 cores, reload <= 3 s, page <= 600 KB.
"""

import functools
import gzip
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from literate_norm.checks import CACHE
from literate_norm.pages import ROOT, page_sources


def timed_build(dest: Path) -> float:
    start = time.perf_counter()
    # Not `-q`: it silences the warnings that `--strict` counts, so a failing page would
    # build green
    command = [sys.executable, '-m', 'mkdocs', 'build', '--strict', '-d', str(dest)]
    done = subprocess.run(command, cwd=ROOT, env=dict(os.environ, NO_MKDOCS_2_WARNING='1'),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f'mkdocs build --strict failed:\n{done.stderr[-4000:]}')
    return time.perf_counter() - start


COMPRESSED = {'.html', '.css', '.js', '.json', '.svg', '.txt', '.xml', '.map'}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, as they are, with no log line per request."""

    def log_message(self, *args):
        pass


class GzipHandler(QuietHandler):
    """Static files, text ones gzipped when the request accepts gzip; HTTP/1.1 keep-alive."""

    protocol_version = 'HTTP/1.1'
    _compressed: dict = {}   # path -> (mtime, gzipped bytes), shared by all requests
    _lock = threading.Lock()

    def _gzip_target(self):
        if 'gzip' not in self.headers.get('Accept-Encoding', ''):
            return None
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split('?', 1)[0].endswith('/'):
                return None   # the parent class redirects to the slashed URL
            path = path / 'index.html'
        if path.suffix not in COMPRESSED or not path.is_file():
            return None
        return path

    def _send_gzipped(self, path: Path, body: bool):
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._compressed.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, gzip.compress(path.read_bytes(), compresslevel=9))
            with self._lock:
                self._compressed[path] = cached
        data = cached[1]
        self.send_response(200)
        self.send_header('Content-Type', self.guess_type(str(path)))
        self.send_header('Content-Encoding', 'gzip')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Vary', 'Accept-Encoding')
        self.send_header('Last-Modified', self.date_time_string(int(mtime)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _respond(self, plain, body: bool):
        # Compressed when the client takes gzip and the file is text; otherwise the plain handler
        path = self._gzip_target()
        if path is None:
            plain()
        else:
            self._send_gzipped(path, body=body)

    def do_GET(self):
        self._respond(super().do_GET, body=True)

    def do_HEAD(self):
        self._respond(super().do_HEAD, body=False)


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass   # a browser closing a kept-alive connection is not news


def serve(site: Path, compress: bool = True) -> http.server.ThreadingHTTPServer:
    """The built site on 127.0.0.1, a free port; gzipped as static hosts serve it, or not."""
    handler = functools.partial(GzipHandler if compress else QuietHandler, directory=str(site))
    server = QuietServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def site_pages(site: Path) -> list:
    """URL paths of every built page (each `index.html` but 404's), the home page ('') first."""
    paths = []
    for index in site.rglob('index.html'):
        relative = index.parent.relative_to(site).as_posix()
        if '404' in relative.split('/'):
            continue
        paths.append('' if relative == '.' else relative + '/')
    return sorted(paths, key=lambda p: (p != '', p))


def page_weights(site: Path):
    from playwright.sync_api import sync_playwright

    server = serve(site, compress=False)
    paths = site_pages(site)
    weights = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which('chromium') or '/usr/bin/chromium',
                                    args=['--headless', '--no-sandbox', '--disable-gpu'])
        for path in paths:
            page = browser.new_page(viewport={'width': 1280, 'height': 900})
            sizes = {}
            page.on('requestfinished',
                    lambda r: sizes.__setitem__(r.url, r.sizes()['responseBodySize']))
            page.goto(f'http://127.0.0.1:{server.server_port}/{path}', wait_until='networkidle')
            # The search index is data shared by the whole site (fetched once, cached),
            # reported apart
            index = sum(v for u, v in sizes.items() if u.endswith('search_index.json'))
            # What a static host that compresses sends: each text file gzipped (level 6)
            gzipped = 0
            for url, size in sizes.items():
                local = site / urllib.parse.urlparse(url).path.lstrip('/')
                if local.is_dir():
                    local = local / 'index.html'
                if url.endswith('search_index.json') or not local.is_file():
                    continue
                body = local.read_bytes()
                text = local.suffix in ('.html', '.css', '.js', '.json', '.svg') or local == site
                gzipped += len(gzip.compress(body, 6)) if text else len(body)
            weights[path or '(home)'] = (sum(sizes.values()) - index, len(sizes) - (index > 0),
                                         gzipped)
            page.close()
        browser.close()
    server.shutdown()
    return weights


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode('utf-8')
    except OSError:
        return ''


def wait_for(url: str, done, limit: float = 300.0) -> float:
    # Seconds until the page at `url` satisfies `done(html)`; polled every 0.1 s
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if done(_fetch(url)):
            return time.perf_counter() - start
        time.sleep(0.1)
    raise TimeoutError(f'{url}: not updated within {limit:.0f} s')


def scratch_copy(tmp: Path) -> Path:
    """
    A copy of the tree to edit under `mkdocs serve`: the files git knows (and untracked ones it
    does not ignore), the page cache, node_modules linked. The user's files are never edited.
    """
    copy = tmp / 'tree'
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split('\n')
    for rel in filter(None, files):
        if (ROOT / rel).is_file():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, copy / rel)
    if CACHE.exists():
        shutil.copytree(CACHE, copy / '.cache' / 'pages')
    (copy / 'node_modules').symlink_to(ROOT / 'node_modules')
    return copy


def start_serve(copy: Path, port: int, log) -> subprocess.Popen:
    # `mkdocs serve` in the copy, as `scripts/serve.sh` runs it; its log into the open file `log`
    command = [sys.executable, '-m', 'mkdocs', 'serve', '--dev-addr', f'127.0.0.1:{port}']
    return subprocess.Popen(command, cwd=copy, env=dict(os.environ, NO_MKDOCS_2_WARNING='1'),
                            stdout=log, stderr=subprocess.STDOUT)


def edit_to_reload(tmp: Path) -> dict:
    """
    `mkdocs serve` in a scratch copy of the tree; a prose edit and then a code edit of the
    RMSNorm page, timed until the served page shows each. The prose edit leaves its paragraph
    with no current Chinese: the English page must show it all the same.
    """
    copy = scratch_copy(tmp)
    port = 8700 + os.getpid() % 200
    url = f'http://127.0.0.1:{port}/labml_nn_norm/rms_norm/'
    log = open(tmp / 'serve.log', 'w')
    serve = start_serve(copy, port, log)
    try:
        wait_for(url, lambda page: 'id="run-it"' in page)
        module = copy / 'labml_nn_norm' / 'rms_norm' / '__init__.py'
        source = module.read_text(encoding='utf-8')
        # A prose edit: one more comment line above the first `def`
        time.sleep(1.5)
        edited = source.replace('\ndef ', '\n# Prose edit PROSEMARK.\ndef ', 1)
        module.write_text(edited)
        prose = wait_for(url, lambda page: 'PROSEMARK' in page)
        # A code edit: a module-level constant (and a comment to see it by)
        time.sleep(1.5)
        edited = module.read_text(encoding='utf-8') + '\n# Code edit CODEMARK.\n_EDITED = 1\n'
        module.write_text(edited)
        shown = wait_for(url, lambda page: 'CODEMARK' in page)
        checked = wait_for(url, lambda page: 'CODEMARK' in page and 'lit-stale' not in page)
        rerun = checked + shown
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        log.close()
    reran = re.findall(r're-running the checks of (.+)', (tmp / 'serve.log').read_text())
    return {'prose': prose, 'code shown': shown, 'code checked': rerun,
            'reran': reran[-1:] or ['?']}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        shutil.rmtree(CACHE, ignore_errors=True)
        cold = timed_build(Path(tmp) / 'cold')
        warm = timed_build(Path(tmp) / 'warm')
        print(f'cores: {os.cpu_count()}   pages: {len(list(page_sources()))}')
        print(f'build, cold (every _test() runs): {cold:6.1f} s   (target <= 15 s)')
        print(f'build, warm (checks cached):      {warm:6.1f} s')
        reload = edit_to_reload(Path(tmp))
        print(f'serve, prose edit shown:          {reload["prose"]:6.1f} s   (target <= 3 s)')
        print(f'serve, code edit shown (stale):   {reload["code shown"]:6.1f} s')
        print(f'serve, code edit checked:         {reload["code checked"]:6.1f} s   '
              f're-ran: {reload["reran"][0]}')
        print('\npage weight: HTML, CSS, JS, fonts and figures as loaded by Chromium, uncompressed')
        print(f'{"page":40} {"KB":>8} {"KB gzip":>8} {"requests":>9}')
        for path, (size, count, gzipped) in page_weights(Path(tmp) / 'warm').items():
            flag = '' if size <= 600_000 else '   over 600 KB'
            print(f'{path:40} {size / 1000:8.1f} {gzipped / 1000:8.1f} {count:9d}{flag}')
        index = (Path(tmp) / 'warm' / 'search' / 'search_index.json').read_bytes()
        print(f'the search index, fetched on the first use of search only: '
              f'{len(index) / 1000:.1f} KB ({len(gzip.compress(index, 6)) / 1000:.1f} KB gzip)')


if __name__ == '__main__':
    main()
