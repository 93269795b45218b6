"""
Every page of the package is also a Jupyter notebook (`literate_norm/notebook.py`): each one
in the built site runs top to bottom in a fresh kernel, and each page links its notebook.
"""

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from literate_norm.pages import PACKAGE, page_sources

PAGES = [(path, page) for path, page in page_sources() if path.is_relative_to(PACKAGE)]


def _notebook_of(page: Path, path: Path) -> Path:
    # Beside the page's source download: `index.ipynb` for a package, `<name>.ipynb` otherwise
    return page.parent / (path.stem.replace('__init__', 'index') + '.ipynb')


@pytest.mark.slow
@pytest.mark.parametrize('path,page', PAGES, ids=[p.stem if p.stem != '__init__' else
                                                   p.parent.name for p, _ in PAGES])
def test_notebook_runs_top_to_bottom(site_dir, path, page):
    import nbclient
    import nbformat

    notebook = site_dir / _notebook_of(page, path)
    assert notebook.is_file(), f'no notebook for {path.name}: {notebook}'
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    start = time.perf_counter()
    # A fresh kernel in an empty folder: only the installed package is importable from it
    with tempfile.TemporaryDirectory() as cwd:
        client = nbclient.NotebookClient(nb, timeout=600, kernel_name='python3',
                                         resources={'metadata': {'path': cwd}})
        client.execute()  # raises CellExecutionError on the first failing cell
    seconds = time.perf_counter() - start
    print(f'\n{notebook.relative_to(site_dir)}: {len(nb.cells)} cells, {seconds:.1f} s')
    # The last cell ran the page's checks: they printed their ticks
    output = ''.join(o.get('text', '') for o in nb.cells[-1].outputs)
    assert output.count('✓') >= 3, output[-2000:]


def test_every_package_page_links_its_notebook(site_dir):
    for path, page in PAGES:
        html_file = site_dir / (page.with_suffix('') if page.name != 'index.md'
                                else page.parent) / 'index.html'
        html = html_file.read_text(encoding='utf-8')
        link = re.search(r'<a download="([^"]+\.ipynb)" href="([^"]+)">Download notebook</a>', html)
        assert link, f'{html_file}: no "Download notebook" link'
        assert (html_file.parent / link.group(2)).resolve() == \
            (site_dir / _notebook_of(page, path)).resolve(), link.groups()


def test_the_checks_do_not_import_labmls_logger():
    # labml 0.5.3's logger imports `display` from `IPython.core.display`, which IPython 9
    # removed, so inside Jupyter it fails to import: the pages' checks print by themselves
    code = ('import sys, labml_nn_norm._check as c; c.check("x", 1 + 1 == 2); '
            'sys.exit(any(m == "labml" or m.startswith("labml.") for m in sys.modules))')
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stdout + done.stderr
