r"""
---
title: The finished HTML
summary: What is changed in every page after MkDocs has written it - the links between an
  English page and its Chinese twin, and two changes for the first paint.
section: How this site is made
order: 49
nav: The finished HTML
---

# The finished HTML

MkDocs hands [the hook](hooks.md) each page's finished HTML (`on_post_page`), and the hook
passes it here. Apart from the code blocks, which skip Markdown and come back whole, and the
Chinese headings' ids, nothing here reads the page's prose or code: only the theme's markup
around the article, which is the same on every page.
"""

import html
import posixpath
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
ZH_SITE_NAME = '层归一化，逐行注解'


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


def finish_page(output: str, uri: str, twins: Dict[str, str], site_name: str,
                site_url: str) -> Tuple[str, Optional[str]]:
    """The page's HTML, finished; and a problem to report, if any (a stale `critical.css`)."""
    output = _languages(output, uri, twins, site_name, site_url)
    output = _BUNDLE.sub(r'<script defer src="\1"></script>', output, count=1)
    link = _MAIN_CSS.search(output)
    if link is None:
        return output, None
    rules, source = _critical_css()
    if source != link.group(2):
        return output, (f'{CRITICAL_CSS.relative_to(ROOT)} was taken from {source or "?"}, but '
                        f'the theme now has {link.group(2)}: run `python -m scripts.critical_css`')
    href = link.group(1)
    # `media="print"` makes the browser fetch it at a low priority without waiting for it;
    # once loaded it is switched to every medium
    inline = (f'<style>{rules}</style>'
              f'<link rel="stylesheet" href="{href}" media="print" onload="this.media=\'all\'">'
              f'<noscript><link rel="stylesheet" href="{href}"></noscript>')
    return output[:link.start()] + inline + output[link.end():], None


def _url(uri: str) -> str:
    # A page's URL in the site, from its path in the docs (`a/index.md` → `a/`, `a/b.md` → `a/b/`)
    uri = re.sub(r'(^|/)index\.md$', r'\1', uri)
    return re.sub(r'\.md$', '/', uri)


def _relative(target: str, base: str) -> str:
    # From the folder of page URL `base` to page URL `target`
    rel = posixpath.relpath(target or '.', base or '.')
    return '' if rel == '.' else rel + '/'


_LANG_SWITCH = ('<div class="md-header__option"><a class="md-header__button lit-lang" '
                'href="{href}" hreflang="{hreflang}" lang="{hreflang}" title="{title}">'
                '{label}</a></div>')


def _languages(output: str, uri: str, twins: Dict[str, str], site_name: str,
               site_url: str) -> str:
    """
    ## Two languages, one site

    Every English page and its Chinese twin link to each other: `<link rel="alternate"
    hreflang>` for search engines, and a switch in the header for readers. A Chinese page also
    gets `lang="zh-CN"`, the site's name in Chinese, and its header's home link to the Chinese
    home page.
    """
    zh = uri.startswith('zh/')
    en_uri = next((e for e, z in twins.items() if z == uri), None) if zh else uri
    zh_uri = twins.get(en_uri) if en_uri else None
    here = _url(uri)
    if zh:
        output = output.replace('<html lang="zh"', '<html lang="zh-CN"', 1)
        # The theme's words around the article (never inside it, where code may quote them)
        start, end = output.find('<article'), output.find('</article>')
        outside = [output[:start], output[end:]] if 0 <= start < end else [output, '']
        for english, chinese in ((html.escape(site_name), ZH_SITE_NAME),
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
    site = (site_url or '').rstrip('/') + '/'
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


class CodeBlocks:
    """
    ## The code skips Markdown

    A row's highlighted code is finished HTML: Markdown's HTML parser would walk every token of
    it. Each block becomes a placeholder before Markdown (`set_aside`), is shown to the search as
    plain text (`plain`: the search indexes the same words from one text node instead of parsing
    a `<span>` per token; half the build's time went there), and comes back whole in the
    finished page (`restore`).
    """
    # A row's code block, as `templates/page.html` writes it
    BLOCK = re.compile(r'<div class="lit-code"><button [^>]*>[^<]*</button>'
                       r'<pre class="lit-src"[^>]*>.*?</pre></div>', re.S)
    _PLACEHOLDER = re.compile(r'<div class="lit-code">(?:<p>)?LITCODEBLOCK(\d+)X(?:</p>)?</div>')
    _PLAIN = re.compile(r'<div class="lit-code" data-lit-block="(\d+)"><pre>.*?</pre></div>', re.S)

    def __init__(self):
        self.blocks: List[str] = []

    def set_aside(self, content: str) -> str:
        def aside(m: re.Match) -> str:
            self.blocks.append(m.group(0))
            return f'<div class="lit-code">LITCODEBLOCK{len(self.blocks) - 1}X</div>'
        return self.BLOCK.sub(aside, content)

    def plain(self, html_: str) -> str:
        def text(m: re.Match) -> str:
            n = int(m.group(1))
            words = re.sub(r'<button [^>]*>[^<]*</button>|<[^>]+>', '', self.blocks[n])
            return f'<div class="lit-code" data-lit-block="{n}"><pre>{words}</pre></div>'
        return self._PLACEHOLDER.sub(text, html_)

    def restore(self, output: str) -> str:
        return self._PLAIN.sub(lambda m: self.blocks[int(m.group(1))], output)


_HEADING_LINE = re.compile(r'^(#{1,6}[ \t]+\S.*?)[ \t]*$', re.M)


def english_ids(markdown: str, ids: List[str]) -> Tuple[str, Optional[str]]:
    """
    ## The Chinese headings keep the English ids

    A Chinese heading keeps the `id` of its English one, so that links to `#the-equations` from
    this page or another work in both languages (MkDocs would derive the id from the Chinese
    text). Headings are matched in order; the translation keeps every heading a heading, or the
    problem is returned.
    """
    # Headings outside code (the highlighted code is set aside already; fenced blocks remain)
    parts = re.split(r'(```.*?```)', markdown, flags=re.S)
    found = sum(len(_HEADING_LINE.findall(p)) for p in parts[::2])
    if found != len(ids):
        return markdown, (f'{found} headings, its English page has {len(ids)}: a translation '
                          f'must keep every heading a heading')
    it = iter(ids)
    for i in range(0, len(parts), 2):
        parts[i] = _HEADING_LINE.sub(lambda m: f'{m.group(1)} {{#{next(it)}}}', parts[i])
    return ''.join(parts), None


# ## Sources
#
# * Google Search Central, [localized versions of a page](https://developers.google.com/search/docs/specialty/international/localized-versions):
#   `<link rel="alternate" hreflang>` on every version, each listing all versions and itself, with
#   fully qualified URLs, and `x-default`.
# * HTML Standard, [the `script` element](https://html.spec.whatwg.org/multipage/scripting.html#attr-script-defer):
#   a classic script with `defer` runs when the document has finished parsing, in document order
#   with the other deferred scripts.
