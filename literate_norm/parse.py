r"""
---
title: "Step 1: parse"
summary: Python's ast and tokenize find the docstrings and comments of a module, and every line
  becomes prose or code of a row.
section: How this site is made
order: 42
---

# Step 1: parse

A page's prose is its module's docstrings and comment lines; everything else is code. `ast`
knows which string literals are docstrings, `tokenize` knows which `#` starts a comment, and
one walk over the lines groups them into rows of "prose, then the code it explains". Line
numbers are kept, so every error names the file and line where it was written.
"""

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple


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
    # Inside a check group the page folds (`@check_group(fold=True)`): the first line of that
    # group's function, 0 when not folded; rows of one group are shown under one summary
    folded: int = 0


@dataclass
class Module:
    """A parsed module: its front matter, the opening prose and the rows."""
    path: str
    source: str
    meta: Dict[str, str]
    intro: str
    intro_line: int
    rows: List[Row]


def statements(tree: ast.AST) -> Iterator[ast.stmt]:
    """Every statement of the tree, nested ones too (a `def` in a function, an `import` in an
    `if`), without visiting expressions: definitions and imports are statements, and an
    expression walk would visit ten times as many nodes."""
    todo = [tree]
    while todo:
        node = todo.pop()
        for name in ('body', 'orelse', 'finalbody', 'handlers', 'cases'):
            children = getattr(node, name, None)
            if isinstance(children, list):
                todo.extend(children)
                yield from (c for c in children if isinstance(c, ast.stmt))


def _docstring_lines(tree: ast.Module) -> Tuple[Optional[Tuple[int, int, str]],
                                                Dict[int, Tuple[int, int, str]]]:
    """
    ## Where the docstrings are

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
    for node in statements(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found = doc(node)
            if found:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                defs[start] = found
    return doc(tree), defs


def _folded_lines(tree: ast.Module) -> Dict[int, int]:
    """
    ## Folded check groups

    The lines of every function decorated `@check_group(fold=True)`, each mapped to the
    function's first line: checks that a page keeps (they run, and their output shows in
    "Run it") but folds out of the reading path, such as conformance to PyTorch across dtypes
    and flags.
    """
    lines: Dict[int, int] = {}
    for node in statements(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for deco in node.decorator_list:
            name = getattr(deco.func, 'id', getattr(deco.func, 'attr', '')) \
                if isinstance(deco, ast.Call) else ''
            if name == 'check_group' and any(
                    k.arg == 'fold' and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in deco.keywords):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                lines.update({n: first for n in range(first, node.end_lineno + 1)})
    return lines


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


def front_matter(doc: str) -> Tuple[Dict[str, str], str]:
    """
    The module docstring may start with `---`, `key: value` lines and `---`. An indented line
    continues the value above it, so a long summary can be wrapped; quotes around a value go.
    """
    meta = {}
    match = re.match(r'\A---\n(.*?)\n---\n', doc, re.S)
    if match:
        key = None
        for line in match.group(1).splitlines():
            if line[:1].isspace() and key:
                meta[key] = f'{meta[key]} {line.strip()}'
                continue
            key, _, value = line.partition(':')
            key = key.strip()
            meta[key] = value.strip()
        meta = {k: v[1:-1] if len(v) > 1 and v[0] == v[-1] and v[0] in '"\'' else v
                for k, v in meta.items()}
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
    meta, intro = front_matter(module_doc[2]) if module_doc else ({}, '')
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
    folded = _folded_lines(tree)
    for row in rows:
        groups = {folded.get(n, 0) for n, _ in row.code} or {folded.get(row.line, 0)}
        row.folded = groups.pop() if len(groups) == 1 else 0
    return Module(path, source, meta, intro, module_doc[0] if module_doc else 1, rows)

# ## Sources
#
# * Python 3.11, [`ast`](https://docs.python.org/3.11/library/ast.html): `ast.get_docstring` and the
#   `lineno`/`end_lineno` of every node; [`tokenize`](https://docs.python.org/3.11/library/tokenize.html):
#   `COMMENT` tokens, which `ast` drops.
