r"""
---
title: The list of pages
summary: Which modules are pages, where each one lands in the site, and the order of the
  navigation - read from each module's front matter, by the hook and by the translation tool alike.
section: How this site is made
order: 46
nav: The list of pages
---

# The list of pages

Every module under `labml_nn_norm/` is a page, and so is every module of this generator. This
module finds them and reads their front matter; it imports nothing from MkDocs, so the hook
([step 4](hooks.md)), the translation tool ([step 6](translate.md)), the tests and the
measuring scripts all share one list of pages, and none of them imports another to get it.
"""

import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from literate_norm.parse import front_matter as front_matter_of

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGE = ROOT / 'labml_nn_norm'
# The generator's own pages, in the order of its steps
GENERATOR = ['__init__', 'parse', 'highlight', 'render', 'cache', 'pages', 'checks', 'hooks',
             'serve', 'finish', 'notebook', 'translate', 'catalog', 'computed']
# The Chinese edition lives under `zh/` ([step 6](translate.md))
ZH = Path('zh')

# Front matter by source text: `mkdocs serve` asks again at every rebuild
_FRONT_MATTER: Dict[str, Dict[str, str]] = {}


def page_sources() -> Iterator[Tuple[Path, Path]]:
    """
    ## The pages

    `(source path, page path)` of every page: the modules of the package (helpers whose name
    starts with `_`, `__main__.py` and the package's own `labml_nn_norm/__init__.py` are not
    pages), then the generator's own modules. A package's `__init__.py` becomes its folder's
    `index.md`.
    """
    for path in sorted(PACKAGE.rglob('*.py')):
        if path.name == '__main__.py' or (path.name.startswith('_') and path.name != '__init__.py'):
            continue
        if path == PACKAGE / '__init__.py':
            continue
        yield path, page_path(path)
    for name in GENERATOR:
        path = HERE / f'{name}.py'
        yield path, page_path(path)


def page_path(path: Path) -> Path:
    # `labml_nn_norm/a/__init__.py` → `labml_nn_norm/a/index.md`; `a/b.py` → `a/b.md`
    rel = path.relative_to(ROOT)
    return rel.parent / 'index.md' if path.name == '__init__.py' else rel.with_suffix('.md')


def module_name(path: Path) -> str:
    """`labml_nn_norm/layer_norm/__init__.py` → `labml_nn_norm.layer_norm`."""
    parts = path.relative_to(ROOT).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def front_matter(path: Path) -> Dict[str, str]:
    # The opening docstring's front matter alone; the whole module is parsed later for its page
    source = path.read_text(encoding='utf-8')
    if source not in _FRONT_MATTER:
        opening = re.match(r'\A[rR]?"""\n(---\n.*?\n---\n)', source, re.S)
        _FRONT_MATTER[source] = front_matter_of(opening.group(1))[0] if opening else {}
    return _FRONT_MATTER[source]


def pages_in_order() -> List[Tuple[Path, Path, Dict[str, str]]]:
    """
    ## One list of pages

    Every page's front matter names its `section` and its `order` in it; the sections come in
    the order of their lowest page. The navigation, the home page's list and the README's table
    (checked by a test) all follow this one list.
    """
    pages = []
    for path, page in page_sources():
        meta = front_matter(path)
        for key in ('title', 'summary', 'section', 'order'):
            if not meta.get(key):
                raise SystemExit(f'Error: {path.relative_to(ROOT)}: front matter has no {key!r}')
        pages.append((path, page, meta))
    first: Dict[str, float] = {}
    for _, _, meta in pages:
        first[meta['section']] = min(first.get(meta['section'], 1e9), float(meta['order']))
    return sorted(pages, key=lambda p: (first[p[2]['section']], float(p[2]['order'])))


# ## Sources
#
# * Python 3.11, [`pathlib.Path.rglob`](https://docs.python.org/3.11/library/pathlib.html#pathlib.Path.rglob),
#   sorted so that the list, and so the site, is the same on every machine.
