r"""
---
title: What a rebuild keeps
summary: Under mkdocs serve every edit rebuilds the whole site; what did not change since the
  last build (a page's parse, its Markdown's HTML, its search entries) is taken from that build.
section: How this site is made
order: 48.5
nav: What a rebuild keeps
---

# What a rebuild keeps

`mkdocs serve` rebuilds the whole site after every edit, in the same process: it loads
[the hook](hooks.md) afresh, but this module stays imported, so what it holds outlives a
rebuild. Each thing kept is found again by *everything* it was made from (the source text, the
Markdown, the HTML), never by a file name or a date: a rebuild that takes it gives the same site
as one that makes it again. One build of `mkdocs build` finds nothing kept and makes everything.

Three things are kept, the three that took most of a rebuild's time. After a prose edit of the
RMSNorm page, a rebuild took 4.2 s without them and takes 1.7 s with them, and the browser shows
the edit 2.2 s after the file is saved (two cores; `python -m scripts.budget` measures it):

* a page's parse and highlighting, by its source text;
* the HTML that Markdown makes of a page, with what MkDocs learns while converting it (the
  headings, the anchors and the links to other pages' anchors), by the Markdown text;
* a page's entries in the search index, by its HTML, title, headings and metadata.
"""

import copy
import logging
from typing import Dict, Optional, Tuple

import literate_norm as literate

# ## A page's parse and highlighting
_PARSED: Dict[Tuple[str, str], tuple] = {}
_PARSED_NOW: Dict[Tuple[str, str], tuple] = {}


def parsed(rel: str, source: str):
    """The page's module (a copy: the build puts computed text into it) and its highlighted
    code lines, made or taken from the last build."""
    key = (rel, source)
    if key not in _PARSED:
        module = literate.parse(rel, source)
        _PARSED[key] = (module, literate.highlight(module))
    else:
        TAKEN['parsed'] += 1
    _PARSED_NOW[key] = _PARSED[key]
    module, lines = _PARSED[key]
    return copy.deepcopy(module), lines


def new_build():
    """Forget what the last build did not use (the old versions of edited pages)."""
    for kept, now in ((_PARSED, _PARSED_NOW), (_CONVERTED, _CONVERTED_NOW),
                      (_SEARCH, _SEARCH_NOW)):
        kept.clear()
        kept.update(now)
        now.clear()
    TAKEN.update(parsed=0, converted=0, search=0)


# How many of each this build took from the last (the tests read it)
TAKEN = {'parsed': 0, 'converted': 0, 'search': 0}


# ## A page's Markdown, converted
#
# MkDocs converts every page's Markdown at every build, and while it converts it learns the
# page's headings (the table of contents), the anchors the page has and the links to anchors of
# other pages (checked at the end of the build). A page whose Markdown is that of the last build
# is handed to Markdown as one word (`LITKEPT`); its HTML and what MkDocs learned are put back
# when MkDocs hands the page on (`on_page_content`). A conversion that logged a warning (a broken
# link) is not kept, so that the warning comes again at every rebuild until it is fixed.
_CONVERTED: Dict[tuple, dict] = {}
_CONVERTED_NOW: Dict[tuple, dict] = {}
KEPT_MARKDOWN = 'LITKEPT'


class _Warnings(logging.Handler):
    count = 0

    def emit(self, record):
        if record.levelno >= logging.WARNING:
            _Warnings.count += 1


_WARNINGS = _Warnings()
logging.getLogger('mkdocs').addHandler(_WARNINGS)


class Converted:
    """One build's use of the kept conversions."""

    def __init__(self, config, files):
        self.files = files
        # The extensions make the HTML
        self.setting = (repr(config['markdown_extensions']), repr(config['mdx_configs']),
                        config['use_directory_urls'])
        self.pending: Dict[str, Optional[tuple]] = {}

    def markdown(self, page, markdown: str) -> str:
        """The Markdown to convert: the page's own, or the placeholder if it was kept."""
        # Links resolve against the site's files, as they are when the page is converted (a
        # page's figures are added just before it)
        files = tuple(sorted(f.src_uri for f in self.files))
        key = (self.setting, files, page.file.src_uri, markdown)
        self.pending[page.file.src_uri] = (key, _Warnings.count)
        return KEPT_MARKDOWN if key in _CONVERTED else markdown

    def content(self, page, html: str) -> str:
        """The page's HTML, put back if it was kept (with its headings, anchors and links), or
        kept for the next build."""
        key, warnings = self.pending.pop(page.file.src_uri)
        kept = _CONVERTED.get(key)
        if kept is not None:
            page.toc = copy.deepcopy(kept['toc'])
            page.present_anchor_ids = set(kept['anchors'])
            page.links_to_anchors = {self.files.get_file_from_path(uri): dict(links)
                                     for uri, links in kept['links'].items()}
            page._title_from_render = kept['title']
            _CONVERTED_NOW[key] = kept
            TAKEN['converted'] += 1
            return kept['html']
        if _Warnings.count == warnings:
            _CONVERTED_NOW[key] = _CONVERTED[key] = {
                'html': html, 'toc': copy.deepcopy(page.toc),
                'anchors': set(page.present_anchor_ids or ()),
                'links': {f.src_uri: dict(links)
                          for f, links in (page.links_to_anchors or {}).items()},
                'title': page._title_from_render}
        return html


# ## A page's search entries
_SEARCH: Dict[tuple, list] = {}
_SEARCH_NOW: Dict[tuple, list] = {}


class SearchEarly:
    """
    Material's search indexes a page when its HTML is written, after every page has been
    converted. [The hook](hooks.md) calls `add` as soon as a page is converted
    (`on_page_content`), while the checks of other pages still run; the search plugin's own
    call, later, finds the page done. The entries go into the index in the site's order
    (`flush`), whatever order the pages were converted in, so that two builds write the same
    index. A page whose HTML, title, headings and metadata are those of the last build gets
    that build's entries again.
    """

    def __init__(self, config):
        plugin = next((p for p in config.plugins.values() if hasattr(p, 'search_index')), None)
        self.index = plugin.search_index if plugin is not None else None
        self.entries: Dict[str, list] = {}
        self.done, self.flushed = set(), False
        if self.index is not None:
            self._add = self.index.add_entry_from_context
            self.settings = repr(sorted(plugin.config.items()))
            self.index.add_entry_from_context = self.add

    def add(self, page):
        if self.index is None or page.file.src_uri in self.done:
            return
        self.done.add(page.file.src_uri)

        def headings(items):
            return [(i.id, i.title, i.level, headings(i.children)) for i in items]
        key = (self.settings, page.url, page.title, page.content, repr(headings(page.toc)),
               repr(page.meta))
        if key in _SEARCH:
            entries = copy.deepcopy(_SEARCH[key])
            TAKEN['search'] += 1
        else:
            start = len(self.index.entries)
            self._add(page)
            entries = self.index.entries[start:]
            del self.index.entries[start:]
            _SEARCH[key] = copy.deepcopy(entries)
        _SEARCH_NOW[key] = _SEARCH[key]
        if self.flushed:
            self.index.entries.extend(entries)
        else:
            self.entries[page.file.src_uri] = entries

    def flush(self, pages):
        """Every page's entries into the index, in the order of `pages`."""
        for page in pages:
            self.add(page)
        for page in pages:
            self.index.entries.extend(self.entries.pop(page.file.src_uri, []))
        self.flushed = True


# ## Sources
#
# * MkDocs 1.6.1, the installed package: `mkdocs/structure/pages.py` L263-L292, `Page.render`
#   sets `content`, `toc`, `_title_from_render`, `present_anchor_ids` and `links_to_anchors`;
#   L304, `validate_anchor_links` checks the links once every page is converted;
#   `mkdocs/commands/build.py` L147-L183, `_populate_page` (read, `on_page_markdown`, render,
#   `on_page_content`).
# * Material for MkDocs 9.8.2, the installed package, `material/plugins/search/plugin.py`:
#   L126-L136, `on_page_context` calls `search_index.add_entry_from_context(page)`;
#   L181-L241, `add_entry_from_context` reads the page's `content`, `toc`, `url`, `title` and
#   `meta` and appends to `search_index.entries`.
