r"""
---
title: The cache of page checks
summary: A page's checks run again only when code it depends on changes - its own module, the
  modules it imports, their data files - never for an edit of prose.
section: How this site is made
order: 45
---

# The cache of page checks

Every page runs its `_test()` and `_artifacts()` when the site is built, and some take seconds.
While writing, most edits are to prose, and prose cannot change what a check prints. So each
page's result is stored under a **key** made of exactly what the run can depend on:

* the *code* of the page's module and of every module of the package it imports, directly or
  through another module (parent packages included, since importing a module runs them): the
  module's syntax tree with its docstrings taken out, so comments and docstrings (the prose)
  do not count, and a reformatting that leaves the tree alone does not either;
* the data files next to each of those modules: every file in its folder and in its `results/`
  folder (the saved measurements pages draw from) but Python files and the Chinese `.zh.yml`,
  which is prose;
* the runner that executes the page.

A prose edit re-runs nothing; a code edit re-runs the pages that import the edited module.
"""

import ast
import hashlib
from pathlib import Path
from typing import Dict, Iterable, Optional, Set, Tuple

from literate_norm.parse import statements

_fingerprints: Dict[str, str] = {}
_imports: Dict[Tuple[Path, str], Set[str]] = {}


def code_fingerprint(source: str, path: str = '<module>') -> str:
    """
    ## A module's code, without its prose

    The syntax tree, with every docstring (module, class, function) removed, dumped as text.
    Comments never reach the tree. Line numbers are left out of the dump, so adding a prose line
    above some code does not change the fingerprint of that code.
    """
    # Remembered for the life of the process: `mkdocs serve` asks again at every rebuild
    if source in _fingerprints:
        return _fingerprints[source]
    tree = ast.parse(source, filename=path)
    for node in [tree] + list(statements(tree)):
        body = getattr(node, 'body', None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            # Keep a placeholder so a body that was only a docstring stays valid
            body[0] = ast.Pass()
    _fingerprints[source] = ast.dump(tree, include_attributes=False)
    return _fingerprints[source]


def _module_file(root: Path, name: str) -> Optional[Path]:
    # `a.b.c` is `a/b/c.py` or the package `a/b/c/__init__.py`
    base = root.joinpath(*name.split('.'))
    for candidate in (base.with_suffix('.py'), base / '__init__.py'):
        if candidate.is_file():
            return candidate
    return None


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imported_modules(root: Path, path: Path, package: str) -> Set[str]:
    """
    ## What a module imports from the package

    Every `import` and `from … import …` anywhere in the file (imports inside functions count:
    `_test()` imports its helpers there), absolute or relative, restricted to `package`. For
    `from a import b`, `b` counts when it is itself a module.
    """
    source = path.read_text(encoding='utf-8')
    if (path, source) in _imports:
        return set(_imports[path, source])
    tree = ast.parse(source, filename=str(path))
    this = _module_name(root, path)
    is_package = path.name == '__init__.py'
    found = set()
    for node in statements(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # `from . import x` in `a/b/c.py` is relative to `a.b`; in `a/b/__init__.py` too
                anchor = this.split('.')
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = '.'.join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ''
            found.add(base)
            found.update(f'{base}.{alias.name}' for alias in node.names)
    inside = {name for name in found if name == package or name.startswith(package + '.')}
    _imports[path, source] = {name for name in inside if _module_file(root, name)}
    return set(_imports[path, source])


def dependencies(root: Path, path: Path, package: str) -> Set[Path]:
    """
    ## Everything a page's run can import

    The page's own module, everything it imports from the package, transitively, and the parent
    packages of each (Python runs `a/__init__.py` before `a/b.py`).
    """
    todo, seen = [path], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        names = imported_modules(root, current, package)
        name = _module_name(root, current)
        # The parent packages of this module
        parts = name.split('.')
        names.update('.'.join(parts[:i]) for i in range(1, len(parts)))
        todo.extend(p for p in (_module_file(root, n) for n in names) if p is not None)
    return seen


def page_key(root: Path, path: Path, package: str, extra: Iterable[Path] = ()) -> str:
    """
    ## The key

    A hash of the code fingerprints of the page's dependencies, the data files beside them (their
    folder and its `results/`, Python files excepted), and `extra` files hashed byte for byte
    (the runner).
    """
    h = hashlib.sha256()
    data: Dict[str, bytes] = {}
    for dep in sorted(dependencies(root, path, package)):
        rel = dep.relative_to(root).as_posix()
        code = code_fingerprint(dep.read_text(encoding='utf-8'), rel)
        h.update(rel.encode() + b'\0' + code.encode() + b'\0')
        # Data beside the module: the files of its own folder and of its `results/` folder
        beside = list(dep.parent.glob('*')) + list((dep.parent / 'results').rglob('*'))
        for file in sorted(beside):
            if file.is_file() and file.suffix not in ('.py', '.pyc') \
                    and not file.name.endswith('.zh.yml'):  # a page's Chinese is prose
                data[file.relative_to(root).as_posix()] = file.read_bytes()
    for rel in sorted(data):
        h.update(rel.encode() + b'\0' + data[rel] + b'\0')
    for file in extra:
        h.update(file.name.encode() + b'\0' + file.read_bytes() + b'\0')
    return h.hexdigest()[:16]


# ## Sources
#
# * Python 3.11, [`ast`](https://docs.python.org/3.11/library/ast.html): `ast.dump(...,
#   include_attributes=False)` leaves out line and column numbers; `ast.Import` and `ast.ImportFrom`
#   (with `level` for relative imports).
# * The [import system](https://docs.python.org/3.11/reference/import.html#regular-packages):
#   importing `a.b` runs `a/__init__.py` first.
