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

Every page of this site is a Python module, and this package, `literate_norm`, is what
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
   generated page, and [finishes the HTML](finish.md) MkDocs writes; under `mkdocs serve`, a
   rebuild [keeps](serve.md) what did not change since the last one;
5. [**notebook**](notebook.md): each page of the package is also written out as a Jupyter
   notebook that runs top to bottom;
6. [**the Chinese edition**](translate.md): every page again under `zh/`, with the same code
   and its prose from [a translation file](catalog.md) kept in step with the English by the
   build, and its [computed text](computed.md) through templates.

Between parse and write sit [the cache](cache.md): a page's checks run again only when the
code they depend on changes, so a prose edit re-runs no check; and [the runner of the
checks](checks.md). [The list of pages](pages.md) comes from each module's front matter, in a
module that imports nothing from MkDocs, so the hook, the translation tool and the tests share
it. No module imports the hook, and a test reads the imports and fails on a cycle.

Everything embedded is escaped (`<`, `&` and `</script>` in code, strings or comments show as
text), and the output depends on nothing but the input, so two builds give identical bytes.
"""

from pathlib import Path

from literate_norm.highlight import highlight
from literate_norm.notebook import notebook
from literate_norm.parse import GeneratorError, Module, Row, parse
from literate_norm.render import MathCollector, render, substitute_math

__all__ = ['GeneratorError', 'MathCollector', 'Module', 'Row', 'build_page', 'highlight',
           'notebook', 'parse', 'render', 'substitute_math']


def build_page(path: Path, lang: str = 'en') -> str:
    """
    ## One page, outside MkDocs

    The whole pipeline for one module, as a function: parse, translate (for `lang='zh'`),
    highlight, render, then Markdown and KaTeX, into the HTML of the article. The "Run it" box
    shows the page's last finished run of its checks, if there is one; nothing is run.
    `python -m literate_norm FILE` writes it to a file you can open in a browser.
    """
    import markdown

    from literate_norm import translate
    from literate_norm.checks import latest_result, read_result
    from literate_norm.pages import ROOT, module_name
    path = Path(path).resolve()
    module = parse(str(path.relative_to(ROOT)), path.read_text(encoding='utf-8'))
    if lang == 'zh':
        module, _ = translate.translate_module(module, translate.load(
            translate.catalog_path(path)))
    last = latest_result(module_name(path))
    run = read_result(last, module_name(path)) if last else None
    math = MathCollector()
    # The site's name for the copy of the source beside the page, and the page's language
    source_name = 'index.py' if path.name == '__init__.py' else path.name
    content = render(module, highlight(module), math, run, source_name, [], lang=lang)
    body = content.split('\n---\n', 2)[-1]  # the front matter is MkDocs' business
    html = markdown.markdown(body, extensions=['tables', 'admonition', 'attr_list', 'md_in_html',
                                               'toc'])
    return substitute_math(html, math.render())

# ## Sources
#
# * The four steps' own pages list what each relies on: Python's `ast` and `tokenize`, Pygments,
#   KaTeX, Jinja, Python-Markdown and MkDocs.
# * The layout, prose beside code row by row, follows [nn.labml.ai](https://nn.labml.ai)'s annotated
#   implementations.
