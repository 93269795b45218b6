"""The whole tree passes ruff (configured in pyproject.toml: pyflakes, pycodestyle, import order,
lines of at most 100 columns)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which('ruff', path=str(Path(sys.executable).parent)) or shutil.which('ruff')
    assert ruff, 'ruff is not installed (it is in the test extras: pip install -e .[test])'
    done = subprocess.run([ruff, 'check', '--output-format', 'concise', '.'], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, (f'ruff check found problems:\n'
                                  f'{done.stdout[-6000:]}{done.stderr[-2000:]}')
