"""
The MkDocs hook that runs the generator inside the build (`hooks:` in `mkdocs.yml`).

- `on_files`: every module under `labml_nn_norm/` (and the generator itself) becomes a
  generated page, plus a copy of its source and its figures; KaTeX's CSS and fonts are copied
  from `node_modules`. Nothing is written into `docs/`.
- Each page's `_test()` runs in its own process (forked by `run_page.py`), several at once, and
  its output is cached in `.cache/pages/` under a hash of everything it can depend on, so
  `mkdocs serve` rebuilds fast.
- `on_page_content`: the math placeholders are swapped for KaTeX's HTML.
"""

import hashlib
import html
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parent))
import literate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'labml_nn_norm'
CACHE = ROOT / '.cache' / 'pages'
log = logging.getLogger('mkdocs.hooks.literate')

_rendered_math = []


def page_sources():
    """(source path, page path) of every page: modules of the package, then the generator."""
    for path in sorted(PACKAGE.rglob('*.py')):
        if path.name == '__main__.py' or (path.name.startswith('_') and path.name != '__init__.py'):
            continue
        if path == PACKAGE / '__init__.py':
            continue
        rel = path.relative_to(ROOT)
        yield path, (rel.parent / 'index.md' if path.name == '__init__.py' else rel.with_suffix('.md'))
    yield ROOT / 'scripts' / 'literate.py', Path('scripts/literate.md')


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _tree_hash() -> str:
    # Everything a page's run can depend on: the package and the runner
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob('*')) + [ROOT / 'scripts' / 'run_page.py']:
        if path.is_file() and '__pycache__' not in path.parts:
            h.update(str(path.relative_to(ROOT)).encode() + b'\0' + path.read_bytes())
    return h.hexdigest()[:16]


_ANSI = re.compile(r'\x1b\[([0-9;]*)m')
_STYLE = {'1': 'lit-bold', '4': 'lit-heading', '32': 'lit-ok', '36': 'lit-key', '31': 'lit-bad', '33': 'lit-warn'}


def _terminal_to_html(text: str) -> str:
    """labml's logger writes `\\r`, padding and ANSI colours: keep the last state of each line, colours as classes."""
    lines = [line.split('\r')[-1].rstrip() for line in text.split('\n')]
    out = []
    for line in lines:
        parts, open_span = [], False
        for i, piece in enumerate(_ANSI.split(line)):
            if i % 2 == 0:
                parts.append(html.escape(piece, quote=False))
                continue
            if open_span:
                parts.append('</span>')
                open_span = False
            cls = ' '.join(_STYLE[c] for c in piece.split(';') if c in _STYLE)
            if cls:
                parts.append(f'<span class="{cls}">')
                open_span = True
        out.append(''.join(parts) + ('</span>' if open_span else ''))
    return '\n'.join(out).strip('\n')


def run_pages(paths, tree_hash: str) -> dict:
    """
    Run the pages' `_test()` and `_artifacts()` (`scripts/run_page.py` forks one process per page,
    several at once), or take the results cached for this exact tree.
    """
    folder = CACHE / tree_hash
    todo = [p for p in paths if not (folder / module_name(p) / 'result.json').exists()]
    if todo:
        # The biggest pages first, so that the long runs overlap with the short ones
        todo.sort(key=lambda p: -p.stat().st_size)
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED='0')
        subprocess.run([sys.executable, str(ROOT / 'scripts' / 'run_page.py'), str(folder)] +
                       [module_name(p) for p in todo], cwd=ROOT, env=env, check=False)
    results = {}
    for path in paths:
        out = folder / module_name(path)
        if (out / 'result.json').exists():
            results[path] = json.loads((out / 'result.json').read_text())
            continue
        # Bytes, not text: text mode would turn the logger's `\r` into line breaks
        read = lambda name: (out / name).read_bytes().decode('utf-8', 'replace') if (out / name).exists() else ''
        ok = read('status').strip() == '0'
        result = {'module': module_name(path), 'ok': ok, 'output': _terminal_to_html(read('stdout') + ('' if ok else '\n' + read('stderr')))}
        if ok:
            (out / 'result.json').write_text(json.dumps(result))
        results[path] = result
    return results


def on_files(files, config):
    """Generate every page (parse, highlight, render) and add it to the site's files."""
    math = literate.MathCollector()
    sources = list(page_sources())
    tree_hash = _tree_hash()
    # Run the pages' checks concurrently; they are separate processes
    runs = run_pages([p for p, _ in sources if p.is_relative_to(PACKAGE)], tree_hash)
    #
    for path, page in sources:
        rel = str(path.relative_to(ROOT))
        source = path.read_text(encoding='utf-8')
        try:
            module = literate.parse(rel, source)
        except literate.GeneratorError as e:
            raise SystemExit(f'Error: {e}') from e
        run = runs.get(path)
        if run is not None and not run['ok']:
            # An error, not a warning: `mkdocs build -q` drops warnings before `--strict` counts them
            log.error(f'{rel}: python -m {run["module"]} failed; its page shows the error')
        artifacts = CACHE / tree_hash / module_name(path) if run else None
        if artifacts and artifacts.exists():
            # A prose line `{{ name }}` becomes the Markdown the page computed; figures are copied beside the page
            for md in sorted(artifacts.glob('*.md')):
                module.intro = module.intro.replace('{{ %s }}' % md.stem, md.read_text(encoding='utf-8'))
                for row in module.rows:
                    row.prose = [md.read_text(encoding='utf-8') if p.strip() == '{{ %s }}' % md.stem else p
                                 for p in row.prose]
            for svg in sorted(artifacts.glob('*.svg')):
                files.append(File.generated(config, str(page.parent / svg.name), content=svg.read_bytes()))
        depth = len(page.parts) - 1
        crumbs = [('Home', '../' * depth + 'index.md')]
        source_name = 'index.py' if path.name == '__init__.py' else path.name
        content = literate.render(module, literate.highlight(module), math, run, source_name, crumbs)
        files.append(File.generated(config, str(page), content=content))
        files.append(File.generated(config, str(page.parent / source_name), content=source))
    #
    # All formulas of the build in one KaTeX call
    try:
        _rendered_math[:] = math.render()
    except literate.GeneratorError as e:
        raise SystemExit(f'Error: {e}') from e
    _add_katex_assets(files, config)
    return files


def _add_katex_assets(files, config):
    # KaTeX's stylesheet and its woff2 fonts only (every browser we target reads woff2)
    dist = ROOT / 'node_modules' / 'katex' / 'dist'
    css = (dist / 'katex.min.css').read_text(encoding='utf-8')
    css = re.sub(r',url\(fonts/[^)]+\.(woff|ttf)\) format\("(woff|truetype)"\)', '', css)
    files.append(File.generated(config, 'assets/katex/katex.min.css', content=css))
    for font in sorted((dist / 'fonts').glob('*.woff2')):
        files.append(File.generated(config, f'assets/katex/fonts/{font.name}', content=font.read_bytes()))


def on_page_content(html, page, config, files):
    return literate.substitute_math(html, _rendered_math)
