"""
Measures the built site as a visitor's browser sees it and prints the figures (a measurement, not
a test):

- Lighthouse (the npm CLI, installed once into `.cache/lighthouse`, never into package.json) on
  every built page, mobile (its default form factor, simulated slow 4G and a slowed CPU) and
  desktop (`--preset=desktop`): the performance, accessibility, best-practices and SEO scores
  (median of `--runs` runs), the mobile Largest Contentful Paint, and the ids of the failing
  audits (score < 1) of the last three categories;
- in Chromium at 1280x800 and 1024x768 (light palette), the clipped-line share of every module
  page: among its code lines (`.lit-code .lit-cl`), those wider than the visible width of their
  code block, so that part of them is only seen by scrolling sideways.

The site is served gzip-compressed (html, css, js, json, svg), as static hosts serve it.

    .venv/bin/python -m scripts.lighthouse [--site DIR] [--pages N] [--runs K]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from literate_norm.pages import ROOT
from scripts.budget import serve, site_pages, timed_build

LIGHTHOUSE_DIR = ROOT / '.cache' / 'lighthouse'
LIGHTHOUSE = LIGHTHOUSE_DIR / 'node_modules' / '.bin' / 'lighthouse'
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CATEGORIES = ('performance', 'accessibility', 'best-practices', 'seo')
# The categories whose failing audits are listed (performance is read from its score and LCP)
AUDITED = ('accessibility', 'best-practices', 'seo')
FORM_FACTORS = {'mobile': [], 'desktop': ['--preset=desktop']}
VIEWPORTS = ((1280, 800), (1024, 768))
def ensure_lighthouse() -> Path:
    if not LIGHTHOUSE.exists():
        print(f'Installing lighthouse@12 into {LIGHTHOUSE_DIR.relative_to(ROOT)} ...', flush=True)
        command = ['npm', 'install', '--prefix', str(LIGHTHOUSE_DIR), 'lighthouse@12',
                   '--no-audit', '--no-fund']
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return LIGHTHOUSE


def lighthouse_run(url: str, form_factor: str, out: Path) -> dict:
    command = [str(LIGHTHOUSE), url, '--quiet', '--output=json', f'--output-path={out}',
               '--chrome-flags=--headless --no-sandbox --disable-gpu',
               '--only-categories=' + ','.join(CATEGORIES), *FORM_FACTORS[form_factor]]
    done = subprocess.run(command, env=dict(os.environ, CHROME_PATH=CHROMIUM),
                          capture_output=True, text=True)
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f'lighthouse failed on {url} ({form_factor}):\n{done.stderr[-3000:]}')
    report = json.loads(out.read_text())
    out.unlink()
    if report.get('runtimeError'):
        print(f'  runtime error on {url} ({form_factor}): {report["runtimeError"]}')
    scores = {c: report['categories'][c]['score'] for c in CATEGORIES}
    audits = report['audits']
    failing = set()
    for category in AUDITED:
        for ref in report['categories'][category]['auditRefs']:
            score = audits[ref['id']].get('score')
            if score is not None and score < 1:
                failing.add(ref['id'])
    lcp = audits.get('largest-contentful-paint', {}).get('numericValue')
    return {'scores': scores, 'lcp': lcp, 'failing': failing,
            'warnings': report.get('runWarnings', [])}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def lighthouse_page(url: str, runs: int, tmp: Path) -> dict:
    result = {}
    for form_factor in FORM_FACTORS:
        reports = [lighthouse_run(url, form_factor, tmp / 'report.json') for _ in range(runs)]
        for warning in {w for r in reports for w in r['warnings']}:
            print(f'  warning on {url} ({form_factor}): {warning}')
        result[form_factor] = {
            'scores': {c: _median([r['scores'][c] for r in reports]) for c in CATEGORIES},
            'lcp': _median([r['lcp'] for r in reports]),
            'failing': set().union(*(r['failing'] for r in reports)),
        }
    return result


def _score(value) -> str:
    return '   -' if value is None else f'{round(value * 100):4d}'


def print_lighthouse(results: dict):
    width = max(len(p) for p in results)
    head = ' perf a11y   bp  seo'
    print(f'\n{"":<{width}} | {"mobile":<19} |       | {"desktop":<19} |')
    print(f'{"page":<{width}} |{head} | LCP s |{head} | failing audits '
          '(a11y, bp, seo; (m)/(d): one form factor only)')
    print('-' * (width + 100))
    for page, result in results.items():
        mobile, desktop = result['mobile'], result['desktop']
        lcp = '    -' if mobile['lcp'] is None else f'{mobile["lcp"] / 1000:5.2f}'
        both = mobile['failing'] & desktop['failing']
        ids = sorted(both) + sorted(f'{a}(m)' for a in mobile['failing'] - both) \
            + sorted(f'{a}(d)' for a in desktop['failing'] - both)
        print(f'{page:<{width}} |'
              + ''.join(f' {_score(mobile["scores"][c])}' for c in CATEGORIES)
              + f' | {lcp} |'
              + ''.join(f' {_score(desktop["scores"][c])}' for c in CATEGORIES)
              + f' | {", ".join(ids) or "-"}')


# Per code block: its visible right edge (the client box of the `pre`, and of its `code`, which
# Material makes the scrolling box; both scrolled fully left), then each line's right edge against
# it. An empty line has no width and is never clipped
CLIPPED_JS = """() => {
  // Rows off screen have no layout until shown (`content-visibility: auto`): show them all first
  document.querySelectorAll('.lit-row').forEach(r => { r.style.contentVisibility = 'visible'; });
  let total = 0, clipped = 0;
  const widths = [];
  const right = (el) => el.getBoundingClientRect().left + el.clientLeft + el.clientWidth;
  for (const pre of document.querySelectorAll('.lit-code pre')) {
    const code = pre.querySelector('code') || pre;
    pre.scrollLeft = 0;
    code.scrollLeft = 0;
    const visibleRight = Math.min(right(pre), right(code));
    widths.push(pre.clientWidth);
    for (const line of pre.querySelectorAll('.lit-cl')) {
      total += 1;
      const r = line.getBoundingClientRect();
      if (r.width > 0 && r.right > visibleRight + 0.5) clipped += 1;
    }
  }
  return {total, clipped, widths};
}"""


def clipped_lines(base: str, pages: list) -> dict:
    """{(width, height): {page: (clipped, total, median visible width px)}} for module pages."""
    from playwright.sync_api import sync_playwright

    found = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update',
                  '--disable-sync'])
        for width, height in VIEWPORTS:
            context = browser.new_context(viewport={'width': width, 'height': height},
                                          color_scheme='light')
            page = context.new_page()
            rows = found[(width, height)] = {}
            for path in pages:
                page.goto(base + path, wait_until='load')
                page.evaluate('document.fonts.ready.then(() => true)')
                counts = page.evaluate(CLIPPED_JS)
                if counts['total']:
                    rows[path] = (counts['clipped'], counts['total'],
                                  statistics.median(counts['widths']))
            context.close()
        browser.close()
    return found


def print_clipped(found: dict):
    for (width, height), rows in found.items():
        if not rows:
            continue
        name = max(len(p) for p in rows)
        print(f'\nClipped code lines at {width}x{height} (light palette)')
        print(f'{"page":<{name}} | clipped / lines |  share | code box px (median)')
        print('-' * (name + 50))
        for path, (clipped, total, box) in rows.items():
            print(f'{path:<{name}} | {clipped:7d} / {total:5d} | {clipped / total:6.1%} '
                  f'| {box:5.0f}')
        clipped = sum(r[0] for r in rows.values())
        total = sum(r[1] for r in rows.values())
        print(f'{"overall":<{name}} | {clipped:7d} / {total:5d} | {clipped / total:6.1%} |')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--site', type=Path, help='a built site (default: build one)')
    parser.add_argument('--pages', type=int, help='measure only the first N pages')
    parser.add_argument('--runs', type=int, default=1, help='Lighthouse runs per page (median)')
    parser.add_argument('--clipped-only', action='store_true',
                        help='only the clipped-line share (seconds instead of minutes)')
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='lighthouse-') as tmp:
        tmp = Path(tmp)
        site = args.site
        if site is None:
            site = tmp / 'site'
            print(f'Built the site in {timed_build(site):.1f} s', flush=True)
        pages = site_pages(site.resolve())[:args.pages]
        server = serve(site.resolve())
        base = f'http://127.0.0.1:{server.server_port}/'
        try:
            results = {}
            if not args.clipped_only:
                ensure_lighthouse()
            for path in ([] if args.clipped_only else pages):
                lap = time.perf_counter()
                results[path or '(home)'] = lighthouse_page(base + path, args.runs, tmp)
                print(f'  lighthouse {path or "(home)"}: {time.perf_counter() - lap:.0f} s',
                      flush=True)
            lap = time.perf_counter()
            found = clipped_lines(base, pages)
            clip_seconds = time.perf_counter() - lap
        finally:
            server.shutdown()
    if results:
        print(f'\nLighthouse {", ".join(FORM_FACTORS)}, {args.runs} run(s) per page, median score; '
              f'served gzip-compressed from {base}')
        print_lighthouse(results)
    print_clipped(found)
    print(f'\nClipped-line measure: {clip_seconds:.0f} s; '
          f'total: {time.perf_counter() - start:.0f} s')


if __name__ == '__main__':
    main()
