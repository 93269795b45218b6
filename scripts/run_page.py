"""
Runs one page at build time, in its own process: `python scripts/run_page.py MODULE OUT_DIR`.

Prints what the page's `_test()` prints (the "Run it" box shows it), then calls the page's
`_artifacts()`, if it has one, and writes each figure as `OUT_DIR/<name>.svg` and each
Markdown string as `OUT_DIR/<name>.md`. Exits non-zero when `_test()` fails.
"""

import importlib
import sys
from pathlib import Path


def _save_figure(figure, path: Path):
    # Deterministic SVG: no date in the metadata, fixed ids
    import matplotlib
    matplotlib.rcParams['svg.hashsalt'] = 'labml_nn_norm'
    # Text as text, not as glyph outlines: smaller, searchable, and styled by the page's fonts
    matplotlib.rcParams['svg.fonttype'] = 'none'
    figure.savefig(path, format='svg', metadata={'Date': None}, bbox_inches='tight')


def main(module_name: str, out_dir: str):
    import matplotlib
    matplotlib.use('Agg')
    module = importlib.import_module(module_name)
    module._test()
    sys.stdout.flush()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, value in (getattr(module, '_artifacts', lambda: {})() or {}).items():
        if isinstance(value, str):
            (out / f'{name}.md').write_text(value, encoding='utf-8')
        else:
            _save_figure(value, out / f'{name}.svg')


if __name__ == '__main__':
    main(*sys.argv[1:3])
