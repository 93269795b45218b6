r"""
---
title: The page generator
summary: How a Python module becomes a page of prose beside code - parse, highlight, render,
  write - in the literate style it produces.
section: How this site is made
order: 41
nav: The page generator
---

# The page generator

Every page of this site is a Python module, and this package, `scripts.literate`, is what
turns one into a page: prose and math on the left, the code they explain on the right, row by
row. It is itself written in that style, so these pages are its own output.

A module becomes a page in four named steps, a notebook in a fifth, and a Chinese page in a
sixth:

1. [**parse**](parse.md): Python's own `ast` finds the docstrings and `tokenize` finds the
   comments (a `#` inside a string is not a comment, and only the tokenizer knows that); every
   source line is classified as prose or code and grouped into rows;
2. [**highlight**](highlight.md): Pygments colours the whole file at once, so that multi-line
   strings are coloured right, and the result is cut back into lines that keep their line
   numbers;
3. [**render**](render.md): prose goes through Markdown, math through KaTeX (at build time, by
   `katex_render.js`, so readers load no script and nothing from a CDN), and a Jinja template
   (`templates/page.html`) lays out the rows;
4. [**write**](hooks.md): the MkDocs hook (`hooks.py`) hands the result to MkDocs as a
   generated page;
5. [**notebook**](notebook.md): each page of the package is also written out as a Jupyter
   notebook that runs top to bottom;
6. [**the Chinese edition**](translate.md): every page again under `zh/`, with the same code
   and its prose from a translation file kept in step with the English by the build.

Between parse and write sits [the cache](cache.md): a page's checks run again only when the
code they depend on changes, so a prose edit shows in a second.

Everything embedded is escaped (`<`, `&` and `</script>` in code, strings or comments show as
text), and the output depends on nothing but the input, so two builds give identical bytes.
"""

from scripts.literate.highlight import highlight
from scripts.literate.notebook import notebook
from scripts.literate.parse import GeneratorError, Module, Row, parse
from scripts.literate.render import MathCollector, render, substitute_math

__all__ = ['GeneratorError', 'MathCollector', 'Module', 'Row', 'highlight', 'notebook', 'parse',
           'render', 'substitute_math']

# ## Sources
#
# * The four steps' own pages list what each relies on: Python's `ast` and `tokenize`, Pygments,
#   KaTeX, Jinja, Python-Markdown and MkDocs.
# * The layout, prose beside code row by row, follows [nn.labml.ai](https://nn.labml.ai)'s annotated
#   implementations.
