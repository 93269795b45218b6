r"""
---
title: "Step 6c: computed text in Chinese"
summary: The tables, notes and figures a page computes at build time are translated unit by unit
  by templates with slots for the numbers, so a rerun with new numbers needs no new Chinese.
section: How this site is made
order: 53
nav: "Step 6c: computed text"
---

# Computed text in Chinese

A page's `_artifacts()` writes Markdown (tables, notes) or HTML/SVG with English in it and
numbers that change from run to run. Each *unit* of it (a table cell, a line of text, an HTML
text node or `aria-label`) is translated whole by the first template that matches it all:
`en: "sample <1>, feature <2>"`, `zh: "样本 <1>，特征 <2>"`, where `<n>` stands for any text.
"""

import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from literate_norm.catalog import Catalog, short


def _template(en: str) -> re.Pattern:
    parts = re.split(r'<(\d)>', en)
    pattern = ''.join(re.escape(p) if i % 2 == 0 else f'(?P<s{p}>.+?)'
                      for i, p in enumerate(parts))
    return re.compile(pattern + r'\Z', re.S)


# English words that Chinese technical writing keeps as they are
_KEPT = {'ms', 'vs', 'lr', 'GB', 'NaN'}
_CODE_OR_MATH = re.compile(r'`[^`]*`|\$[^$]+\$|\*\*[^*]*\*\*')


def needs_chinese(unit: str) -> bool:
    """A unit needs Chinese if, outside code and math, it has a lowercase English word."""
    text = _CODE_OR_MATH.sub(' ', unit)
    words = re.findall(r'(?<![\w.\-])[a-z][a-z]+(?![\w.(\-])', text)
    return any(w not in _KEPT for w in words)


class Templates:
    def __init__(self, catalog: Catalog):
        # The most specific first: the template with the most literal text
        ordered = sorted(catalog.generated, key=lambda t: -len(re.sub(r'<\d>', '', t['en'])))
        self.items = [(_template(t['en']), t['zh']) for t in ordered]

    def unit(self, text: str, depth: int = 0) -> Optional[str]:
        """
        The Chinese of one unit, or `None` if it needs Chinese and no template gives it. A slot
        whose text is itself a unit with a template is translated too (a table cell "**reproduces**:
        grows (...)" is one template, its verdict and its trend two more).
        """
        stripped = text.strip()
        if not stripped:
            return text
        for pattern, zh in self.items:
            match = pattern.match(stripped)
            if match:
                def slot(m: re.Match) -> str:
                    value = match.group(f's{m.group(1)}')
                    inner = self.unit(value, depth + 1) if depth < 3 else None
                    return value if inner is None else inner
                out = re.sub(r'<(\d)>', slot, zh)
                if depth == 0 and _ENGLISH_PHRASE.search(_CODE_OR_MATH.sub(' ', out)):
                    return None
                return text[:len(text) - len(text.lstrip())] + out + text[len(text.rstrip()):]
        return None if needs_chinese(stripped) else text


# Two English words in a row left in a translated unit: a slot whose text had no template
_ENGLISH_PHRASE = re.compile(r'(?<![\w.\-])[a-z]{2,} [a-z]{2,}(?![\w(])')


def translate_generated(text: str, catalog: Catalog, where: str) -> Tuple[str, List[str]]:
    """
    Translate a computed Markdown or HTML/SVG text unit by unit; returns the text and the units
    that need Chinese and have no template.
    """
    templates, missing = Templates(catalog), []

    def unit(piece: str) -> str:
        out = templates.unit(piece)
        if out is None:
            missing.append(f'{where}: no Chinese template for "{short(piece.strip(), 90)}"')
            return piece
        return out
    if re.match(r'\s*<(\?xml|svg)', text):
        # A figure: the text of its `<text>` and `<tspan>` elements
        return re.sub(r'(<(text|tspan)\b[^>]*>)([^<]+)(?=<)',
                      lambda m: m.group(1) + unit(m.group(3)), text), missing
    if text.lstrip().startswith('<'):
        # HTML: text nodes, and the labels a screen reader reads
        text = re.sub(r'(?<=>)([^<>]+)(?=<)', lambda m: unit(m.group(1)), text)
        text = re.sub(r'((?:aria-label|title|alt)=")([^"]*)(")',
                      lambda m: m.group(1) + unit(m.group(2)) + m.group(3), text)
        return text, missing
    out = []
    for line in text.split('\n'):
        if re.match(r'\s*\|', line):
            if re.fullmatch(r'[\s|:\-]+', line):
                out.append(line)
                continue
            cells = line.strip().strip('|').split(' | ')
            out.append('| ' + ' | '.join(unit(c.strip()) for c in cells) + ' |')
            continue
        marker = re.match(r'\s*(?:[*\-] |\d+\. )?', line).group(0)
        out.append(marker + unit(line[len(marker):]) if line.strip() else line)
    return '\n'.join(out), missing


def computed_text(module, folder: Path, lang: str, catalog: Catalog,
                  rel: str) -> Tuple[Dict[str, bytes], List[str]]:
    """
    ## Into the page

    What a page's run wrote to `folder`, in the page's language: each Markdown text replaces
    the prose line `{{ name }}` of the module (changed in place), and each figure is returned by
    its file name. Also returned: the units that had no Chinese template.
    """
    figures, missing = {}, []

    def text(path: Path) -> str:
        content = path.read_text(encoding='utf-8')
        if lang == 'en':
            return content
        content, lacking = translate_generated(content, catalog, f'{rel}: {path.name}')
        missing.extend(lacking)
        return content
    for md in sorted(folder.glob('*.md')):
        placeholder, value = '{{ %s }}' % md.stem, text(md)
        module.intro = module.intro.replace(placeholder, value)
        for row in module.rows:
            row.prose = [p.replace(placeholder, value) for p in row.prose]
    for svg in sorted(folder.glob('*.svg')):
        figures[svg.name] = text(svg).encode('utf-8')
    return figures, missing


# ## Sources
#
# * Python 3.11, [`re`](https://docs.python.org/3.11/library/re.html): each template becomes one
#   pattern matched against a whole unit (`\Z`), its slots `<n>` as named non-greedy groups.
