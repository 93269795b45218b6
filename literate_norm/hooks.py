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
* `on_config`: builds the navigation from the pages' front matter (one list of pages), and
  starts the pages' checks ([running them](checks.md));
* `on_files`: while the pages' checks run (or are taken from [the cache](cache.md)), parses and
  highlights every page, renders those without checks, in English and in Chinese under `zh/`
  ([step 6](translate.md)), and adds them to the site's files, with a copy of their source;
  KaTeX's CSS and fonts are copied from `node_modules`. Nothing is written into `docs/`;
* `on_page_read_source`: a page with checks is rendered when MkDocs reads it, as soon as its
  own checks have ended, with its figures; MkDocs converts the other pages meanwhile;
* `on_page_markdown`: the home page's list of pages, from the same front matter;
* `on_page_content`: each page goes into the search index as soon as it is converted;
* `on_env`: the formulas not rendered ahead (those of computed text) are rendered by KaTeX,
  in one call;
* `on_post_page`: the formulas and the highlighted code go in; links each page to its twin in
  the other language, and makes two changes for the first paint
  ([the finished HTML](finish.md));
* `on_post_build`: waits for the checks' runner to end, and keeps each page's run time;
* `on_serve`: watches the file that says "checks finished" (below).

This module holds the events and little else. The list of pages is [its own
module](pages.md), shared with the translation tool; running the checks is
[another](checks.md), and so is [the finished HTML](finish.md).

**While `mkdocs serve` runs**, a page whose code changed shows at once with its previous "Run it"
output, marked as out of date, while its checks re-run in the background; when they finish, the
page rebuilds and reloads by itself. A page with no previous output (and every page of
`mkdocs build`) waits for its checks. Under `mkdocs build` a failed check logs an error, so a
strict build fails.

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

from mkdocs.structure.files import File, set_exclusions

import literate_norm as literate
from literate_norm import checks, serve, translate
from literate_norm.computed import computed_text
from literate_norm.finish import CodeBlocks, english_ids, finish_page
from literate_norm.pages import PACKAGE, ROOT, ZH, page_path, page_sources, pages_in_order
from literate_norm.render import MATH_TEX, katex_assets, render_ahead, tex_text

ZH_NAV = '中文'
log = logging.getLogger('mkdocs.hooks.literate')

_state = checks.SERVE_STATE


@dataclass
class Build:
    """What one build collects in `on_files` and the page events use later: one object, made
    afresh at every build (`mkdocs serve` rebuilds in the same process)."""
    # KaTeX's HTML of every formula of the generated pages (their TeX is `render.MATH_TEX`)
    math_html: List[str] = field(default_factory=list)
    # KaTeX's HTML of the formulas of each hand-written page, by its path in `docs/`
    docs_math: Dict[str, List[str]] = field(default_factory=dict)
    # English page → its Chinese twin, by their paths in the site
    twins: Dict[str, str] = field(default_factory=dict)
    # The highlighted code blocks, set aside from Markdown
    code: CodeBlocks = field(default_factory=CodeBlocks)
    # The ids of each English page's headings, in order: its Chinese twin's headings get the same
    heading_ids: Dict[str, List[str]] = field(default_factory=dict)
    # The pages written only when MkDocs reads them (their checks may still run): path in the
    # site → module, and what was written
    pending: Dict[str, Path] = field(default_factory=dict)
    written: Dict[str, str] = field(default_factory=dict)
    parsed: dict = field(default_factory=dict)
    files: object = None
    math: object = None
    index: object = None
    converted: object = None
    order: Dict[str, int] = field(default_factory=dict)


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
    checks.start_checks([p for p, _ in page_sources() if p.is_relative_to(PACKAGE)])
    return config


def on_files(files, config):
    """
    ## Generate the pages

    Parse, highlight and render every page, substitute what its `_artifacts()` computed for the
    `{{ name }}` lines of its prose, and add the page, its figures and a copy of its source to
    the site's files. A page with checks is added empty and written when MkDocs reads it
    (`on_page_read_source`), once its own checks have ended: MkDocs renders the other pages
    meanwhile, the pages whose checks are expected to end first (by their last run times) in
    first place.
    """
    global _build
    serve.new_build()
    _build = Build(files=files, math=literate.MathCollector(), index=serve.SearchEarly(config),
                   converted=serve.Converted(config, files))
    sources = list(page_sources())
    # Parse and highlight every page while the checks run (or take them from the last rebuild
    # of `mkdocs serve`: [what a rebuild keeps](serve.md))
    for path, page in sources:
        rel = str(path.relative_to(ROOT))
        try:
            module, lines = serve.parsed(rel, path.read_text(encoding='utf-8'))
        except literate.GeneratorError as e:
            raise SystemExit(f'Error: {e}') from e
        _build.parsed[path] = (rel, module, lines)
        _build.twins[page.as_posix()] = (ZH / page).as_posix()
    # KaTeX renders the prose's formulas while the checks run ([render](render.md))
    try:
        render_ahead([(text, rel) for rel, module, _ in _build.parsed.values()
                      for text in [module.intro] + ['\n'.join(r.prose) for r in module.rows]])
    except literate.GeneratorError as e:
        raise SystemExit(f'Error: {e}') from e
    # The site's order (the search index's), then the order MkDocs converts the pages in: each
    # English page before its Chinese twin, whose headings take the English ids
    order = [f.src_uri for f in files.documentation_pages()] + [
        target.as_posix() for _, page in sources for target in (page, ZH / page)] + ['zh/index.md']
    _build.order = {uri: i for i, uri in enumerate(order)}
    for path, page in sorted(sources, key=lambda s: checks.expected_end(s[0])):
        if path.is_relative_to(PACKAGE):
            for target in (page, ZH / page):
                files.append(File.generated(config, target.as_posix(), content=''))
                _build.pending[target.as_posix()] = path
        else:
            _write(config, path, page, None)
    _home_zh(files, config, _build.math)
    for name, content in katex_assets(ROOT / 'node_modules' / 'katex' / 'dist'):
        files.append(File.generated(config, name, content=content))
    return files


def on_page_read_source(page, config):
    # A page with checks, written now that they have ended (both languages at once)
    path = _build.pending.get(page.file.src_uri)
    if path is None:
        return None
    if page.file.src_uri not in _build.written:
        _write(config, path, page_path(path), checks.page_result(path))
        set_exclusions(_build.files, config)
    return _build.written[page.file.src_uri]


def _write(config, path: Path, page: Path, run):
    # A page in English and in Chinese, the Chinese before the computed text goes in
    # ([step 6](translate.md))
    rel, module, lines = _build.parsed[path]
    files = _build.files
    if run is not None and not run['ok'] and not run['stale']:
        authoring(f'{rel}: python -m {run["module"]} failed; its page shows the error', error=True)
    catalog = translate.load(translate.catalog_path(path))
    zh_module, problems = translate.translate_module(module, catalog)
    for problem in problems:
        authoring(str(problem))
    for lang, mod, folder in (('en', module, page.parent), ('zh', zh_module, ZH / page.parent)):
        figures = {}
        if run is not None:
            # A prose line `{{ name }}` becomes the Markdown the page computed; figures go
            # beside the page ([computed text](computed.md))
            figures, missing = computed_text(mod, run['folder'], lang, catalog, rel)
            for line in missing:
                authoring(f'{line}; add a template under `generated` in '
                          f'{translate.catalog_path(path).relative_to(ROOT).as_posix()}')
            for name, content in figures.items():
                files.append(File.generated(config, str(folder / name), content=content))
        target = page if lang == 'en' else ZH / page
        _build.written[target.as_posix()] = _page(config, files, path, target, mod, lines, run,
                                                  figures, lang, english=module)
        if target.as_posix() not in _build.pending:
            files.append(File.generated(config, target.as_posix(),
                                        content=_build.written[target.as_posix()]))
    # The formulas' TeX, for the table of contents and the headings' ids
    MATH_TEX[:] = [tex for tex, _, _ in _build.math.formulas]


def on_env(env, config, files):
    # Every page is converted: the files back in the site's order (the sitemap lists them so),
    # the search entries in that order, and the formulas not rendered ahead in one KaTeX call
    ordered = sorted(enumerate(files), key=lambda f: (_build.order.get(f[1].src_uri, -1), f[0]))
    for _, file in ordered:
        files.remove(file)
        files.append(file)
    _build.index.flush([f.page for f in files.documentation_pages()])
    try:
        _build.math_html = _build.math.render()
    except literate.GeneratorError as e:
        raise SystemExit(f'Error: {e}') from e
    return env


def on_post_build(config):
    checks.finish_checks()


def _page(config, files, path: Path, page: Path, module, lines, run, figures, lang: str,
          english=None) -> str:
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
    content = literate.render(module, lines, _build.math, run, source_name, crumbs,
                              notebook_name=notebook_name, lang=lang)
    # The highlighted code is finished HTML: it skips Markdown (whose HTML parser would walk
    # every token of it), is shown to the search as plain text (`on_page_content`), and comes
    # back whole in `on_post_page`
    files.append(File.generated(config, str(page.parent / source_name),
                                content=path.read_text(encoding='utf-8')))
    return _build.code.set_aside(content)


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
    title = json.dumps(zh.meta.get('title', ''), ensure_ascii=False)
    content = (f'---\ntitle: {title}\n'
               f'description: {json.dumps(description, ensure_ascii=False)}\n---\n\n{text}\n')
    files.append(File.generated(config, 'zh/index.md', content=content))
    _build.twins['index.md'] = 'zh/index.md'


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
    return _build.converted.markdown(page, markdown)


def _english_ids(markdown: str, uri: str) -> str:
    # A Chinese heading keeps the `id` of its English one ([the finished HTML](finish.md))
    english = next((e for e, z in _build.twins.items() if z == uri), None)
    if english is None:
        # A Chinese page with no English twin (the glossary): its ids are its own
        return markdown
    if english not in _build.heading_ids:
        raise SystemExit(f'Error: {uri}: the headings of its English page {english} are not '
                         f'known yet; the Chinese pages must come after the English ones')
    markdown, problem = english_ids(markdown, _build.heading_ids[english])
    if problem:
        authoring(f'{uri}: {problem}')
    return markdown


def on_page_content(html, page, config, files):
    html = _build.converted.content(page, html)
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
        return re.sub(r'KATEXMATH(\d+)X', lambda m: tex_text(MATH_TEX[int(m.group(1))]),
                      title)

    def walk(items):
        for item in items:
            item.title = plain(item.title)
            walk(item.children)
    if page.file.generated_by is None:
        return literate.substitute_math(html, _build.docs_math.get(page.file.src_uri, []))
    walk(page.toc)
    html = _build.code.plain(html)
    # The formulas, too, come in only in `on_post_page`: the search would parse every `<span>`
    # of KaTeX's HTML and every element of its MathML, to index glyphs nobody searches for
    page.content = re.sub(r'KATEXMATH(\d+)X', r'<span data-lit-math="\1"></span>', html)
    _build.index.add(page)
    return page.content


def on_post_page(output, page, config):
    # The highlighted code back in place of its plain text, the formulas in place of their
    # placeholders; the links between the two languages, and two changes for the first paint
    # ([the finished HTML](finish.md))
    output = _build.code.restore(output)
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
    checks.FINISHED.parent.mkdir(parents=True, exist_ok=True)
    checks.FINISHED.touch()
    server.watch(str(checks.FINISHED))
    return server


# ## Sources
#
# * MkDocs 1.6: [hooks](https://www.mkdocs.org/user-guide/configuration/#hooks) and the
#   [event handlers](https://www.mkdocs.org/dev-guide/plugins/#events) `on_startup`, `on_config`,
#   `on_files`, `on_page_markdown`, `on_page_content`, `on_post_page`, `on_serve`;
#   [`File.generated`](https://www.mkdocs.org/dev-guide/api/#mkdocs.structure.files.File.generated).
