r"""
---
title: "Step 5: the notebook"
summary: Each page of the package also becomes a Jupyter notebook, prose as Markdown cells and
  code as code cells, that runs top to bottom and ends with the page's checks.
section: How this site is made
order: 50
---

# Step 5: the notebook

Readers want to run and poke at a page, not only read it. Every page of `labml_nn_norm` is
also written out as a Jupyter notebook (nbformat 4.5) beside the page, linked as "Download
notebook". The notebook is generated at build time and never committed, and the same page
always gives the same bytes.

What goes in, in the page's order:

* a first Markdown cell saying where the notebook comes from and what it needs (the package
  installed, `pip install -e .` in the project), then the page's opening prose;
* the rows: prose as Markdown (math stays `$…$` and `$$…$$`, which Jupyter renders), code as
  code cells, each one whole Python statements (see `_cells()` below);
* a last cell that runs the page's `_test()`.

`tests/test_notebooks.py` runs every generated notebook in a fresh Jupyter kernel.
"""

import base64
import json
import re
from typing import Dict, List, Optional, Tuple

from literate_norm.parse import Module, Row

# The `if __name__ == '__main__':` block: the last cell runs the checks instead
_MAIN_GUARD = re.compile(r'^if __name__ == [\'"]__main__[\'"]\s*:')
# Links between pages are written to the `.md` files; in a notebook saved beside its page they
# point at the page folders
_MD_LINK = re.compile(r'\]\(((?:\.\./|\./)*[\w/.-]*?)(?:/index)?\.md(#[\w-]*)?\)')
_FIGURE = re.compile(r'!\[([^\]]*)\]\(([\w-]+\.svg)\)')


def _markdown(text: str, figures: Dict[str, bytes]) -> Dict:
    """A Markdown cell; figures beside the page travel inside the notebook as attachments."""
    attachments = {}

    def figure(m: re.Match) -> str:
        name = m.group(2)
        if name not in figures:
            return m.group(0)
        attachments[name] = {'image/svg+xml': base64.b64encode(figures[name]).decode('ascii')}
        return f'![{m.group(1)}](attachment:{name})'
    text = _FIGURE.sub(figure, text)
    text = _MD_LINK.sub(
        lambda m: f']({m.group(1) + "/" if m.group(1) else "./"}{m.group(2) or ""})', text)
    cell = {'cell_type': 'markdown', 'metadata': {}, 'source': text.strip('\n')}
    if attachments:
        cell['attachments'] = attachments
    return cell


def _code(text: str) -> Dict:
    return {'cell_type': 'code', 'execution_count': None, 'metadata': {}, 'outputs': [],
            'source': text.strip('\n')}


def _complete(lines: List[str]) -> bool:
    """Whether the code so far is whole statements (a class is not split between cells)."""
    try:
        compile('\n'.join(lines), '<cell>', 'exec')
        return True
    except SyntaxError:
        return False


def _with_group_heading(lines: List[str], prose: str) -> List[str]:
    # `@check_group` prints a group's heading from its function's docstring, and a notebook's
    # code has no docstrings (they are the Markdown cells): the heading line comes back as one
    if not prose.strip() or not any(line.strip().startswith('@check_group') for line in lines):
        return lines
    heading = prose.strip().split('\n', 1)[0]
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith('def ')), None)
    if start is None:
        return lines
    end = next((i for i in range(start, len(lines)) if lines[i].rstrip().endswith(':')), start)
    indent = lines[start][:len(lines[start]) - len(lines[start].lstrip())] + '    '
    return lines[:end + 1] + [indent + repr(heading)] + lines[end + 1:]


def _with_body(lines: List[str], prose: str) -> List[str]:
    # A class or function whose only body was its docstring would be empty here: its first line
    # comes back as the docstring, so the cell stays valid Python
    code = [line for line in lines if line.strip()]
    if not prose.strip() or not code or not re.match(r'\s*(async\s+def|def|class)\b.*:\s*$',
                                                      code[-1]):
        return lines
    indent = code[-1][:len(code[-1]) - len(code[-1].lstrip())] + '    '
    return lines + [indent + repr(prose.strip().split('\n', 1)[0])]


def _cells(rows: List[Row], english: Optional[List[Row]] = None) -> List[Tuple[str, List[str]]]:
    """
    ## Rows into cells

    A row's code can be part of a larger statement (a method of a class), and one row can hold
    several statements. A code cell ends before a line that starts a new top-level statement,
    but only if the code so far compiles on its own, so every cell is valid Python: a
    decorator stays with its function, a class with its methods. The prose of the rows inside
    a cell goes into the Markdown cell before it.
    """
    cells: List[Tuple[str, List[str]]] = []
    prose: List[str] = []
    code: List[str] = []

    def flush():
        if any(line.strip() for line in code) or prose:
            cells.append(('\n\n'.join(prose), list(code)))
        prose.clear()
        code.clear()
    for i, row in enumerate(rows):
        text = '\n'.join(row.prose).strip('\n')
        # The code is the same in both languages, so a heading kept in it is the English one
        source_prose = '\n'.join((english or rows)[i].prose)
        # A row whose code starts a new top-level statement starts a new cell (a prefix of a
        # class can compile too, so an indented first line never does)
        first = next((line for _, line in row.code if line.strip()), '')
        if first and not first[:1].isspace() and any(c.strip() for c in code) \
                and _complete(code):
            flush()
        if text.strip():
            prose.append(text)
        lines = _with_group_heading([line for _, line in row.code], source_prose)
        for line in _with_body(lines, source_prose):
            starts = line.strip() and not line[:1].isspace()
            if starts and any(c.strip() for c in code) and _complete(code):
                flush()
            code.append(line)
    flush()
    return cells


def notebook(module: Module, import_name: str,
             figures: Optional[Dict[str, bytes]] = None, english: Optional[Module] = None) -> str:
    """
    ## The notebook, as deterministic JSON

    `import_name` is the module's dotted name (`labml_nn_norm.layer_norm.backward`). Cell ids
    are the page's name and the cell's index, so two builds give the same bytes. For a Chinese
    page, `english` is the English module, whose prose gives the check groups' headings kept in
    the code.
    """
    figures = figures or {}
    title = module.meta.get('title', import_name)
    installed = module.meta.get('notebook_checks') == 'installed'
    opening = (
        f'*This notebook is the page "{title}" of* Layer Normalization, annotated, *generated '
        f'from the module `{import_name}`: its prose as Markdown cells and its code as code '
        f'cells, in the page\'s order.* It needs the project\'s package installed (`pip install '
        f'-e .` in the project); then it runs top to bottom, and its last cell runs the page\'s '
        f'checks.')
    cells = [_markdown(opening, figures)]
    if '__file__' in module.source:
        # The module finds its saved results beside its own file
        cells.append(_markdown('The page\'s code finds its saved results beside its own file: '
                               '`__file__` is set to the installed module\'s.', figures))
        cells.append(_code(f'import {import_name} as _installed\n\n'
                           '__file__ = _installed.__file__'))
    if module.intro.strip():
        cells.append(_markdown(module.intro, figures))
    for prose, code in _cells(module.rows, english.rows if english else None):
        if _MAIN_GUARD.match(next((line for line in code if line.strip()), '')):
            code = []  # the last cell runs the checks instead
        if prose.strip():
            cells.append(_markdown(prose, figures))
        if any(line.strip() for line in code):
            cells.append(_code('\n'.join(code)))
    if installed:
        cells.append(_markdown(
            'Its checks start processes, and a process started from a notebook cannot import '
            'functions defined in the notebook: this cell runs the installed module\'s '
            '`_test()`, whose code is the code above.', figures))
        cells.append(_code(f'from {import_name} import _test as _installed_test\n\n'
                           '_installed_test()'))
    else:
        cells.append(_code('_test()'))
    stem = import_name.replace('.', '-')
    for i, cell in enumerate(cells):
        cell['id'] = f'{stem}-{i}'
    doc = {'cells': cells, 'nbformat': 4, 'nbformat_minor': 5,
           'metadata': {'kernelspec': {'display_name': 'Python 3', 'language': 'python',
                                       'name': 'python3'},
                        'language_info': {'name': 'python'}}}
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + '\n'

# ## Sources
#
# * [The Jupyter notebook format](https://nbformat.readthedocs.io/en/latest/format_description.html),
#   version 4.5: cells, cell ids, Markdown attachments.
