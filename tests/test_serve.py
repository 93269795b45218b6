"""
Authoring under `mkdocs serve`, in a scratch copy of the tree (your files are never edited): a
writer adds a line of English prose, and the page shows it while its Chinese is out of date.
`mkdocs build --strict` fails on the same state (`test_the_build_names_a_stale_block`); serve
must not, or the browser stays on the old page until someone translates.
"""

import os
import re
import time
from pathlib import Path

import pytest
from conftest import CHROMIUM

from scripts.budget import scratch_copy, start_serve, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason='Debian chromium is not installed')]
MARK = 'SERVEMARK'


def test_a_prose_edit_shows_under_serve_while_its_chinese_is_stale(site_dir, browser, tmp_path):
    # `site_dir`: the session's strict build has filled the page cache, so serve starts warm
    copy = scratch_copy(tmp_path)
    port = 8500 + os.getpid() % 400
    base = f'http://127.0.0.1:{port}'
    en, zh = f'{base}/labml_nn_norm/rms_norm/', f'{base}/zh/labml_nn_norm/rms_norm/'
    log_path = tmp_path / 'serve.log'
    with open(log_path, 'w') as log:
        serve = start_serve(copy, port, log)
        try:
            wait_for(en, lambda page: 'id="run-it"' in page)
            module = copy / 'labml_nn_norm' / 'rms_norm' / '__init__.py'
            source = module.read_text(encoding='utf-8')
            # One English comment line before the first `def`: a new block of prose, no Chinese
            time.sleep(1.5)
            module.write_text(source.replace('\ndef ', f'\n# {MARK}: a new line of prose.\ndef ',
                                             1), encoding='utf-8')
            wait_for(en, lambda page: MARK in page)
            wait_for(zh, lambda page: MARK in page)
            # In the browser: the English page shows the line; the Chinese page shows it in
            # English, inside a block marked `lang="en"`, under a note in Chinese
            context = browser.new_context(viewport={'width': 1280, 'height': 900})
            page = context.new_page()
            page.goto(en, wait_until='load')
            row = page.locator('.lit-prose', has_text=MARK)
            row.scroll_into_view_if_needed()
            assert row.is_visible() and page.locator('.lit-untranslated').count() == 0
            page.goto(zh, wait_until='load')
            block = page.locator('.lit-untranslated', has_text=MARK)
            block.scroll_into_view_if_needed()
            assert block.is_visible() and block.get_attribute('lang') == 'en'
            note = block.get_by_role('note')
            assert note.is_visible() and '尚未翻译' in note.inner_text()
            assert note.get_attribute('lang') == 'zh-CN'
            context.close()
        finally:
            serve.terminate()
            serve.wait(timeout=30)
    # The log names the file and line and the command that fixes it; the rebuild did not abort
    text = log_path.read_text()
    line = 1 + source[:source.index('\ndef ')].count('\n') + 1
    assert re.search(rf'labml_nn_norm/rms_norm/__init__\.py:{line}: no current Chinese', text), \
        text[-3000:]
    assert 'python -m literate_norm.translate' in text
    assert 'Aborted' not in text and 'appear stuck' not in text, text[-3000:]


_REBUILDS = '''
import json, sys
from pathlib import Path
from mkdocs.commands import build
from mkdocs.config import load_config
from literate_norm import checks, serve
checks.SERVE_STATE['serve'] = True          # as `mkdocs serve` runs the hook
out = Path(sys.argv[1])
def once(site):
    config = load_config('mkdocs.yml', site_dir=str(out / site))
    config.plugins.on_startup(command='serve', dirty=False)
    build.build(config, serve_url='http://127.0.0.1:8000/')
    return dict(serve.TAKEN)
page = Path('labml_nn_norm/rms_norm/__init__.py')
source = page.read_text()
once('first')
page.write_text(source.replace('\\ndef ', '\\n# A new line of prose.\\ndef ', 1))
edited = once('edited')
page.write_text(source)
print(json.dumps([edited, once('back')]))
'''


@pytest.mark.site
def test_a_rebuild_that_keeps_what_did_not_change_gives_the_same_site(site_dir, tmp_path):
    """
    `literate_norm/serve.py` keeps a page's parse, its converted Markdown and its search entries
    from one rebuild of `mkdocs serve` to the next. In one process, as serve does: a build, a
    prose edit of the RMSNorm page and a rebuild, the edit undone and a rebuild. The last site is
    the session's strict build (`site_dir`, another process, nothing kept) file for file, byte
    for byte; and each rebuild did take most pages from the one before (a keep that never hits
    would pass the first test).
    """
    import filecmp
    import json
    import subprocess
    import sys
    copy = scratch_copy(tmp_path)
    env = dict(os.environ, NO_MKDOCS_2_WARNING='1', PYTHONPATH=str(copy))
    done = subprocess.run([sys.executable, '-c', _REBUILDS, str(tmp_path)], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    edited, back = json.loads(done.stdout.strip().split('\n')[-1])
    pages = sum(1 for _ in site_dir.rglob('index.html'))
    # Every page but the edited one and its Chinese twin (and the home pages, which list it)
    for taken in (edited, back):
        assert taken['converted'] >= pages - 6 and taken['search'] >= pages - 6, (taken, pages)
        assert taken['parsed'] >= 25, taken

    def differ(cmp: filecmp.dircmp) -> list:
        found = [f'{cmp.left}/{n}' for n in cmp.left_only + cmp.right_only + cmp.diff_files]
        return found + [f for sub in cmp.subdirs.values() for f in differ(sub)]
    filecmp.clear_cache()
    assert differ(filecmp.dircmp(tmp_path / 'back', site_dir, ignore=['sitemap.xml.gz',
                                                                      'sitemap.xml'])) == []
    # And the edit did show in between
    assert 'A new line of prose.' in (tmp_path / 'edited' / 'labml_nn_norm' / 'rms_norm' /
                                      'index.html').read_text(encoding='utf-8')
