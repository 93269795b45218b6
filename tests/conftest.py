"""
Shared fixtures: one strict build of the real site per test session, served on 127.0.0.1, and
one headless Chromium for every browser test.
"""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items):
    """
    Tiers, for `scripts/test.sh --fast` (which leaves out all three): `site` for every test that
    needs the built site, `browser` for every test in Chromium, `slow` for the tests that run
    every page's checks again (a page's own run, its notebook).
    """
    for item in items:
        if 'site_dir' in item.fixturenames or 'site_url' in item.fixturenames:
            item.add_marker(pytest.mark.site)
        if 'browser' in item.fixturenames:
            item.add_marker(pytest.mark.browser)


def build_site(dest: Path) -> subprocess.CompletedProcess:
    """
    `mkdocs build --strict` of the real site into `dest` (the page checks come from the cache if
    fresh).
    """
    env = dict(os.environ, NO_MKDOCS_2_WARNING='1')
    return subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--strict', '-d', str(dest)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope='session')
def site_dir(tmp_path_factory, worker_id) -> Path:
    """
    The site, built once per run. With pytest-xdist (`scripts/test.sh` runs two workers) every
    worker is a session of its own: the first to get here builds into a folder they share, under
    a file lock, and the others wait for it and read the same files.
    """
    import fcntl
    shared = tmp_path_factory.getbasetemp()
    if worker_id != 'master':
        shared = shared.parent
    dest, log = shared / 'site', shared / 'site.log'
    with open(shared / 'site.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not log.exists():
            done = build_site(dest)
            log.write_text(f'{done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}')
    code, _, output = log.read_text().partition('\n')
    assert code == '0', f'mkdocs build --strict failed:\n{output}'
    return dest


@pytest.fixture(scope='session')
def worker_id(request) -> str:
    # pytest-xdist's own fixture when it runs the tests; 'master' when pytest runs them alone
    return getattr(request.config, 'workerinput', {}).get('workerid', 'master')


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope='session')
def site_url(site_dir):
    """The built site over HTTP on the loopback address (search needs HTTP), on a free port."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_port}'
    server.shutdown()


CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync']


@pytest.fixture(scope='session')
def browser():
    """Debian's Chromium, started once for the whole session (each test opens its own context)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()
