r"""
---
title: The page generator
summary: How a Python module becomes a page of prose beside code - parse, highlight, render, write - in the literate style it produces.
---

# The page generator

Every page of this site is a Python module, and this module is what turns one into a page:
prose and math on the left, the code they explain on the right, row by row. It is itself
written in that style, so this page is its own output.

A module becomes a page in four named steps:

1. **parse**: Python's own `ast` finds the docstrings and `tokenize` finds the comments
   (a `#` inside a string is not a comment, and only the tokenizer knows that); every source
   line is classified as prose or code and grouped into rows;
2. **highlight**: Pygments colours the whole file at once, so that multi-line strings are
   coloured right, and the result is cut back into lines that keep their line numbers;
3. **render**: prose goes through Markdown, math through KaTeX (at build time, by
   `katex_render.js`, so readers load no script and nothing from a CDN), and a Jinja template
   (`templates/page.html`) lays out the rows;
4. **write**: the MkDocs hook (`hooks.py`) hands the result to MkDocs as a generated page.

Everything embedded is escaped (`<`, `&` and `</script>` in code, strings or comments show as
text), and the output depends on nothing but the input, so two builds give identical bytes.
"""

import ast
import io
import json
import re
import subprocess
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

HERE = Path(__file__).resolve().parent


class GeneratorError(Exception):
    """A module that cannot become a page; the message starts with `file:line`."""


@dataclass
class Row:
    """One side-by-side row: prose (Markdown) on the left, code lines on the right."""
    prose: List[str] = field(default_factory=list)
    # (line number, source text) pairs
    code: List[Tuple[int, str]] = field(default_factory=list)
    # The source line where the row's prose starts, for error messages
    line: int = 0


@dataclass
class Module:
    """A parsed module: its front matter, the opening prose and the rows."""
    path: str
    source: str
    meta: Dict[str, str]
    intro: str
    intro_line: int
    rows: List[Row]


def _docstring_lines(tree: ast.Module) -> Tuple[Optional[Tuple[int, int, str]], Dict[int, Tuple[int, int, str]]]:
    """
    ## Step 1: parse

    ### Where the docstrings are

    `ast` tells us which string literals are docstrings: the first statement of the module,
    of a class or of a function. We return the module's `(first line, last line, text)` and,
    for the others, a map from the line where their `def`/`class` (or first decorator) starts.
    """
    def doc(node) -> Optional[Tuple[int, int, str]]:
        body = getattr(node, 'body', None)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            return body[0].lineno, body[0].end_lineno, ast.get_docstring(node, clean=True) or ''
        return None
    #
    defs = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found = doc(node)
            if found:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                defs[start] = found
    return doc(tree), defs


def _comment_lines(source: str) -> Dict[int, str]:
    """
    ### Where the comments are

    A line is a prose comment when its only token is a `COMMENT`. The tokenizer, unlike a
    regular expression, knows that `"# not a comment"` is a string. Same-line comments after
    code stay with the code.
    """
    comments, code_lines = {}, set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                              tokenize.ENDMARKER, tokenize.ENCODING):
            # A token spanning several lines (a string) makes all of them code
            code_lines.update(range(tok.start[0], tok.end[0] + 1))
    return {n: c for n, c in comments.items() if n not in code_lines}


def _comment_text(comment: str) -> str:
    # `# text` becomes `text`; a lone `#` becomes an empty string (the row separator)
    text = comment[1:]
    return text[1:] if text.startswith(' ') else text


def _front_matter(doc: str) -> Tuple[Dict[str, str], str]:
    """The module docstring may start with `---`, `key: value` lines and `---`."""
    meta = {}
    match = re.match(r'\A---\n(.*?)\n---\n', doc, re.S)
    if match:
        for line in match.group(1).splitlines():
            key, _, value = line.partition(':')
            meta[key.strip()] = value.strip()
        doc = doc[match.end():]
    return meta, doc.strip('\n')


def parse(path: str, source: str) -> Module:
    """
    ### Lines into rows

    Walk the lines once. A comment or docstring line after some code starts a new row, so each
    row reads "prose, then the code it explains". An empty `#` line also starts a new row.
    The docstring of a function or class is the prose of the row that holds its `def`/`class`
    line (and decorators).
    """
    try:
        tree = ast.parse(source, filename=path)
        comments = _comment_lines(source)
    except SyntaxError as e:
        raise GeneratorError(f'{path}:{e.lineno}: {e.msg}') from e
    except tokenize.TokenError as e:
        raise GeneratorError(f'{path}:{e.args[1][0]}: {e.args[0]}') from e
    module_doc, def_docs = _docstring_lines(tree)
    meta, intro = _front_matter(module_doc[2]) if module_doc else ({}, '')
    #
    # The lines that belong to a docstring are not code
    doc_lines = set()
    for first, last, _ in ([module_doc] if module_doc else []) + list(def_docs.values()):
        doc_lines.update(range(first, last + 1))
    #
    rows = [Row()]
    for number, text in enumerate(source.splitlines(), start=1):
        row = rows[-1]
        if number in doc_lines:
            continue
        if number in def_docs:
            # A documented `def`/`class`: a fresh row whose prose is the docstring
            if row.code:
                rows.append(Row(line=number))
                row = rows[-1]
            row.prose.append(def_docs[number][2])
            row.code.append((number, text))
        elif number in comments:
            prose = _comment_text(comments[number].strip())
            if prose == '':
                # A lone `#`: the end of this row
                if row.code or row.prose:
                    rows.append(Row())
                continue
            if row.code:
                rows.append(Row())
                row = rows[-1]
            row.prose.append(prose)
            row.line = row.line or number
        else:
            row.code.append((number, text))
    #
    # Blank lines at the edges of a row's code add nothing to read
    for row in rows:
        while row.code and not row.code[-1][1].strip():
            row.code.pop()
        while row.code and not row.code[0][1].strip():
            row.code.pop(0)
    rows = [r for r in rows if r.code or any(p.strip() for p in r.prose)]
    return Module(path, source, meta, intro, module_doc[0] if module_doc else 1, rows)


def highlight(module: Module) -> Dict[int, str]:
    """
    ## Step 2: highlight

    Pygments colours the whole file in one go (a row boundary never falls inside a token, but
    a multi-line string needs its opening quote to be coloured right). With `nowrap`, the
    formatter closes and reopens its `<span>`s at every newline, so the output can be cut into
    lines again: line $n$ of the output is line $n$ of the source, already HTML-escaped.
    """
    formatter = HtmlFormatter(nowrap=True, classprefix='tok-')
    out = pygments_highlight(module.source, PythonLexer(stripnl=False, ensurenl=True), formatter)
    # Plain names, punctuation and spaces are not coloured: their spans are only weight
    out = re.sub(r'<span class="tok-(?:n|p|w)">([^<]*)</span>', r'\1', out)
    return {n: line for n, line in enumerate(out.split('\n'), start=1)}


# Display math `$$…$$` first, then inline `$…$` (not `\$`, and not spanning a blank line)
_MATH = re.compile(r'\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)((?:[^$\n]|\n(?!\n))+?)(?<!\s)\$', re.S)
# Code spans and fenced blocks keep their dollars
_CODE = re.compile(r'(```.*?```|`[^`\n]*`)', re.S)


class MathCollector:
    """
    ## Step 3: render

    ### Math

    Math is cut out of the prose before Markdown sees it (Markdown would read `x_i * y_j` as
    emphasis) and replaced by a placeholder. All formulas of the whole build are then rendered
    in one call to KaTeX, and the placeholders are swapped for the HTML at the very end.
    """

    def __init__(self):
        self.formulas: List[Tuple[str, bool, str]] = []  # (tex, display, where)

    def extract(self, text: str, where: str) -> str:
        def math(m: re.Match) -> str:
            display = m.group(1) is not None
            self.formulas.append((m.group(1) if display else m.group(2), display, where))
            return f'KATEXMATH{len(self.formulas) - 1}X'
        # Only outside code spans
        return ''.join(part if i % 2 else _MATH.sub(math, part) for i, part in enumerate(_CODE.split(text)))

    def render(self) -> List[str]:
        if not self.formulas:
            return []
        request = json.dumps([{'tex': t, 'display': d} for t, d, _ in self.formulas])
        done = subprocess.run(['node', str(HERE / 'katex_render.js')], input=request, capture_output=True,
                              text=True, cwd=HERE.parent, check=False)
        if done.returncode != 0:
            raise GeneratorError(f'KaTeX failed: {done.stderr.strip()}')
        results = json.loads(done.stdout)
        # A formula KaTeX cannot parse fails the build, naming where it was written
        for (tex, _, where), result in zip(self.formulas, results):
            if 'error' in result:
                raise GeneratorError(f'{where}: malformed math ${tex}$: {result["error"]}')
        return [r['html'] for r in results]


def substitute_math(text: str, rendered: List[str]) -> str:
    # A wide display formula scrolls sideways on a phone: make it reachable by keyboard too
    text = re.sub(r'KATEXMATH(\d+)X', lambda m: rendered[int(m.group(1))], text)
    return text.replace('<span class="katex-display">', '<span class="katex-display" tabindex="0">')


_CODE_SPANS = re.compile(r'(```.*?```|(`+)[^`].*?\2)', re.S)


def _escape_script(text: str) -> str:
    # Prose is Markdown, so raw HTML in it is allowed; a `</script>` would still end the page's
    # scripts, so outside code spans its `<` becomes `&lt;`. Inside a code span Markdown escapes
    # it itself (escaping it here too would show `&lt;` on the page)
    parts = _CODE_SPANS.split(text)
    out = []
    for i, part in enumerate(parts):
        # `split` yields: text, whole code span, its backticks, text, ...
        if i % 3 == 0:
            out.append(re.sub(r'<(?=/?script)', '&lt;', part, flags=re.I))
        elif i % 3 == 1:
            out.append(part)
    return ''.join(out)


_templates = Environment(loader=FileSystemLoader(HERE / 'templates'),
                         autoescape=select_autoescape(['html']), keep_trailing_newline=True)


def render(module: Module, lines: Dict[int, str], math: MathCollector, run: Optional[dict],
           source_name: str, breadcrumbs: List[Tuple[str, str]]) -> str:
    """
    ### The page

    Rows become dictionaries for the template: prose as Markdown with math placeholders (MkDocs
    renders it, so links between pages are checked and rewritten), and code as highlighted
    lines with their numbers. The copy button reads the lines' text back from the page, and
    "copy the whole module" fetches the source file shipped beside the page, so the page
    carries no second copy of the code.
    """
    # A last row of prose alone that opens with `## Sources` is the page's list of sources: it
    # goes after the "Run it" box, at full width, so every page ends with what it relies on
    # (an empty `#` inside it only starts a new paragraph)
    body, sources = module.rows, ''
    for k, row in enumerate(module.rows):
        if row.prose and row.prose[0].strip() == '## Sources' and not any(r.code for r in module.rows[k:]):
            body = module.rows[:k]
            text = '\n\n'.join('\n'.join(r.prose) for r in module.rows[k:])
            sources = _escape_script(math.extract(text, f'{module.path}:{row.line}'))
            break
    rows = []
    for i, row in enumerate(body, start=1):
        prose = math.extract('\n'.join(row.prose), f'{module.path}:{row.line or (row.code[0][0] if row.code else 1)}')
        rows.append({
            'id': f'row-{i}',
            'prose': _escape_script(prose),
            'lines': [(n, lines.get(n, '')) for n, _ in row.code],
        })
    title = module.meta.get('title') or Path(module.path).stem
    intro = math.extract(_escape_script(module.intro), f'{module.path}:{module.intro_line}')
    return _templates.get_template('page.html').render(
        title=title, summary=module.meta.get('summary', ''), intro=intro, rows=rows, run=run,
        path=module.path, source_name=source_name, breadcrumbs=breadcrumbs, sources=sources)


def _test():
    """The generator's checks live in `tests/test_generator.py`; run them with `scripts/test.sh -k generator`."""
    module = parse('example.py', '"""Doc"""\n# prose\nx = 1  # same line\n#\n# next\ny = "# not a comment"\n')
    assert [r.code for r in module.rows] == [[(3, 'x = 1  # same line')], [(6, 'y = "# not a comment"')]]

# ## Sources
#
# * Python, [`ast`](https://docs.python.org/3.11/library/ast.html) (docstrings and their line numbers)
#   and [`tokenize`](https://docs.python.org/3.11/library/tokenize.html) (comments, which `ast` drops).
# * [Pygments 2.21 `HtmlFormatter`](https://pygments.org/docs/formatters/#HtmlFormatter): the highlighter.
# * [KaTeX 0.16 API](https://katex.org/docs/api.html) and [options](https://katex.org/docs/options.html):
#   `renderToString` with `throwOnError`, run at build time.
# * [MkDocs 1.6 hooks](https://www.mkdocs.org/user-guide/configuration/#hooks) and the
#   [`File.generated`](https://www.mkdocs.org/dev-guide/api/#mkdocs.structure.files.File.generated)
#   API that adds the pages; Python-Markdown's
#   [`md_in_html`](https://python-markdown.github.io/extensions/md_in_html/), which renders prose
#   inside the page's HTML rows.
# * [Jinja](https://jinja.palletsprojects.com/en/stable/templates/) templates, with autoescape.
