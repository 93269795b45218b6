"""
The built site in a real browser: Debian's Chromium, headless, driven by Playwright, against the
site served on 127.0.0.1. Every generated page is checked at desktop and phone widths, in the
light and the dark palette. Screenshots land in `build/screenshots/`.
"""

import re
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from conftest import CHROMIUM, ROOT

from literate_norm.pages import page_sources

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason='Debian chromium is not installed (scripts/setup.sh test installs it)')
SCREENSHOTS = ROOT / 'build' / 'screenshots'
AXE = ROOT / 'node_modules' / 'axe-core' / 'axe.min.js'


def _url_path(page: Path) -> str:
    # The directory URL of a generated page
    return str(page.parent) + '/' if page.name == 'index.md' else str(page.with_suffix('')) + '/'


def page_urls():
    """
    URL path of every generated page (directory URLs), plus the landing page; then the same in
    Chinese (under `zh/`), and the Chinese glossary.
    """
    urls = ['']
    for _, page in page_sources():
        urls.append(_url_path(page))
    return urls + ['zh/' + url for url in urls] + ['zh/glossary/']


PAGES = page_urls()
# The hand-written pages: no rows of prose beside code
HAND_WRITTEN = {'', 'zh/', 'zh/glossary/'}


class Visit:
    """A page opened at one width, recording every request and console error."""

    def __init__(self, browser, url: str, width: int, scheme: str = 'default',
                 wait_until: str = 'networkidle'):
        self.context = browser.new_context(viewport={'width': width, 'height': 900})
        origin = url.split('/', 3)[0] + '//' + urlparse(url).netloc
        self.context.grant_permissions(['clipboard-read', 'clipboard-write'], origin=origin)
        self.page = self.context.new_page()
        self.requests, self.errors = [], []
        self.page.on('request', lambda r: self.requests.append(r.url))
        self.page.on('console', lambda m: self.errors.append(m.text) if m.type == 'error' else None)
        self.page.on('pageerror', lambda e: self.errors.append(str(e)))
        self.page.goto(url, wait_until=wait_until)
        if scheme != 'default':
            self.page.evaluate(f'document.body.setAttribute("data-md-color-scheme", "{scheme}")')

    def close(self):
        self.context.close()


def _name(path: str) -> str:
    return path.strip('/').replace('/', '.') or 'home'


@pytest.mark.parametrize('path', PAGES, ids=[_name(p) for p in PAGES])
def test_page_in_the_browser(browser, site_url, path):
    url = f'{site_url}/{path}'
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # ---- Desktop: prose left of its code, math rendered, nothing from outside, no errors
    v = Visit(browser, url, 1280)
    try:
        page = v.page
        rows = page.evaluate('''() => [...document.querySelectorAll('.lit-row')].map(r => {
            const p = r.querySelector('.lit-prose').getBoundingClientRect();
            const c = r.querySelector('.lit-code').getBoundingClientRect();
            return {pRight: p.right, cLeft: c.left, cWidth: c.width, pTop: p.top, cTop: c.top};
        })''')
        if path not in HAND_WRITTEN:
            assert rows, f'{path}: no side-by-side rows'
            for r in rows:
                if r['cWidth'] > 0:
                    assert (r['pRight'] <= r['cLeft'] + 1
                            and abs(r['pTop'] - r['cTop']) < 2), (path, r)
        # The prose, without code (where `$` and `\\frac` are just characters)
        # and without rendered math
        text = page.evaluate('''() => {
            const c = document.querySelector('.md-content').cloneNode(true);
            c.querySelectorAll('pre, code, .katex, script, textarea').forEach(e => e.remove());
            return c.textContent;
        }''')
        assert '$$' not in text and '\\frac' not in text and 'KATEXMATH' not in text, (
            f'{path}: raw math left')
        assert page.locator('.katex-error').count() == 0
        page.screenshot(path=str(SCREENSHOTS / f'{_name(path)}-1280.png'), full_page=False)
        _assert_axe_clean(page, f'{path} light')
        # The palette toggle, as a reader would use it
        # (transitions off, so axe sees the final colours)
        page.add_style_tag(content='*, *::before, *::after { transition: none !important; }')
        page.locator('label.md-header__button[for^="__palette"]:visible').first.click()
        page.wait_for_timeout(100)
        assert page.evaluate('document.body.getAttribute("data-md-color-scheme")') == 'slate'
        # The dark palette changes colours only, and a Chinese page has the same elements, classes
        # and stylesheets as its English twin (only the words differ): its dark-palette contrast
        # is the English page's, audited there. Its light palette is audited above (`lang`,
        # names and structure are per language)
        if not path.startswith('zh/') or path in HAND_WRITTEN:
            _assert_axe_clean(page, f'{path} dark')
        page.screenshot(path=str(SCREENSHOTS / f'{_name(path)}-1280-dark.png'), full_page=False)
        # ---- Copy buttons: the first row's button copies exactly its code, without line numbers.
        # Language-independent (the same code lines and script on both twins): English pages
        if path not in HAND_WRITTEN and not path.startswith('zh/'):
            _assert_copy_button(page, path)
        hosts = {urlparse(u).hostname for u in v.requests if not u.startswith(('data:', 'blob:'))}
        assert hosts <= {'127.0.0.1'}, f'{path}: requests to {hosts - {"127.0.0.1"}}'
        assert not v.errors, f'{path}: console errors {v.errors}'
    finally:
        v.close()
    # ---- Phone: stacked, no horizontal page scroll (every request was already seen above)
    v = Visit(browser, url, 390, wait_until='load')
    try:
        page = v.page
        widths = page.evaluate('[document.scrollingElement.scrollWidth, window.innerWidth]')
        assert widths[0] <= widths[1], f'{path}: horizontal scroll at 390px: {widths}'
        stacked = page.evaluate('''() => [...document.querySelectorAll('.lit-row')].every(r => {
            const p = r.querySelector('.lit-prose').getBoundingClientRect();
            const c = r.querySelector('.lit-code').getBoundingClientRect();
            return c.height === 0 || p.bottom <= c.top + 1;
        })''')
        assert stacked, f'{path}: prose not above code at 390px'
        page.screenshot(path=str(SCREENSHOTS / f'{_name(path)}-390.png'), full_page=False)
        assert not v.errors, f'{path}: console errors at 390px {v.errors}'
    finally:
        v.close()


def _assert_axe_clean(page, where: str, code_lines: bool = False):
    # The highlighted code lines (thousands of token spans per page) are left out by default:
    # their colours are the same token classes on every page, audited once for every class in
    # both palettes by `test_every_code_token_colour_is_legible_in_both_palettes`; the code
    # blocks themselves (focusable, scrollable, labelled) stay in every audit
    page.add_script_tag(content=AXE.read_text(encoding='utf-8'))
    context = 'document' if code_lines else "{exclude: [['.lit-cl']]}"
    result = page.evaluate('''async () => {
        const r = await axe.run(%s, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({
            id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }''' % context)
    assert result == [], f'{where}: axe violations {result}'


def test_every_code_token_colour_is_legible_in_both_palettes(browser, site_url):
    # Every token class Pygments can write (not only those some page uses today), on the code
    # block's background, in the light and the dark palette, by axe's contrast rule; and the
    # LayerNorm page's real code lines audited whole
    from pygments.token import STANDARD_TYPES
    classes = sorted({c for c in STANDARD_TYPES.values() if c})
    v = Visit(browser, site_url + '/labml_nn_norm/layer_norm/', 1280)
    try:
        page = v.page
        page.evaluate('''(classes) => {
            const pre = document.createElement('pre');
            pre.className = 'lit-src'; pre.id = 'lit-token-sample'; pre.tabIndex = 0;
            pre.innerHTML = classes.map(c => `<span class="lit-cl"><span class="${c}">token ${c}`
                                               + '</span></span>').join('\\n');
            const box = document.createElement('div');
            box.className = 'lit-code';
            box.appendChild(pre);
            document.querySelector('.lit-row .lit-code').parentElement.appendChild(box);
        }''', classes)
        assert page.locator('#lit-token-sample span[class]').count() >= 2 * len(classes) - 1
        _assert_axe_clean(page, 'layer_norm with every token class, light', code_lines=True)
        page.add_style_tag(content='*, *::before, *::after { transition: none !important; }')
        page.locator('label.md-header__button[for^="__palette"]:visible').first.click()
        page.wait_for_timeout(100)
        assert page.evaluate('document.body.getAttribute("data-md-color-scheme")') == 'slate'
        _assert_axe_clean(page, 'layer_norm with every token class, dark', code_lines=True)
    finally:
        v.close()


def _assert_copy_button(page, path: str):
    button = page.locator('.lit-copy').first
    button.scroll_into_view_if_needed()
    button.click()
    page.wait_for_timeout(100)
    copied = page.evaluate('navigator.clipboard.readText()')
    # The line numbers the page shows: a CSS counter reset at the first line and after each gap
    numbers = page.evaluate('''() => {
        let n = 0;
        return [...document.querySelector('.lit-code').querySelectorAll('.lit-cl')].map(e => {
            const reset = /lit-ln (\\d+)/.exec(e.getAttribute('style') || '');
            n = reset ? +reset[1] + 1 : n + 1;
            return n;
        });
    }''')
    source_file = [s for s, p in page_sources() if _url_path(p) == path.removeprefix('zh/')][0]
    source = source_file.read_text(encoding='utf-8')
    lines = source.splitlines()
    code = '\n'.join(lines[n - 1] for n in numbers)
    assert copied == code, f'{path}: copied text is not the code'
    # And the whole module
    page.locator('.lit-copy-all').click()
    page.wait_for_timeout(100)
    assert page.evaluate('navigator.clipboard.readText()') == source


@pytest.mark.parametrize('query,expected', [('LayerNorm', 'Layer'),
                                              # a word that appears only in code, never in prose
                                              ('rsqrt', 'Layer Normalization')])
def test_search_finds_prose_and_code(browser, site_url, query, expected):
    v = Visit(browser, site_url + '/', 1280)
    try:
        v.page.locator('.md-search__input').click()
        v.page.keyboard.type(query)
        v.page.wait_for_selector('.md-search-result__item', timeout=10000)
        titles = v.page.locator('.md-search-result__item').all_inner_texts()
        assert any(expected in t for t in titles), titles
        assert not v.errors, v.errors
    finally:
        v.close()


@pytest.mark.parametrize('query,expected', [('层归一化', 'zh/labml_nn_norm/layer_norm/'),
                                              ('滑动均值', 'zh/labml_nn_norm/batch_norm/')])
def test_chinese_search_finds_chinese_pages_only(browser, site_url, query, expected):
    # On a Chinese page the search finds the Chinese pages (and only those) for a Chinese term
    v = Visit(browser, site_url + '/zh/', 1280)
    try:
        v.page.locator('.md-search__input').click()
        v.page.keyboard.type(query)
        v.page.wait_for_selector('.md-search-result__item', timeout=10000)
        links = v.page.eval_on_selector_all('.md-search-result__item > a',
                                            'els => els.map(e => e.href)')
        paths = [urlparse(u).path.lstrip('/') for u in links]
        assert any(p.startswith(expected) for p in paths), paths
        assert all(p.startswith('zh/') for p in paths), paths
        assert not v.errors, v.errors
    finally:
        v.close()
    # And an English page's search finds no Chinese page
    v = Visit(browser, site_url + '/', 1280)
    try:
        v.page.locator('.md-search__input').click()
        v.page.keyboard.type('LayerNorm')
        v.page.wait_for_selector('.md-search-result__item', timeout=10000)
        links = v.page.eval_on_selector_all('.md-search-result__item > a',
                                            'els => els.map(e => e.href)')
        assert links and not any('/zh/' in u for u in links), links
    finally:
        v.close()


def _links(html: str) -> set:
    """The `href` and `src` attributes of a page's elements (not text that looks like one, such
    as the code of the generator's page)."""
    found = set()

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.update(v for k, v in attrs if k in ('href', 'src') and v)
    Links().feed(html)
    return found


def test_no_broken_links_or_anchors(site_url, site_dir):
    """Every internal link of every page resolves, and every #fragment exists on its target."""
    ids_cache = {}

    def ids_of(url):
        if url not in ids_cache:
            with urllib.request.urlopen(url) as r:
                body = r.read().decode('utf-8', 'replace')
            ids_cache[url] = set(re.findall(r'\bid="([^"]+)"', body))
        return ids_cache[url]

    broken = []
    for path in PAGES:
        base = f'{site_url}/{path}'
        html = urllib.request.urlopen(base).read().decode('utf-8')
        for href in _links(html):
            target = urljoin(base, href)
            # Only this site's own links (the canonical `site_url` names another port)
            if urlparse(target).netloc != urlparse(site_url).netloc:
                continue
            page_url, fragment = urldefrag(target)
            try:
                urllib.request.urlopen(page_url).close()
            except urllib.error.HTTPError as e:
                broken.append(f'{path}: {href} -> {e.code}')
                continue
            if fragment and page_url.endswith('/') and fragment not in ids_of(page_url):
                broken.append(f'{path}: {href} -> no #{fragment}')
    assert not broken, broken


def test_code_lines_fit_their_block_at_1280_and_1024(browser, site_url):
    # Reading code on a laptop (1280 x 800) and on a small laptop or a tablet in landscape
    # (1024 x 768): at most 1% of all code lines are wider than the visible width of their block
    # (the same measure as `python -m scripts.lighthouse`). The English pages only: a Chinese
    # page has the same code lines in the same layout (only the prose differs, and the prose
    # column's width is set by the grid, not by its text)
    from scripts.lighthouse import CLIPPED_JS
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    page = context.new_page()
    counts = {1280: [0, 0, []], 1024: [0, 0, []]}
    for path in [p for p in PAGES if not p.startswith('zh/')]:
        page.set_viewport_size({'width': 1280, 'height': 800})
        page.goto(f'{site_url}/{path}', wait_until='load')
        for width, height in ((1280, 800), (1024, 768)):
            page.set_viewport_size({'width': width, 'height': height})
            found = page.evaluate(CLIPPED_JS)
            counts[width][0] += found['clipped']
            counts[width][1] += found['total']
            if found['clipped']:
                counts[width][2].append(f"{path}: {found['clipped']} of {found['total']}")
    context.close()
    for width, (clipped, total, worst) in counts.items():
        assert total > 1000, f'{width}px: only {total} code lines found'
        assert clipped <= 0.01 * total, \
            f'{width}px: {clipped} of {total} code lines clipped: {worst}'


def test_a_formula_reads_as_math_in_the_accessibility_tree(browser, site_url):
    # What a screen reader gets for a formula: a `math` node with its symbols (from the MathML),
    # not the glyph soup of the visual HTML, which is hidden from it
    v = Visit(browser, site_url + '/labml_nn_norm/layer_norm/', 1280)
    try:
        # The page's equation of LayerNorm, the first display formula
        formula = v.page.locator('.katex-display .katex').first
        formula.scroll_into_view_if_needed()
        tree = formula.aria_snapshot()
        assert tree.lstrip('- ').startswith('math'), tree
        assert any(symbol in tree for symbol in 'γβϵσμ'), tree
        hidden = v.page.evaluate("""() => [...document.querySelectorAll('.katex')].every(
            k => k.querySelector(':scope > .katex-html').getAttribute('aria-hidden') === 'true'
                 && getComputedStyle(k.querySelector(':scope > .katex-mathml')).position
                    === 'absolute')""")
        assert hidden
    finally:
        v.close()


def test_search_index_is_loaded_on_first_use(browser, site_url):
    # The index (the largest file of the site) is not fetched with the page, but as soon as the
    # reader focuses the search field, and search then works
    v = Visit(browser, site_url + '/labml_nn_norm/layer_norm/', 1280)
    try:
        assert not [u for u in v.requests if 'search_index' in u], 'index fetched on page load'
        with v.page.expect_request(lambda r: 'search/search_index.json' in r.url):
            v.page.locator('.md-search__input').click()
        v.page.keyboard.type('rsqrt')
        v.page.wait_for_selector('.md-search-result__item', timeout=10000)
        assert not v.errors, v.errors
    finally:
        v.close()


FIRST_SCREENS = ['', 'labml_nn_norm/layer_norm/', 'labml_nn_norm/ln_vs_bn/',
                 'literate_norm/hooks/', 'zh/labml_nn_norm/layer_norm/']


@pytest.mark.parametrize('width', [390, 1280])
def test_first_screen_needs_only_the_critical_css(browser, site_url, width):
    # Material's main stylesheet arrives after the first paint; until then the page is styled by
    # the inlined rules (literate_norm/critical.css). The first screen must look the same,
    # pixel for pixel, with the main stylesheet never arriving. (The dark palette's rules are in
    # Material's palette stylesheet, which is not deferred.) When this fails after a Material
    # upgrade or a template change: `python -m scripts.critical_css`.
    def screenshot(path, block):
        context = browser.new_context(viewport={'width': width, 'height': 900})
        page = context.new_page()
        if block:
            page.route('**/assets/stylesheets/main.*.min.css', lambda route: route.abort())
        page.goto(f'{site_url}/{path}', wait_until='networkidle')
        page.evaluate('document.fonts.ready')
        page.wait_for_timeout(300)
        # The deferred stylesheet is switched from `print` to `all` when it has loaded
        applied = page.evaluate("""() => document.querySelector(
            'link[rel="stylesheet"][href*="assets/stylesheets/main."][onload]').media === 'all'""")
        image = page.screenshot()
        context.close()
        return applied, image
    for path in FIRST_SCREENS:
        # Up to three tries: under load a font or a late layout can land between the two
        # screenshots; a rule missing from critical.css differs every time
        for _ in range(3):
            full_applied, full = screenshot(path, block=False)
            critical_applied, critical = screenshot(path, block=True)
            assert full_applied and not critical_applied, (path, full_applied, critical_applied)
            if full == critical:
                break
        assert full == critical, \
            f'{path or "home"} at {width}px differs without the main stylesheet'


def _name_index(page, name: str) -> int:
    return page.evaluate('''(name) => [...document.querySelectorAll('.lit-src .n')]
                                        .findIndex(e => e.textContent === name)''', name)


@pytest.mark.parametrize('lang,scheme', [('', 'default'), ('', 'slate'), ('zh/', 'default')])
def test_click_a_name_marks_it_everywhere(browser, site_url, lang, scheme):
    v = Visit(browser, site_url + f'/{lang}labml_nn_norm/layer_norm/', 1280, scheme)
    page = v.page
    try:
        eps = page.locator('.lit-src .n').nth(_name_index(page, 'eps'))
        eps.scroll_into_view_if_needed()
        eps.click()
        marks = page.evaluate('''() => {
            const marked = [...document.querySelectorAll('.lit-mark')];
            const rows = new Set(marked.filter(e => e.closest('.lit-src'))
                                       .map(e => e.closest('.lit-row').id));
            return {
                rows: rows.size,
                code: marked.filter(e => e.closest('.lit-src')).every(e => e.textContent === 'eps'),
                prose: marked.filter(e => e.matches('.lit-prose code, .md-typeset > p code'))
                             .map(e => e.textContent),
                math: marked.filter(e => e.closest('.katex')).map(e => e.textContent),
            };
        }''')
        assert marks['rows'] >= 3 and marks['code'], marks  # in several code rows, only eps
        assert any('eps' in text for text in marks['prose']), marks
        # KaTeX draws \epsilon as U+03F5
        # (KaTeX puts a zero-width space after a symbol with a subscript; the page ignores it too)
        drawn = {m.replace('\u200b', '') for m in marks['math']}
        assert marks['math'] and drawn == {'\u03f5'}, marks
        _assert_axe_clean(page, f'layer_norm with eps marked ({scheme})', code_lines=True)
        page.keyboard.press('Escape')
        assert page.locator('.lit-mark').count() == 0
        # The keyboard: the block's Tab stop is a name; Enter marks it, Escape clears
        first = page.locator('.lit-src [tabindex="0"]').first
        first.focus()
        page.keyboard.press('ArrowRight')
        focused = page.evaluate('document.activeElement.textContent')
        page.keyboard.press('Enter')
        assert page.locator('.lit-src .lit-mark').count() >= 1
        assert page.evaluate('document.activeElement.getAttribute("aria-pressed")') == 'true'
        # (textContent: a folded group's lines, and rows not yet scrolled to, have no innerText)
        marked = page.eval_on_selector_all('.lit-src .lit-mark',
                                           'els => els.map(e => e.textContent)')
        assert marked and all(t == focused for t in marked), (focused, marked[:10])
        page.keyboard.press('Escape')
        assert page.locator('.lit-mark').count() == 0
        assert not v.errors, v.errors
    finally:
        v.close()


@pytest.mark.parametrize('lang', ['', 'zh/'])
def test_live_matrix_matches_the_modules(browser, site_url, lang):
    import torch

    from labml_nn_norm.batch_norm import BatchNorm
    from labml_nn_norm.layer_norm import LayerNorm
    from labml_nn_norm.rms_norm import RMSNorm

    v = Visit(browser, site_url + f'/{lang}labml_nn_norm/ln_vs_bn/', 390)
    page = v.page

    def outputs(kind):
        return page.evaluate('''(kind) => [...document.querySelectorAll(
            `.lit-matrix-out[data-kind="${kind}"] tbody tr`)].map(tr =>
                [...tr.querySelectorAll('td')].map(td => parseFloat(td.textContent)))''', kind)

    def expected(x):
        return {'layer': LayerNorm(4, elementwise_affine=False)(x),
                'batch': BatchNorm(4, affine=False)(x),
                'rms': RMSNorm(4, eps=1e-5, elementwise_affine=False)(x)}
    try:
        inputs = page.locator('.lit-matrix-in input')
        assert inputs.count() == 12
        assert outputs('layer')[0] == [-0.8165, 0.0, 1.6330, -0.8165]
        x = torch.tensor([[1, 2, 4, 1], [6, 3, 2, 4], [2, 4, 6, 1]], dtype=torch.float32)
        x[1, 2] = -3.5
        inputs.nth(6).fill('-3.5')
        x[2, 0] = 10
        inputs.nth(8).focus()
        page.keyboard.press('Control+A')
        page.keyboard.type('10')
        for kind, want in expected(x).items():
            got = torch.tensor(outputs(kind))
            torch.testing.assert_close(got, want.detach(), rtol=0, atol=1e-4,
                                       msg=lambda m: f'{kind}: {m}')
        # The statistics sets of the focused cell (row 3, column 1)
        assert page.locator('.lit-matrix-out[data-kind="layer"] .lit-in-row').count() == 4
        assert page.locator('.lit-matrix-out[data-kind="batch"] .lit-in-col').count() == 3
        # Not a number: said in words, a dash instead of NaN
        inputs.nth(0).fill('')
        status = page.locator('.lit-matrix-status').inner_text()
        assert ('样本 1' if lang else 'sample 1, feature 1') in status, status
        assert '—' in page.locator('.lit-matrix-out[data-kind="layer"]').inner_text()
        assert 'NaN' not in page.locator('.lit-matrix').inner_text()
        page.locator('.lit-matrix-reset').click()
        assert outputs('layer')[0] == [-0.8165, 0.0, 1.6330, -0.8165]
        _assert_axe_clean(page, 'ln_vs_bn live matrix')
        assert not v.errors, v.errors
    finally:
        v.close()
