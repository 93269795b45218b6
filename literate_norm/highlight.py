r"""
---
title: "Step 2: highlight"
summary: Pygments colours the whole module at once, and the result is cut back into numbered lines.
section: How this site is made
order: 43
---

# Step 2: highlight

Highlighting line by line would colour a multi-line string wrongly, so the whole file is
highlighted once and cut back into lines afterwards.
"""

import re
from typing import Dict

from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from literate_norm.parse import Module

_highlighted: Dict[str, Dict[int, str]] = {}


def highlight(module: Module) -> Dict[int, str]:
    """
    ## Colour the whole file, then cut it into lines

    Pygments colours the whole file in one go (a row boundary never falls inside a token, but
    a multi-line string needs its opening quote to be coloured right). With `nowrap`, the
    formatter closes and reopens its `<span>`s at every newline, so the output can be cut into
    lines again: line $n$ of the output is line $n$ of the source, already HTML-escaped.
    """
    # The same source gives the same lines: under `mkdocs serve` only edited modules are redone
    if module.source in _highlighted:
        return dict(_highlighted[module.source])
    # Pygments' short token classes (`k` keyword, `n` name, `s1` string...), scoped by the CSS
    # to the code blocks (`.lit-src .k`)
    formatter = HtmlFormatter(nowrap=True)
    out = pygments_highlight(module.source, PythonLexer(stripnl=False, ensurenl=True), formatter)
    # Punctuation and spaces are not coloured: their spans are only weight. Plain names keep
    # theirs, uncoloured: a click on one marks the name everywhere on the page (`literate.js`)
    out = re.sub(r'<span class="(?:p|w)">([^<]*)</span>', r'\1', out)
    # The dot of attribute access is left uncoloured too (as GitHub does): a third of all
    # operator spans on a page, and colour on it only adds noise
    out = out.replace('<span class="o">.</span>', '.')
    _highlighted[module.source] = {n: line for n, line in enumerate(out.split('\n'), start=1)}
    return dict(_highlighted[module.source])

# ## Sources
#
# * [Pygments `HtmlFormatter`](https://pygments.org/docs/formatters/#HtmlFormatter): `nowrap`,
#   as used above.
