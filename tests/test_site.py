"""The real site: a strict build with every page, and two builds byte-identical."""

import filecmp

from conftest import ROOT, build_site

from literate_norm.pages import page_sources


def test_every_module_has_a_page(site_dir):
    for source, page in page_sources():
        html = site_dir / page.with_suffix('') / 'index.html' if page.name != 'index.md' \
            else site_dir / page.parent / 'index.html'
        assert html.exists(), (f'{source.relative_to(ROOT)} has no page at '
                               f'{html.relative_to(site_dir)}')
        text = html.read_text(encoding='utf-8')
        assert 'class="lit-row"' in text, f'{html} has no side-by-side rows'
        # Each page ships a copy of its source beside its Markdown, linked from the page
        copy_name = 'index.py' if source.name == '__init__.py' else source.name
        source_copy = site_dir / page.parent / copy_name
        assert source_copy.read_text(encoding='utf-8') == source.read_text(encoding='utf-8')


def test_run_it_boxes_show_passing_checks(site_dir):
    for source, page in page_sources():
        if not source.is_relative_to(ROOT / 'labml_nn_norm'):
            continue
        html = (site_dir / page.parent / 'index.html' if page.name == 'index.md'
                else site_dir / page.with_suffix('') / 'index.html').read_text(encoding='utf-8')
        assert 'id="run-it"' in html and 'lit-failed' not in html and '✓' in html, page


def test_two_builds_are_byte_identical(site_dir, tmp_path):
    second = tmp_path / 'second'
    done = build_site(second)
    assert done.returncode == 0, done.stderr[-3000:]
    differing = []
    for path in site_dir.rglob('*'):
        if path.is_file() and path.suffix in ('.html', '.svg', '.css', '.py', '.json'):
            other = second / path.relative_to(site_dir)
            if not other.exists() or not filecmp.cmp(path, other, shallow=False):
                differing.append(str(path.relative_to(site_dir)))
    assert not differing, f'not byte-identical: {differing[:10]}'
    # The sitemap too, but for its dates: the same pages in the same order (the pages are
    # converted in an order that depends on how long their checks took)
    import re
    locs = [re.findall(r'<loc>(.*?)</loc>', (site / 'sitemap.xml').read_text(encoding='utf-8'))
            for site in (site_dir, second)]
    assert locs[0] == locs[1] and len(locs[0]) > 50


def _built_pages(site_dir):
    """Every HTML page of the site except MkDocs' 404 page."""
    return [p for p in sorted(site_dir.rglob('*.html')) if p.name != '404.html']


def test_every_page_ends_with_its_sources(site_dir):
    # Each page (module pages, the generator's page and the home page) ends with a "Sources" section
    import re
    missing = []
    for path in _built_pages(site_dir):
        html = path.read_text(encoding='utf-8')
        article = html[html.find('<article'):html.find('</article>')]
        headings = re.findall(r'<h2 id="([^"]+)"', article)
        if not headings or headings[-1] != 'sources':
            missing.append(f'{path.relative_to(site_dir)}: last h2 {headings[-1:] or "none"}')
    assert not missing, missing


def test_every_github_link_is_pinned_to_a_commit_and_lines(site_dir):
    # …/blob/<40-hex commit>/<path>#L<a>[-L<b>]: a reader checks the claim in one click, and the
    # link keeps pointing at the code that was read (issues and pull requests by their number)
    import re
    pinned = re.compile(r'https://github\.com/[\w.-]+/[\w.-]+/blob/[0-9a-f]{40}/[^#\s"]+#L\d+(-L\d+)?')
    # An issue or a pull request is one numbered thread, not a file that moves on
    thread = re.compile(r'https://github\.com/[\w.-]+/[\w.-]+/(issues|pull)/\d+(#[\w-]+)?')
    bad = []
    for path in _built_pages(site_dir):
        text = path.read_text(encoding='utf-8')
        for url in re.findall(r'href="(https?://(?:www\.)?github\.com[^"]*)"', text):
            if not (pinned.fullmatch(url) or thread.fullmatch(url)):
                bad.append(f'{path.relative_to(site_dir)}: {url}')
    assert not bad, bad


def test_readme_lists_every_page():
    # The navigation and the home page come from the front matter; the README's table is checked
    from literate_norm.pages import ROOT as root
    from literate_norm.pages import pages_in_order
    readme = (root / 'README.md').read_text(encoding='utf-8')
    rows = [line for line in readme.splitlines() if line.startswith('| ')]
    for path, _, meta in pages_in_order():
        name, module = meta.get('nav', meta['title']), path.relative_to(root).as_posix()
        assert any(f'| {name} |' in row and f'`{module}`' in row for row in rows), \
            f'README.md has no row "| {name} | `{module}` |"'


def test_no_raw_tex_on_any_page(site_dir):
    # Every page's math is rendered at build time: no `$…$`, TeX command or placeholder left in
    # the text a reader sees (code, KaTeX's own MathML and scripts aside)
    import re
    from html.parser import HTMLParser

    class Text(HTMLParser):
        skip_tags = {'code', 'pre', 'script', 'style', 'annotation', 'math', 'svg'}

        def __init__(self):
            super().__init__()
            self.depth, self.parts = 0, []

        def handle_starttag(self, tag, attrs):
            if tag in self.skip_tags:
                self.depth += 1

        def handle_endtag(self, tag):
            if tag in self.skip_tags and self.depth:
                self.depth -= 1

        def handle_data(self, data):
            if not self.depth:
                self.parts.append(data)

    raw = re.compile(r'\$[^$\s][^$]*\$|\\(?:frac|mathbb|mathrm|sum|hat|sqrt|epsilon|sigma|mu)\b'
                     r'|KATEXMATH\d+X')
    found = []
    for path in _built_pages(site_dir):
        parser = Text()
        parser.feed(path.read_text(encoding='utf-8'))
        for hit in raw.findall(' '.join(parser.parts)):
            found.append(f'{path.relative_to(site_dir)}: {hit[:60]}')
    assert not found, found[:20]


def test_every_page_has_its_own_order():
    # Two pages with the same `order` would be placed by file name, silently
    from collections import Counter

    from literate_norm.pages import front_matter, page_sources
    orders = Counter(float(front_matter(path)['order']) for path, _ in page_sources())
    assert [o for o, n in orders.items() if n > 1] == [], orders


def test_every_formula_has_mathml_beside_its_html(site_dir):
    # KaTeX's `htmlAndMathml`: the visual HTML is hidden from assistive technology and the MathML
    # (hidden from the eye by katex.css) is what a screen reader reads; no raw TeX annotation
    import re
    pages = 0
    for path in _built_pages(site_dir):
        html = path.read_text(encoding='utf-8')
        formulas = html.count('<span class="katex">')
        if not formulas:
            continue
        pages += 1
        assert html.count('<span class="katex-mathml"><math') == formulas, path
        assert len(re.findall(r'<span class="katex-html" aria-hidden="true">', html)) \
            == formulas, path
        assert 'application/x-tex' not in html, path
    assert pages >= 20, pages


def test_every_module_page_shows_a_figure_with_an_accessible_name(site_dir):
    # In both languages: an inline SVG with role="img" and a name, or an image with alt text
    import re

    from literate_norm.pages import PACKAGE, page_sources
    missing = []
    for source, page in page_sources():
        if not source.is_relative_to(PACKAGE):
            continue
        for prefix in ('', 'zh/'):
            folder = page.parent if page.name == 'index.md' else page.with_suffix('')
            html = (site_dir / prefix / folder / 'index.html').read_text(encoding='utf-8')
            article = html[html.find('<article'):html.find('</article>')]
            named_svg = re.search(r'<svg\b[^>]*\brole="img"[^>]*\baria-label="[^"]+"', article) \
                or re.search(r'<svg\b[^>]*\brole="img"[^>]*>\s*<title>[^<]+</title>', article)
            named_img = re.search(r'<img\b[^>]*\balt="[^"]+"[^>]*\bsrc="[^"]+\.svg"', article) \
                or re.search(r'<img\b[^>]*\bsrc="[^"]+\.svg"[^>]*\balt="[^"]+"', article)
            if not (named_svg or named_img):
                missing.append(f'{prefix}{folder}')
    assert not missing, missing
