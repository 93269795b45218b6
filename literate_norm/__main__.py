"""
`python -m literate_norm FILE [--lang zh] [-o OUT]`: one page rendered outside MkDocs (see
`build_page` in `__init__.py`), written as a standalone HTML file, by default
`build/pages/<module>.html`. Not a page of the site: a tool for writing one.
"""

import argparse
from pathlib import Path

from literate_norm import build_page
from literate_norm.pages import ROOT, module_name


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='python -m literate_norm',
                                     description='Render one page outside MkDocs.')
    parser.add_argument('file', help='a module of the site, e.g. labml_nn_norm/rms_norm/'
                        '__init__.py')
    parser.add_argument('--lang', choices=['en', 'zh'], default='en')
    parser.add_argument('-o', '--out', help='where to write the HTML')
    args = parser.parse_args(argv)
    path = Path(args.file).resolve()
    if not path.is_file() or path.suffix != '.py':
        parser.error(f'expected a Python module of the site, got {args.file!r}')
    suffix = '' if args.lang == 'en' else '.zh'
    out = Path(args.out) if args.out else (
        ROOT / 'build' / 'pages' / f'{module_name(path)}{suffix}.html')
    styles = [ROOT / 'node_modules' / 'katex' / 'dist' / 'katex.min.css',
              ROOT / 'docs' / 'assets' / 'literate.css']
    head = ''.join(f'<link rel="stylesheet" href="{s.as_uri()}">' for s in styles if s.exists())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f'<!doctype html><html lang="{"zh-CN" if suffix else "en"}"><head>'
                   f'<meta charset="utf-8">{head}</head><body><article class="md-content__inner">'
                   f'{build_page(path, args.lang)}</article></body></html>\n', encoding='utf-8')
    print(out)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
