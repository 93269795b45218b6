r"""
---
title: "Step 4: write, inside MkDocs"
summary: The MkDocs hook - the list of pages and the navigation from each module's front
  matter, the page checks run or taken from the cache, and the generated pages handed to MkDocs.
section: How this site is made
order: 46
---

# Step 4: write, inside MkDocs

`mkdocs.yml` names this module under `hooks:`, and MkDocs calls its functions at fixed points of
a build:

* `on_startup`: remembers whether this is `mkdocs serve` or `mkdocs build`;
* `on_config`: builds the navigation from the pages' front matter (one list of pages);
* `on_files`: runs the pages' checks (or takes them from [the cache](cache.md)), then parses,
  highlights and renders every page, in English and in Chinese under `zh/`
  ([step 6](translate.md)), and adds it to the site's files, with a copy of its source and its
  figures; KaTeX's CSS and fonts are copied from `node_modules`. Nothing is written into
  `docs/`;
* `on_page_markdown`: the home page's list of pages, from the same front matter;
* `on_page_content`: the math placeholders become KaTeX's HTML;
* `on_post_page`: links each page to its twin in the other language, and makes two changes for
  the first paint (below);
* `on_serve`: watches the file that says "checks finished" (below).

**While `mkdocs serve` runs**, a page whose code changed shows at once with its previous "Run it"
output, marked as out of date, while its checks re-run in the background; when they finish, the
page rebuilds and reloads by itself. A page with no previous output (and every page of
`mkdocs build`) waits for its checks. A failed check logs an error, so a strict build fails.
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

from mkdocs.structure.files import File

import scripts.literate as literate
from scripts.literate import translate
from scripts.literate.cache import FRONT_MATTER, SERVE_STATE, page_key
from scripts.literate.parse import front_matter as front_matter_of

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PACKAGE = ROOT / 'labml_nn_norm'
CACHE = ROOT / '.cache' / 'pages'
RUNNER = HERE / 'run_page.py'
# Touched by the background runner when it finishes; `mkdocs serve` watches it
FINISHED = CACHE / 'finished'
# The generator's own pages, in the order of its steps
GENERATOR = ['__init__', 'parse', 'highlight', 'render', 'cache', 'hooks', 'notebook', 'translate']
# The Chinese edition: every page again under `zh/` ([step 6](translate.md)), and its own glossary
ZH = Path('zh')
ZH_NAV = '中文'
ZH_SITE_NAME = '层归一化，逐行注解'
log = logging.getLogger('mkdocs.hooks.literate')

_rendered_math: List[str] = []
# The TeX of each formula, for places that show text, not HTML (the table of contents)
_math_tex: List[str] = []
_state = SERVE_STATE


def page_sources():
    """
    ## The pages

    `(source path, page path)` of every page: the modules of the package (helpers whose name
    starts with `_`, and `__main__.py`, are not pages), then the generator's own modules.
    """
    for path in sorted(PACKAGE.rglob('*.py')):
        if path.name == '__main__.py' or (path.name.startswith('_') and path.name != '__init__.py'):
            continue
        if path == PACKAGE / '__init__.py':
            continue
        rel = path.relative_to(ROOT)
        index = path.name == '__init__.py'
        yield path, (rel.parent / 'index.md' if index else rel.with_suffix('.md'))
    for name in GENERATOR:
        path = HERE / f'{name}.py'
        rel = path.relative_to(ROOT)
        yield path, (rel.parent / 'index.md' if name == '__init__' else rel.with_suffix('.md'))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def front_matter(path: Path) -> Dict[str, str]:
    # The front matter of a module, read again only when its source changed
    source = path.read_text(encoding='utf-8')
    if source not in FRONT_MATTER:
        # The opening docstring's front matter alone; the whole module is parsed later for its page
        opening = re.match(r'\A[rR]?"""\n(---\n.*?\n---\n)', source, re.S)
        FRONT_MATTER[source] = front_matter_of(opening.group(1))[0] if opening else {}
    return FRONT_MATTER[source]


def pages_in_order() -> List[Tuple[Path, Path, Dict[str, str]]]:
    """
    ## One list of pages

    Every page's front matter names its `section` and its `order` in it; the sections come in
    the order of their lowest page. The navigation, the home page's list and the README's table
    (checked by a test) all follow this one list.
    """
    pages = []
    for path, page in page_sources():
        meta = front_matter(path)
        for key in ('title', 'summary', 'section', 'order'):
            if not meta.get(key):
                raise SystemExit(f'Error: {path.relative_to(ROOT)}: front matter has no {key!r}')
        pages.append((path, page, meta))
    first = {}
    for _, _, meta in pages:
        first[meta['section']] = min(first.get(meta['section'], 1e9), float(meta['order']))
    return sorted(pages, key=lambda p: (first[p[2]['section']], float(p[2]['order'])))


def on_startup(command, dirty):
    _state['serve'] = command == 'serve'


def on_config(config):
    # The navigation: Home, then each section's pages in order
    nav, sections = [{'Home': 'index.md'}], {}
    for _, page, meta in pages_in_order():
        if meta['section'] not in sections:
            sections[meta['section']] = []
            nav.append({meta['section']: sections[meta['section']]})
        sections[meta['section']].append({meta.get('nav', meta['title']): page.as_posix()})
    # The Chinese pages, in the same order, under one entry that `overrides/partials/nav.html`
    # shows alone on Chinese pages and hides on English ones
    zh_nav, zh_sections = [{'首页': 'zh/index.md'}], {}
    for path, page, meta in pages_in_order():
        meta = zh_meta(path, meta)
        if meta['section'] not in zh_sections:
            zh_sections[meta['section']] = []
            zh_nav.append({meta['section']: zh_sections[meta['section']]})
        zh_sections[meta['section']].append({meta.get('nav', meta['title']):
                                             (ZH / page).as_posix()})
    zh_nav.append({'术语表': 'zh/glossary.md'})
    nav.append({ZH_NAV: zh_nav})
    config['nav'] = nav
    # The page checks start now and run while MkDocs reads the docs and the pages are parsed
    start_checks([p for p, _ in page_sources() if p.is_relative_to(PACKAGE)])
    return config


_ANSI = re.compile(r'\x1b\[([0-9;]*)m')
_STYLE = {'1': 'lit-bold', '4': 'lit-heading', '32': 'lit-ok', '36': 'lit-key', '31': 'lit-bad',
          '33': 'lit-warn', '34': 'lit-meta'}


def _terminal_to_html(text: str) -> str:
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


def _read_result(out: Path, name: str) -> dict:
    # Bytes, not text: text mode would turn the logger's `\r` into line breaks
    def read(file: str) -> str:
        path = out / file
        return path.read_bytes().decode('utf-8', 'replace') if path.exists() else ''
    ok = read('status').strip() == '0'
    output = read('stdout') + ('' if ok else '\n' + read('stderr'))
    return {'module': name, 'ok': ok, 'output': _terminal_to_html(output)}


def _latest_result(name: str):
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
    latest = {p: _latest_result(module_name(p)) for p in todo}
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
        result = _read_result(folder, module_name(path))
        result.update(folder=folder, stale=path in stale)
        if path not in stale and result['ok']:
            _prune(module_name(path), folder)
        results[path] = result
    return results


def zh_meta(path: Path, meta: Dict[str, str]) -> Dict[str, str]:
    # The front matter in Chinese, where the page's translation file has it
    catalog = translate.load(translate.catalog_path(path))
    out = dict(meta)
    for key in translate.META_KEYS:
        entry = catalog.entries.get(translate.block_key(meta.get(key, '')))
        if meta.get(key) and entry and entry['zh'].strip():
            out[key] = entry['zh']
    return out


def _home_page_list(lang: str = 'en') -> str:
    # The home page's list of pages: each section, then each page's title and summary
    lines, section = [], None
    for path, page, meta in pages_in_order():
        if lang == 'zh':
            meta = zh_meta(path, meta)
        if meta['section'] != section:
            section = meta['section']
            lines.append(f'\n**{section}**\n')
        colon = '：' if lang == 'zh' else ': '
        lines.append(f'- [{meta["title"]}]({page.as_posix()}){colon}{meta["summary"]}')
    return '\n'.join(lines).strip('\n')


def on_files(files, config):
    """
    ## Generate the pages

    Parse, highlight and render every page, substitute what its `_artifacts()` computed for the
    `{{ name }}` lines of its prose, and add the page, its figures and a copy of its source to
    the site's files.
    """
    math = literate.MathCollector()
    _code_blocks.clear()
    sources = list(page_sources())
    # Parse and highlight every page while the checks run, then wait for them
    parsed = {}
    for path, page in sources:
        rel = str(path.relative_to(ROOT))
        source = path.read_text(encoding='utf-8')
        try:
            module = literate.parse(rel, source)
        except literate.GeneratorError as e:
            raise SystemExit(f'Error: {e}') from e
        parsed[path] = (rel, source, module, literate.highlight(module))
    runs = finish_checks()
    _twins.clear()
    #
    for path, page in sources:
        rel, source, module, lines = parsed[path]
        run = runs.get(path)
        if run is not None and not run['ok'] and not run['stale']:
            # An error, not a warning: `mkdocs build -q` drops warnings before
            # `--strict` counts them
            log.error(f'{rel}: python -m {run["module"]} failed; its page shows the error')
        # The Chinese twin of the module, before the computed text goes in ([step 6](translate.md))
        catalog = translate.load(translate.catalog_path(path))
        zh_module, problems = translate.translate_module(module, catalog)
        for problem in problems:
            log.warning(str(problem))
        for lang, mod, folder in (('en', module, page.parent), ('zh', zh_module, ZH / page.parent)):
            figures = {}
            if run is not None:
                # A prose line `{{ name }}` becomes the Markdown the page computed;
                # figures go beside the page
                for md in sorted(run['folder'].glob('*.md')):
                    text = _generated(md, lang, catalog, rel)
                    _substitute(mod, '{{ %s }}' % md.stem, text)
                for svg in sorted(run['folder'].glob('*.svg')):
                    figures[svg.name] = _generated(svg, lang, catalog, rel).encode('utf-8')
                    files.append(File.generated(config, str(folder / svg.name),
                                                content=figures[svg.name]))
            _page(config, files, path, page if lang == 'en' else ZH / page, mod, lines, run,
                  math, figures, lang)
            if lang == 'zh':
                _twins[page.as_posix()] = (ZH / page).as_posix()
    _home_zh(files, config, math)
    #
    # All formulas of the build in one KaTeX call
    try:
        _rendered_math[:] = math.render()
        _math_tex[:] = [tex for tex, _, _ in math.formulas]
    except literate.GeneratorError as e:
        raise SystemExit(f'Error: {e}') from e
    _add_katex_assets(files, config)
    return files


def _substitute(module, placeholder: str, text: str):
    module.intro = module.intro.replace(placeholder, text)
    for row in module.rows:
        row.prose = [p.replace(placeholder, text) for p in row.prose]


def _generated(path: Path, lang: str, catalog, rel: str) -> str:
    # A computed text, in Chinese through the page's templates; a unit without one is a warning
    text = path.read_text(encoding='utf-8')
    if lang == 'en':
        return text
    text, missing = translate.translate_generated(text, catalog, f'{rel}: {path.name}')
    for line in missing:
        log.warning(f'{line}; add a template under `generated` in '
                    f'{translate.catalog_path(Path(rel)).as_posix()}')
    return text


def _page(config, files, path: Path, page: Path, module, lines, run, math, figures, lang: str):
    # One page in one language, with its notebook and a copy of its source beside it
    depth = len(page.parts) - 1 - (1 if lang == 'zh' else 0)
    crumbs = [('Home' if lang == 'en' else '首页', '../' * depth + 'index.md')]
    source_name = 'index.py' if path.name == '__init__.py' else path.name
    # A page with checks is also a notebook, beside its source (`notebook.py`)
    notebook_name = None
    if run is not None:
        notebook_name = path.stem.replace('__init__', 'index') + '.ipynb'
        files.append(File.generated(config, str(page.parent / notebook_name),
                                    content=literate.notebook(module, run['module'], figures)))
    content = literate.render(module, lines, math, run, source_name, crumbs,
                              notebook_name=notebook_name, lang=lang)
    # The highlighted code is finished HTML: it skips Markdown (whose HTML parser would walk
    # every token of it) and comes back in `on_page_content`
    content = _CODE_BLOCK.sub(lambda m: _set_aside(m.group(0)), content)
    page_file = File.generated(config, str(page), content=content)
    files.append(page_file)
    files.append(File.generated(config, str(page.parent / source_name),
                                content=path.read_text(encoding='utf-8')))
    return page_file


# English page → its Chinese twin, by their paths in the site
_twins: Dict[str, str] = {}


def _home_zh(files, config, math):
    # The home page's Chinese twin, from `docs/index.md` and `docs/index.zh.yml`
    home = ROOT / 'docs' / 'index.md'
    module = translate.home_module(home, ROOT)
    catalog = translate.load(translate.catalog_path(home))
    zh, problems = translate.translate_module(module, catalog)
    for problem in problems:
        log.warning(str(problem))
    text = math.extract(zh.intro, 'docs/index.md')
    description = zh.meta.get('description', '')
    content = (f'---\ntitle: {json_dumps(zh.meta.get("title", ""))}\n'
               f'description: {json_dumps(description)}\n---\n\n{text}\n')
    files.append(File.generated(config, 'zh/index.md', content=content))
    _twins['index.md'] = 'zh/index.md'


def json_dumps(text: str) -> str:
    import json
    return json.dumps(text, ensure_ascii=False)


def _add_katex_assets(files, config):
    # KaTeX's stylesheet and its woff2 fonts only (every browser we target reads woff2)
    dist = ROOT / 'node_modules' / 'katex' / 'dist'
    css = (dist / 'katex.min.css').read_text(encoding='utf-8')
    css = re.sub(r',url\(fonts/[^)]+\.(woff|ttf)\) format\("(woff|truetype)"\)', '', css)
    # Text that uses a KaTeX font is shown in a fallback font until the font arrives, instead of
    # staying invisible (the browser's default for a font face without font-display)
    css = css.replace('@font-face{', '@font-face{font-display:swap;')
    files.append(File.generated(config, 'assets/katex/katex.min.css', content=css))
    for font in sorted((dist / 'fonts').glob('*.woff2')):
        name = f'assets/katex/fonts/{font.name}'
        files.append(File.generated(config, name, content=font.read_bytes()))


# KaTeX's HTML for the formulas of each hand-written page, by its path in docs/
_docs_math: Dict[str, List[str]] = {}


def on_page_markdown(markdown, page, config, files):
    # The hand-written home page lists the pages where it says `{{ pages }}`
    if page.file.src_uri == 'index.md':
        markdown = markdown.replace('{{ pages }}', _home_page_list())
    if page.file.src_uri == 'zh/index.md':
        markdown = markdown.replace('{{ pages }}', _home_page_list('zh'))
    if page.file.src_uri.startswith('zh/'):
        markdown = _english_ids(markdown, page.file.src_uri)
    # Hand-written pages get the same build-time math as generated ones
    if page.file.generated_by is None:
        math = literate.MathCollector()
        markdown = math.extract(markdown, f'docs/{page.file.src_uri}')
        try:
            _docs_math[page.file.src_uri] = math.render()
        except literate.GeneratorError as e:
            raise SystemExit(f'Error: {e}') from e
    return markdown


_CODE_BLOCK = re.compile(r'<div class="lit-code">.*?</code></pre></div>', re.S)
_code_blocks: List[str] = []


def _set_aside(html: str) -> str:
    _code_blocks.append(html)
    return f'<div class="lit-code">LITCODEBLOCK{len(_code_blocks) - 1}X</div>'


# The ids of each English page's headings, in order: its Chinese twin's headings get the same
_heading_ids: Dict[str, List[str]] = {}
_HEADING_LINE = re.compile(r'^(#{1,6}[ \t]+\S.*?)[ \t]*$', re.M)


def _english_ids(markdown: str, uri: str) -> str:
    """
    A Chinese heading keeps the `id` of its English one, so that links to `#the-equations` from
    this page or another work in both languages (MkDocs would derive the id from the Chinese
    text). Headings are matched in order; the translation keeps every heading a heading.
    """
    english = next((e for e, z in _twins.items() if z == uri), None)
    ids = _heading_ids.get(english)
    if ids is None:
        return markdown
    # Headings outside code (the highlighted code is set aside already; fenced blocks remain)
    parts = re.split(r'(```.*?```)', markdown, flags=re.S)
    found = sum(len(_HEADING_LINE.findall(p)) for p in parts[::2])
    if found != len(ids):
        log.warning(f'{uri}: {found} headings, its English page has {len(ids)}: a translation '
                    f'must keep every heading a heading')
        return markdown
    it = iter(ids)
    for i in range(0, len(parts), 2):
        parts[i] = _HEADING_LINE.sub(lambda m: f'{m.group(1)} {{#{next(it)}}}', parts[i])
    return ''.join(parts)


def on_page_content(html, page, config, files):
    if not page.file.src_uri.startswith('zh/'):
        ids = []

        def collect(items):
            for item in items:
                ids.append(item.id)
                collect(item.children)
        collect(page.toc)
        _heading_ids[page.file.src_uri] = ids
    # Headings with math also appear in the table of contents, which is text: there the
    # placeholder becomes the formula's TeX
    def plain(title: str) -> str:
        return re.sub(r'KATEXMATH(\d+)X', lambda m: _math_tex[int(m.group(1))], title)

    def walk(items):
        for item in items:
            item.title = plain(item.title)
            walk(item.children)
    if page.file.generated_by is None:
        return literate.substitute_math(html, _docs_math.get(page.file.src_uri, []))
    walk(page.toc)
    html = re.sub(r'<div class="lit-code">(?:<p>)?LITCODEBLOCK(\d+)X(?:</p>)?</div>',
                  lambda m: _code_blocks[int(m.group(1))], html)
    return literate.substitute_math(html, _rendered_math)


# ## Two changes to every built page, for the first paint
#
# Material's own script is a plain `<script>` at the end of `<body>`, which Lighthouse counts as
# render-blocking; `defer` runs it at the same moment (when the page is parsed), in the same order
# before our deferred `literate.js`, without holding up the first paint.
_BUNDLE = re.compile(
    r'<script src="([^"]*assets/javascripts/bundle\.[0-9a-f]+\.min\.js)"></script>')
# Material's main stylesheet blocks the first paint until all of it (23 KB gzip) has arrived.
# The rules the site's pages use when they load (`critical.css`, written by
# `python -m scripts.critical_css`) are inlined instead, and the whole stylesheet is loaded
# without blocking; it adds only rules for states the reader has yet to cause.
_MAIN_CSS = re.compile(
    r'<link rel="stylesheet" href="([^"]*assets/stylesheets/(main\.[0-9a-f]+\.min\.css))">')
CRITICAL_CSS = Path(__file__).parent / 'critical.css'


def _critical_css() -> Tuple[str, str]:
    """The inlined rules, and the name of the stylesheet they were taken from."""
    text = CRITICAL_CSS.read_text(encoding='utf-8')
    source = re.search(r'from (main\.[0-9a-f]+\.min\.css)', text.split('\n', 1)[0])
    return text.split('\n', 1)[1].strip(), source.group(1) if source else ''


def on_post_page(output, page, config):
    output = _languages(output, page, config)
    output = _BUNDLE.sub(r'<script defer src="\1"></script>', output, count=1)
    link = _MAIN_CSS.search(output)
    if link is None:
        return output
    rules, source = _critical_css()
    if source != link.group(2):
        log.warning(f'{CRITICAL_CSS.relative_to(ROOT)} was taken from {source or "?"}, but the '
                    f'theme now has {link.group(2)}: run `python -m scripts.critical_css`')
        return output
    href = link.group(1)
    # `media="print"` makes the browser fetch it at a low priority without waiting for it;
    # once loaded it is switched to every medium
    inline = (f'<style>{rules}</style>'
              f'<link rel="stylesheet" href="{href}" media="print" onload="this.media=\'all\'">'
              f'<noscript><link rel="stylesheet" href="{href}"></noscript>')
    return output[:link.start()] + inline + output[link.end():]


def _url(uri: str) -> str:
    # A page's URL in the site, from its path in the docs (`a/index.md` → `a/`, `a/b.md` → `a/b/`)
    uri = re.sub(r'(^|/)index\.md$', r'\1', uri)
    return re.sub(r'\.md$', '/', uri)


def _relative(target: str, base: str) -> str:
    # From the folder of page URL `base` to page URL `target`
    import posixpath
    rel = posixpath.relpath(target or '.', base or '.')
    return '' if rel == '.' else rel + '/'


_LANG_SWITCH = ('<div class="md-header__option"><a class="md-header__button lit-lang" '
                'href="{href}" hreflang="{hreflang}" lang="{hreflang}" title="{title}">'
                '{label}</a></div>')


def _languages(output: str, page, config) -> str:
    """
    ## Two languages, one site

    Every English page and its Chinese twin link to each other: `<link rel="alternate"
    hreflang>` for search engines, and a switch in the header for readers. A Chinese page also
    gets `lang="zh-CN"`, the site's name in Chinese, and its header's home link to the Chinese
    home page.
    """
    uri = page.file.src_uri
    zh = uri.startswith('zh/')
    en_uri = next((e for e, z in _twins.items() if z == uri), None) if zh else uri
    zh_uri = _twins.get(en_uri) if en_uri else None
    here = _url(uri)
    if zh:
        output = output.replace('<html lang="zh"', '<html lang="zh-CN"', 1)
        # The theme's words around the article (never inside it, where code may quote them)
        start, end = output.find('<article'), output.find('</article>')
        outside = [output[:start], output[end:]] if 0 <= start < end else [output, '']
        for english, chinese in ((html.escape(config['site_name']), ZH_SITE_NAME),
                                 ('Switch to the dark palette', '切换到深色模式'),
                                 ('Switch to the light palette', '切换到浅色模式')):
            outside = [part.replace(english, chinese) for part in outside]
        output = outside[0] + output[start:end] + outside[1] if 0 <= start < end \
            else outside[0]
        # The logo's link: to the Chinese home page
        home = _relative('zh/', here)
        output = re.sub(r'href="[^"]*"(?= title="%s" class="md-(?:header|nav)__button md-logo")'
                        % re.escape(ZH_SITE_NAME), f'href="{home or "./"}"', output)
    if not (en_uri and zh_uri):
        return output
    site = (config.get('site_url') or '').rstrip('/') + '/'
    links = ''.join(f'<link rel="alternate" hreflang="{code}" href="{site}{_url(u)}">'
                    for code, u in (('en', en_uri), ('zh-CN', zh_uri)))
    links += f'<link rel="alternate" hreflang="x-default" href="{site}{_url(en_uri)}">'
    output = output.replace('</head>', links + '</head>', 1)
    twin = _url(en_uri if zh else zh_uri)
    switch = _LANG_SWITCH.format(
        href=_relative(twin, here) or './', hreflang='en' if zh else 'zh-CN',
        title='Read this page in English' if zh else '阅读本页的中文版',
        label='English' if zh else '中文')
    # Before the palette toggle, the header's first option
    return re.sub(r'(<form class="md-header__option" data-md-component="palette")',
                  lambda m: switch + m.group(1), output, count=1)


def on_serve(server, config, builder):
    # A background run of the checks touches this file when it ends:
    # rebuild, and the browser reloads
    FINISHED.parent.mkdir(parents=True, exist_ok=True)
    FINISHED.touch()
    server.watch(str(FINISHED))
    return server


# ## Sources
#
# * MkDocs 1.6: [hooks](https://www.mkdocs.org/user-guide/configuration/#hooks) and the
#   [event handlers](https://www.mkdocs.org/dev-guide/plugins/#events) `on_startup`, `on_config`,
#   `on_files`, `on_page_markdown`, `on_page_content`, `on_post_page`, `on_serve`;
#   [`File.generated`](https://www.mkdocs.org/dev-guide/api/#mkdocs.structure.files.File.generated).
