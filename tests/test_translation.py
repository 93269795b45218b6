"""The Chinese edition: every block translated and current, the build naming a stale one, the
glossary followed, and every built Chinese page the twin of its English page."""

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT

from literate_norm import translate
from literate_norm.pages import page_sources
from literate_norm.parse import parse

PAGES = translate.all_pages(ROOT)


def _cjk(text: str) -> int:
    return len(re.findall(r'[\u4e00-\u9fff]', text))


@pytest.mark.parametrize('source,module', PAGES,
                         ids=[m.path for _, m in PAGES])
def test_every_block_has_current_chinese(source, module):
    catalog = translate.load(translate.catalog_path(source))
    zh, problems = translate.translate_module(module, catalog)
    assert not problems, '\n'.join(map(str, problems[:10]))
    # And what replaced it is Chinese: every block with English words (not only names such as
    # "RMSNorm") has Chinese characters
    for block in translate.blocks_of(module):
        if translate.needs_chinese(block.en):
            assert _cjk(catalog.entries[block.key]['zh']) > 0, (source, block.en[:80])


_URL = re.compile(r'\]\(([^)\s]+)\)')
_DISPLAY = re.compile(r'\$\$.+?\$\$', re.S)
_MATH = re.compile(r'\$\$.+?\$\$|\$[^$]+\$')  # applied after _DISPLAY's formulas are marked
_CODE = re.compile(r'`[^`]+`')


def test_the_chinese_keeps_every_formula_link_and_code_span():
    """
    Code, math and link targets are never translated: each one in an English block appears in its
    Chinese (compared with white space removed, since the English wraps lines and the Chinese
    does not). A link to a Chinese page may drop its `zh/` part, because the Chinese page already
    lives under `zh/`.
    """
    missing = []
    for source, _ in PAGES:
        catalog = translate.load(translate.catalog_path(source))
        for entry in list(catalog.entries.values()) + catalog.generated:
            for kind, pattern in (('link', _URL), ('math', _MATH), ('code', _CODE)):
                def found(text):
                    text = re.sub(r'\s+', ' ', text)
                    if pattern is _MATH:  # display formulas first, so a `$` pairs in its own kind
                        text = ' '.join(_DISPLAY.findall(text)) + _DISPLAY.sub('$$ $$', text)
                    return {re.sub(r'\s+', '', m).replace('zh/', '') for m in pattern.findall(text)}
                lost = found(entry['en']) - found(entry['zh'])
                if lost:
                    missing.append(f'{source.relative_to(ROOT)}: {kind} {sorted(lost)} in '
                                   f'{entry["en"][:50]!r}')
    assert not missing, '\n'.join(missing[:20])


def _module(text: str):
    return parse('m.py', text)


SOURCE = '''"""
---
title: A page
summary: What it says
section: S
order: 1
---

# A page

The first paragraph.

The second paragraph, with $x_i$ and `code`.
"""

# One row of prose
x = 1
'''


def test_a_block_is_found_by_its_english_and_loses_its_chinese_when_it_changes(tmp_path):
    module = _module(SOURCE)
    blocks = translate.blocks_of(module)
    assert [b.en for b in blocks] == ['A page', 'What it says', 'S', '# A page',
                                      'The first paragraph.',
                                      'The second paragraph, with $x_i$ and `code`.',
                                      'One row of prose']
    assert [b.line for b in blocks][3:] == [9, 11, 13, 16]
    catalog = translate.Catalog(tmp_path / 'm.zh.yml',
                                {b.key: {'en': b.en, 'zh': f'中文{i}'}
                                 for i, b in enumerate(blocks)}, [])
    zh, problems = translate.translate_module(module, catalog)
    assert problems == [] and zh.meta['title'] == '中文0' and '中文5' in zh.intro
    assert zh.rows[0].code == module.rows[0].code
    # Swapping the two paragraphs keeps both translations
    swapped = SOURCE.replace('The first paragraph.\n\nThe second paragraph, with $x_i$ and `code`.',
                             'The second paragraph, with $x_i$ and `code`.\n\nThe first paragraph.')
    zh, problems = translate.translate_module(_module(swapped), catalog)
    assert problems == [] and zh.intro.index('中文5') < zh.intro.index('中文4')
    # One word changed: that block, and only it, has no Chinese, named with its file and line
    edited = SOURCE.replace('The first paragraph.', 'The opening paragraph.')
    zh, problems = translate.translate_module(_module(edited), catalog)
    assert [str(p).split(': no current')[0] for p in problems] == ['m.py:11']
    assert 'it changed since entry' in str(problems[0]) and 'The opening paragraph.' in zh.intro


def test_the_translation_file_reads_back_and_update_keeps_every_chinese(tmp_path):
    module = _module(SOURCE)
    source = tmp_path / 'm.py'
    source.write_text(SOURCE, encoding='utf-8')
    catalog, _ = translate.update(source, module)
    tricky = ['a: b', '- item\n  continued', '"quoted"', '  leading space', 'trailing  ',
              '#', '1e5', '']
    for entry, text in zip(catalog.entries.values(), tricky):
        entry['zh'] = text
    translate.write(catalog, tmp_path)
    again = translate.load(catalog.path)
    assert again.entries == catalog.entries
    # An update after an English edit adds the new block and keeps the old one, with its Chinese
    edited = _module(SOURCE.replace('One row of prose', 'One row of new prose'))
    updated, notes = translate.update(source, edited)
    assert len(updated.entries) == len(catalog.entries) + 1
    assert all(updated.entries[k] == v for k, v in catalog.entries.items())
    assert any('used by no block' in n for n in notes)


def test_computed_text_is_translated_by_whole_unit_templates(tmp_path):
    catalog = translate.Catalog(tmp_path / 'x.zh.yml', {}, [
        {'en': 'sample <1>, feature <2>', 'zh': '样本 <1>，特征 <2>'},
        {'en': 'two passes', 'zh': '两遍'},
        {'en': 'Measured in <1> s.', 'zh': '用时 <1> 秒。'}])
    md = '| input | two passes |\n| --- | --- |\n| float32 | 1.0e-06 |\n\nMeasured in 3.5 s.'
    text, missing = translate.translate_generated(md, catalog, 'x')
    assert '| 两遍 |' in text and '| float32 | 1.0e-06 |' in text and '用时 3.5 秒。' in text
    assert missing == ['x: no Chinese template for "input"']
    html = '<td aria-label="sample 2, feature 3">two passes</td>'
    text, missing = translate.translate_generated(html, catalog, 'x')
    assert text == '<td aria-label="样本 2，特征 3">两遍</td>' and missing == []
    # A template matches a whole unit only: "two passes, twice" is not "two passes"
    _, missing = translate.translate_generated('two passes, twice', catalog, 'x')
    assert missing


@pytest.fixture(scope='module')
def glossary():
    """The glossary's table: (English, Chinese, [words not to use])."""
    text = (ROOT / 'docs' / 'zh' / 'glossary.md').read_text(encoding='utf-8')
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if line.startswith('| ') and len(cells) == 3 and cells[0] not in ('English', '---'):
            rows.append((cells[0], cells[1], [w for w in re.split('[、,]', cells[2]) if w]))
    assert len(rows) > 40
    # Every row of the table has its three cells, the words not to use separated by 、
    table = [line for line in text.splitlines() if line.startswith('| ')]
    assert len(table) == len(rows) + 2, [line for line in table if line.count('|') != 4]
    assert all(w == w.strip() for _, _, avoid in rows for w in avoid)
    # The renderings this site chose against, so that the test enforces them
    assert {'核函数', '受限于内存', '多处理器', '一遍扫描', '排布', '重新居中'} <= \
        {w for _, _, avoid in rows for w in avoid}
    return rows


def test_the_translations_follow_the_glossary(glossary):
    found = []
    for source, _ in PAGES:
        catalog = translate.load(translate.catalog_path(source))
        texts = [e['zh'] for e in catalog.entries.values()] + [g['zh'] for g in catalog.generated]
        for english, chinese, avoid in glossary:
            # A word not to use may be part of the word to use (多处理器 in 流多处理器（SM）):
            # the words to use (split at 、；/, with and without their parenthesis) are taken out
            terms = {t.strip() for part in re.split('[、；/]', chinese)
                     for t in (part, re.split('[（(]', part)[0]) if t.strip()}
            assert not terms & set(avoid), (english, terms & set(avoid))
            keep = sorted((t for t in terms if any(w in t for w in avoid)), key=len, reverse=True)
            for word in avoid:
                for text in texts:
                    for term in keep:
                        text = text.replace(term, '')
                    if word in text:
                        found.append(f'{catalog.path.relative_to(ROOT)}: "{word}" (for {english}): '
                                     f'{text[:60]}')
    assert not found, found[:20]
    # Shared names are translated the same on every page: the sections of the navigation
    sections = {}
    for source, module in PAGES[1:]:
        zh = translate.translate_module(module, translate.load(translate.catalog_path(source)))[0]
        sections.setdefault(module.meta['section'], set()).add(zh.meta['section'])
    assert all(len(v) == 1 for v in sections.values()), sections


def test_the_build_names_a_stale_block(site_dir, tmp_path):
    """
    A scratch copy of the project with one English sentence of a page changed: the strict build
    fails and names the module, the line and the file of its Chinese.
    """
    scratch = tmp_path / 'project'
    for name in ('labml_nn_norm', 'literate_norm', 'scripts', 'docs', 'overrides'):
        shutil.copytree(ROOT / name, scratch / name,
                        ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    shutil.copy(ROOT / 'mkdocs.yml', scratch)
    os.symlink(ROOT / 'node_modules', scratch / 'node_modules')
    # The checks' results: prose edits keep their keys, so nothing re-runs
    shutil.copytree(ROOT / '.cache' / 'pages', scratch / '.cache' / 'pages')
    page = scratch / 'labml_nn_norm' / 'rms_norm' / '__init__.py'
    lines = page.read_text(encoding='utf-8').split('\n')
    n = next(i for i, line in enumerate(lines, 1)
             if line.startswith('# ') and len(line) > 40 and not line.startswith('# #'))
    lines[n - 1] = lines[n - 1].replace(' ', ' really ', 1)
    page.write_text('\n'.join(lines), encoding='utf-8')
    env = dict(os.environ, NO_MKDOCS_2_WARNING='1')
    done = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--strict', '-d',
                           str(tmp_path / 'out')], cwd=scratch, env=env, capture_output=True,
                          text=True, timeout=900)
    log = done.stdout + done.stderr
    assert done.returncode != 0, log[-2000:]
    expected = (f'labml_nn_norm/rms_norm/__init__.py:{n}: no current Chinese for this block in '
                f'labml_nn_norm/rms_norm/__init__.zh.yml (it changed since entry')
    assert expected in log, log[-3000:]
    # Only that block
    assert log.count('no current Chinese') == 1, log[-3000:]


# ---- The built pages ----------------------------------------------------------------------

def _html(site_dir: Path, page: Path) -> Path:
    return site_dir / (page.parent if page.name == 'index.md' else page.with_suffix('')) / \
        'index.html'


class _Prose(HTMLParser):
    """The text of a page's article (its prose), without code and math."""
    skip = {'code', 'pre', 'script', 'style', 'svg', 'math', 'annotation'}

    def __init__(self):
        super().__init__()
        self.prose_divs, self.skipping, self.skip_depth, self.parts = 0, None, 0, []

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get('class') or ''
        if tag == 'article' or (tag == 'div' and self.prose_divs):
            self.prose_divs += 1
        if self.skipping is None and (tag in self.skip or 'katex' in cls.split()):
            self.skipping, self.skip_depth = tag, 1
        elif tag == self.skipping:
            self.skip_depth += 1

    def handle_endtag(self, tag):
        if tag == self.skipping:
            self.skip_depth -= 1
            if self.skip_depth == 0:
                self.skipping = None
        if tag in ('div', 'article') and self.prose_divs:
            self.prose_divs -= 1

    def handle_data(self, data):
        if self.prose_divs and self.skipping is None:
            self.parts.append(data)


def _code_lines(html: str):
    return re.findall(r'<span class="lit-cl"[^>]*>(.*?)</span>\n', html)


@pytest.mark.parametrize('source,page', list(page_sources()),
                         ids=[p.as_posix() for _, p in page_sources()])
def test_every_page_has_a_chinese_twin(site_dir, source, page):
    en = _html(site_dir, page).read_text(encoding='utf-8')
    zh_path = _html(site_dir, Path('zh') / page)
    assert zh_path.exists(), f'{page}: no Chinese page at {zh_path.relative_to(site_dir)}'
    zh = zh_path.read_text(encoding='utf-8')
    assert '<html lang="zh-CN"' in zh and '<html lang="en"' in en
    # The same code, line for line, with the same line numbers
    assert _code_lines(zh) == _code_lines(en) and _code_lines(en)
    # Each links to the other
    url = (page.parent.as_posix() + '/' if page.name == 'index.md'
           else page.with_suffix('').as_posix() + '/')
    for html in (en, zh):
        assert f'hreflang="en" href="http://127.0.0.1:8000/{url}"' in html
        assert f'hreflang="zh-CN" href="http://127.0.0.1:8000/zh/{url}"' in html
    switch = re.search(r'class="md-header__button lit-lang" href="([^"]+)"', zh).group(1)
    assert (zh_path.parent / switch / 'index.html').resolve() == _html(site_dir, page).resolve()
    # Its prose is Chinese: most letters outside code and math are Chinese characters
    parser = _Prose()
    parser.feed(zh)
    prose = ''.join(parser.parts)
    latin = len(re.findall(r'[A-Za-z]', prose))
    assert _cjk(prose) > 0.5 * (_cjk(prose) + latin), (page, _cjk(prose), latin)
    # The same numbers in the "Run it" output and the same figures
    run = re.compile(r'<pre class="lit-output[^>]*><code>(.*?)</code></pre>', re.S)
    assert run.findall(zh) == run.findall(en)
    assert len(re.findall(r'<img ', zh)) == len(re.findall(r'<img ', en))


def test_the_chinese_home_page_lists_every_page(site_dir):
    home = (site_dir / 'zh' / 'index.html').read_text(encoding='utf-8')
    assert '<html lang="zh-CN"' in home
    for _, page in page_sources():
        target = page.parent.as_posix() + '/' if page.name == 'index.md' \
            else page.with_suffix('').as_posix() + '/'
        assert f'href="{target}"' in home, target


def test_the_chinese_notebooks_hold_the_same_code(site_dir):
    count = 0
    for en in sorted(site_dir.glob('labml_nn_norm/**/*.ipynb')):
        zh = site_dir / 'zh' / en.relative_to(site_dir)
        cells = [json.loads(p.read_text(encoding='utf-8'))['cells'] for p in (en, zh)]
        code = [[c['source'] for c in cs if c['cell_type'] == 'code'] for cs in cells]
        assert code[0] == code[1], zh
        markdown = ''.join(''.join(c['source']) for c in cells[1] if c['cell_type'] == 'markdown')
        assert _cjk(markdown) > 200, zh
        count += 1
    from literate_norm.pages import PACKAGE, page_sources
    assert count == sum(1 for path, _ in page_sources() if path.is_relative_to(PACKAGE))
