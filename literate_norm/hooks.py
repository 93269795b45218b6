r"""
---
title: "Step 4: write, inside MkDocs"
summary: The MkDocs hook - the navigation from each module's front matter, the page checks run or
  taken from the cache, and the generated pages handed to MkDocs.
section: How this site is made
order: 48
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

This module holds the events and little else. The list of pages is [its own
module](pages.md), shared with the translation tool; running the checks is
[another](checks.md), and so is [the finished HTML](finish.md).

**While `mkdocs serve` runs**, a page whose code changed shows at once with its previous "Run it"
output, marked as out of date, while its checks re-run in the background; when they finish, the
page rebuilds and reloads by itself. A page with no previous output (and every page of
`mkdocs build`) waits for its checks. A failed check logs an error, so a strict build fails.

**A writer's unfinished work never stalls `mkdocs serve`.** A paragraph whose Chinese is missing
or out of date, a computed text with no Chinese template, a failed check or a stale
`critical.css` are states of authoring, not a broken site: `mkdocs build --strict` (the tests,
CI) fails on each, but under `mkdocs serve` each is logged as information, with its `file:line`
and the command that fixes it, and the site rebuilds. The Chinese page then shows that paragraph
in English under a note that says it is not yet translated.
"""

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

from mkdocs.structure.files import File

import literate_norm as literate
from literate_norm import translate
from literate_norm.checks import FINISHED, SERVE_STATE, finish_checks, start_checks
from literate_norm.finish import finish_page
from literate_norm.pages import PACKAGE, ROOT, ZH, page_sources, pages_in_order
from literate_norm.render import MATH_TEX, katex_assets, render_ahead, tex_text

ZH_NAV = '中文'
log = logging.getLogger('mkdocs.hooks.literate')

_state = SERVE_STATE


@dataclass
class Build:
    """What one build collects in `on_files` and the page events use later: one object, made
    afresh at every build (`mkdocs serve` rebuilds in the same process)."""
    # KaTeX's HTML of every formula of the generated pages, and each formula's TeX (for places
    # that show text, not HTML: the table of contents)
    math_html: List[str] = field(default_factory=list)
    math_tex: List[str] = field(default_factory=list)
    # KaTeX's HTML of the formulas of each hand-written page, by its path in `docs/`
    docs_math: Dict[str, List[str]] = field(default_factory=dict)
    # English page → its Chinese twin, by their paths in the site
    twins: Dict[str, str] = field(default_factory=dict)
    # The highlighted code blocks, set aside from Markdown
    code_blocks: List[str] = field(default_factory=list)
    # The ids of each English page's headings, in order: its Chinese twin's headings get the same
    heading_ids: Dict[str, List[str]] = field(default_factory=dict)


_build = Build()


def authoring(message: str, error: bool = False):
    # A warning for `mkdocs build` (so `--strict` fails); information under `mkdocs serve`, whose
    # strict rebuild would otherwise abort and leave the browser on the old page
    if _state['serve']:
        log.info(f'(not final) {message}')
    elif error:
        # An error, not a warning: `mkdocs build -q` drops warnings before `--strict` counts them
        log.error(message)
    else:
        log.warning(message)


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
        meta = translate.zh_meta(path, meta)
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


def on_files(files, config):
    """
    ## Generate the pages

    Parse, highlight and render every page, substitute what its `_artifacts()` computed for the
    `{{ name }}` lines of its prose, and add the page, its figures and a copy of its source to
    the site's files.
    """
    global _build
    _build = Build()
    math = literate.MathCollector()
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
    # KaTeX renders the prose's formulas while the checks run ([render](render.md))
    try:
        render_ahead([(text, rel) for rel, _, module, _ in parsed.values()
                      for text in [module.intro] + ['\n'.join(r.prose) for r in module.rows]])
    except literate.GeneratorError as e:
        raise SystemExit(f'Error: {e}') from e
    runs = finish_checks()
    #
    for path, page in sources:
        rel, source, module, lines = parsed[path]
        run = runs.get(path)
        if run is not None and not run['ok'] and not run['stale']:
            authoring(f'{rel}: python -m {run["module"]} failed; its page shows the error',
                      error=True)
        # The Chinese twin of the module, before the computed text goes in ([step 6](translate.md))
        catalog = translate.load(translate.catalog_path(path))
        zh_module, problems = translate.translate_module(module, catalog)
        for problem in problems:
            authoring(str(problem))
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
                  math, figures, lang, english=module)
            if lang == 'zh':
                _build.twins[page.as_posix()] = (ZH / page).as_posix()
    _home_zh(files, config, math)
    #
    # All formulas of the build in one KaTeX call
    try:
        _build.math_html = math.render()
        _build.math_tex = [tex for tex, _, _ in math.formulas]
        MATH_TEX[:] = _build.math_tex
    except literate.GeneratorError as e:
        raise SystemExit(f'Error: {e}') from e
    for name, content in katex_assets(ROOT / 'node_modules' / 'katex' / 'dist'):
        files.append(File.generated(config, name, content=content))
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
        authoring(f'{line}; add a template under `generated` in '
                  f'{translate.catalog_path(Path(rel)).as_posix()}')
    return text


def _page(config, files, path: Path, page: Path, module, lines, run, math, figures, lang: str,
          english=None):
    # One page in one language, with its notebook and a copy of its source beside it
    depth = len(page.parts) - 1 - (1 if lang == 'zh' else 0)
    crumbs = [('Home' if lang == 'en' else '首页', '../' * depth + 'index.md')]
    source_name = 'index.py' if path.name == '__init__.py' else path.name
    # A page with checks is also a notebook, beside its source (`notebook.py`)
    notebook_name = None
    if run is not None:
        notebook_name = path.stem.replace('__init__', 'index') + '.ipynb'
        files.append(File.generated(config, str(page.parent / notebook_name),
                                    content=literate.notebook(module, run['module'], figures,
                                                              english)))
    content = literate.render(module, lines, math, run, source_name, crumbs,
                              notebook_name=notebook_name, lang=lang)
    # The highlighted code is finished HTML: it skips Markdown (whose HTML parser would walk
    # every token of it), is shown to the search as plain text (`on_page_content`), and comes
    # back whole in `on_post_page`
    content = set_aside_code(content)
    page_file = File.generated(config, str(page), content=content)
    files.append(page_file)
    files.append(File.generated(config, str(page.parent / source_name),
                                content=path.read_text(encoding='utf-8')))
    return page_file


def _home_zh(files, config, math):
    # The home page's Chinese twin, from `docs/index.md` and `docs/index.zh.yml`
    home = ROOT / 'docs' / 'index.md'
    module = translate.home_module(home, ROOT)
    catalog = translate.load(translate.catalog_path(home))
    zh, problems = translate.translate_module(module, catalog)
    for problem in problems:
        authoring(str(problem))
    text = math.extract(zh.intro, 'docs/index.md')
    description = zh.meta.get('description', '')
    content = (f'---\ntitle: {_json(zh.meta.get("title", ""))}\n'
               f'description: {_json(description)}\n---\n\n{text}\n')
    files.append(File.generated(config, 'zh/index.md', content=content))
    _build.twins['index.md'] = 'zh/index.md'


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def on_page_markdown(markdown, page, config, files):
    # The hand-written home page lists the pages where it says `{{ pages }}`
    if page.file.src_uri == 'index.md':
        markdown = markdown.replace('{{ pages }}', translate.home_page_list())
    if page.file.src_uri == 'zh/index.md':
        markdown = markdown.replace('{{ pages }}', translate.home_page_list('zh'))
    if page.file.src_uri.startswith('zh/'):
        markdown = _english_ids(markdown, page.file.src_uri)
    # Hand-written pages get the same build-time math as generated ones
    if page.file.generated_by is None:
        math = literate.MathCollector()
        markdown = math.extract(markdown, f'docs/{page.file.src_uri}')
        try:
            _build.docs_math[page.file.src_uri] = math.render()
        except literate.GeneratorError as e:
            raise SystemExit(f'Error: {e}') from e
    return markdown


# A row's code block, as `templates/page.html` writes it
CODE_BLOCK = re.compile(r'<div class="lit-code"><button [^>]*>[^<]*</button>'
                        r'<pre class="lit-src"[^>]*>.*?</pre></div>', re.S)


def set_aside_code(content: str) -> str:
    # Each code block becomes a placeholder that Markdown leaves alone
    def aside(m: re.Match) -> str:
        _build.code_blocks.append(m.group(0))
        return f'<div class="lit-code">LITCODEBLOCK{len(_build.code_blocks) - 1}X</div>'
    return CODE_BLOCK.sub(aside, content)


def _plain_code(n: int) -> str:
    # The block's text without its highlighting: the search indexes the same words from one text
    # node instead of parsing a `<span>` per token (half the build's time went there)
    text = re.sub(r'<button [^>]*>[^<]*</button>|<[^>]+>', '', _build.code_blocks[n])
    return f'<div class="lit-code" data-lit-block="{n}"><pre>{text}</pre></div>'


_PLAIN_CODE = re.compile(r'<div class="lit-code" data-lit-block="(\d+)"><pre>.*?</pre></div>', re.S)


_HEADING_LINE = re.compile(r'^(#{1,6}[ \t]+\S.*?)[ \t]*$', re.M)


def _english_ids(markdown: str, uri: str) -> str:
    """
    A Chinese heading keeps the `id` of its English one, so that links to `#the-equations` from
    this page or another work in both languages (MkDocs would derive the id from the Chinese
    text). Headings are matched in order; the translation keeps every heading a heading.
    """
    english = next((e for e, z in _build.twins.items() if z == uri), None)
    if english is None:
        # A Chinese page with no English twin (the glossary): its ids are its own
        return markdown
    ids = _build.heading_ids.get(english)
    if ids is None:
        # The English page comes first in the navigation, so MkDocs has rendered it already
        raise SystemExit(f'Error: {uri}: the headings of its English page {english} are not '
                         f'known yet; the Chinese pages must come after the English ones')
    # Headings outside code (the highlighted code is set aside already; fenced blocks remain)
    parts = re.split(r'(```.*?```)', markdown, flags=re.S)
    found = sum(len(_HEADING_LINE.findall(p)) for p in parts[::2])
    if found != len(ids):
        authoring(f'{uri}: {found} headings, its English page has {len(ids)}: a translation '
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
        _build.heading_ids[page.file.src_uri] = ids
    # Headings with math also appear in the table of contents, which is text: there the
    # placeholder becomes the formula as plain text
    def plain(title: str) -> str:
        return re.sub(r'KATEXMATH(\d+)X', lambda m: tex_text(_build.math_tex[int(m.group(1))]),
                      title)

    def walk(items):
        for item in items:
            item.title = plain(item.title)
            walk(item.children)
    if page.file.generated_by is None:
        return literate.substitute_math(html, _build.docs_math.get(page.file.src_uri, []))
    walk(page.toc)
    html = re.sub(r'<div class="lit-code">(?:<p>)?LITCODEBLOCK(\d+)X(?:</p>)?</div>',
                  lambda m: _plain_code(int(m.group(1))), html)
    # The formulas, too, come in only in `on_post_page`: the search would parse every `<span>`
    # of KaTeX's HTML and every element of its MathML, to index glyphs nobody searches for
    return re.sub(r'KATEXMATH(\d+)X', r'<span data-lit-math="\1"></span>', html)


def on_post_page(output, page, config):
    # The highlighted code back in place of its plain text, the formulas in place of their
    # placeholders; the links between the two languages, and two changes for the first paint
    # ([the finished HTML](finish.md))
    output = _PLAIN_CODE.sub(lambda m: _build.code_blocks[int(m.group(1))], output)
    if page.file.generated_by is not None:
        output = literate.substitute_math(
            re.sub(r'<span data-lit-math="(\d+)"></span>', r'KATEXMATH\1X', output),
            _build.math_html)
    output, problem = finish_page(output, page.file.src_uri, _build.twins, config['site_name'],
                                  config.get('site_url') or '')
    if problem:
        authoring(problem)
    return output


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
