"""
Every page of the site is a module under `labml_nn_norm/`, and every page has a `_test()`
that asserts against PyTorch. This file finds them all and runs each one exactly as a reader
would, `python -m labml_nn_norm.<page>`, in its own process.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'labml_nn_norm'


def page_modules():
    """Dotted names of all page modules: every `.py` except `__main__.py`, helpers whose
    name starts with one underscore, and the package's own `__init__.py`."""
    pages = []
    for path in sorted(PACKAGE.rglob('*.py')):
        name = path.name
        if name == '__main__.py' or (name.startswith('_') and name != '__init__.py'):
            continue
        if path == PACKAGE / '__init__.py':
            continue
        parts = path.relative_to(ROOT).with_suffix('').parts
        if name == '__init__.py':
            parts = parts[:-1]
        pages.append((path, '.'.join(parts)))
    return pages


PAGES = page_modules()


def test_pages_found():
    names = [m for _, m in PAGES]
    assert 'labml_nn_norm.layer_norm' in names and 'labml_nn_norm.batch_norm' in names, names


@pytest.mark.parametrize('path,module', PAGES, ids=[m for _, m in PAGES])
def test_page_has_test_and_one_way_to_run(path: Path, module: str):
    # A page without `_test()` fails the suite
    tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert '_test' in functions, f'{path.relative_to(ROOT)} has no _test()'
    # `python -m` runs every page one way: a package page through its `__main__.py` (and no second
    # `if __name__ == '__main__'` block), a module page through exactly one such block
    main_blocks = sum(isinstance(n, ast.If) and "__name__ == '__main__'" in ast.unparse(n.test)
                      for n in tree.body)
    rel = path.relative_to(ROOT)
    if path.name == '__init__.py':
        assert (path.parent / '__main__.py').exists(), f'{rel.parent} has no __main__.py'
        assert main_blocks == 0, f"{rel}: __main__.py runs it; drop its if __name__ block"
    else:
        assert main_blocks == 1, f"{rel}: expected one if __name__ == '__main__' block"
    # A literal `True` as the condition of `check()` asserts nothing: measured values go to `note()`
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'check'
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant) and node.args[1].value is True):
            raise AssertionError(f'{rel}:{node.lineno}: check(..., True) asserts nothing; '
                                 f'use note() for a measured value')


@pytest.mark.slow
@pytest.mark.parametrize('path,module', PAGES, ids=[m for _, m in PAGES])
def test_page_runs(path: Path, module: str):
    # Exactly as a reader runs it, in its own process
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, '-m', module], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (f'python -m {module} failed:\n'
                                    f'{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    # The page prints what it checked: at least one ✓ line from labml_nn_norm._check
    assert '✓' in result.stdout, f'python -m {module} printed no checks:\n{result.stdout[-2000:]}'
