"""Makes the generator in `scripts/` importable by the tests (it is not a package)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'scripts'))

from hooks import page_sources  # noqa: E402,F401
import literate  # noqa: E402,F401
