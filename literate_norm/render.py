r"""
---
title: "Step 3: render"
summary: Math rendered by KaTeX at build time, prose left as Markdown for MkDocs, code as
  numbered lines, laid out by one Jinja template.
section: How this site is made
order: 44
---

# Step 3: render

Prose stays Markdown, so MkDocs renders it and checks its links like any page's; math is cut
out first and rendered by KaTeX when the site is built, so a reader loads no script for it;
code lines are already HTML from the highlighter. One Jinja template
(`templates/page.html`) lays the rows out.
"""

import json
import re
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from jinja2 import Environment, FileSystemLoader, select_autoescape

from literate_norm.parse import GeneratorError, Module

HERE = Path(__file__).resolve().parent
# KaTeX's HTML of every formula rendered so far in this process, by (TeX, display)
_katex: Dict[Tuple[str, bool], str] = {}


# Display math `$$…$$` first, then inline `$…$` (not `\$`, and not spanning a blank line)
_MATH = re.compile(r'\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)((?:[^$\n]|\n(?!\n))+?)(?<!\s)\$', re.S)
# Code spans and fenced blocks keep their dollars; a code span may wrap onto the next line of
# its paragraph, as in Markdown
_CODE = re.compile(r'(```.*?```|`(?:[^`\n]|\n(?!\n))*`)', re.S)


class MathCollector:
    """
    ## Math

    Math is cut out of the prose before Markdown sees it (Markdown would read `x_i * y_j` as
    emphasis) and replaced by a placeholder. The prose's formulas are rendered ahead, while the
    checks run (`render_ahead`); the rest, those of computed text, in one more call to KaTeX
    once every page is written; the placeholders are swapped for the HTML at the very end.
    """

    def __init__(self):
        self.formulas: List[Tuple[str, bool, str]] = []  # (tex, display, where)

    def extract(self, text: str, where: str) -> str:
        def math(m: re.Match) -> str:
            display = m.group(1) is not None
            self.formulas.append((m.group(1) if display else m.group(2), display, where))
            return f'KATEXMATH{len(self.formulas) - 1}X'
        # Only outside code spans
        parts = enumerate(_CODE.split(text))
        return ''.join(part if i % 2 else _MATH.sub(math, part) for i, part in parts)

    def render(self) -> List[str]:
        # Formulas rendered by an earlier build of this process are reused (`mkdocs serve`)
        todo = sorted({(t, d) for t, d, _ in self.formulas} - set(_katex))
        if todo:
            self._render(todo)
        return [_katex[t, d] for t, d, _ in self.formulas]

    def _render(self, todo: List[Tuple[str, bool]]):
        request = json.dumps([{'tex': t, 'display': d} for t, d in todo])
        katex = ['node', str(HERE / 'katex_render.js')]
        done = subprocess.run(katex, input=request, capture_output=True, text=True,
                              cwd=HERE.parent, check=False)
        if done.returncode != 0:
            raise GeneratorError(f'KaTeX failed: {done.stderr.strip()}')
        results = json.loads(done.stdout)
        # A formula KaTeX cannot parse fails the build, naming where it was written
        where = {(t, d): w for t, d, w in self.formulas}
        for (tex, display), result in zip(todo, results):
            if 'error' in result:
                raise GeneratorError(
                    f'{where[tex, display]}: malformed math ${tex}$: {result["error"]}')
        for formula, result in zip(todo, results):
            _katex[formula] = result['html']


# The TeX of every formula of the build, by placeholder number (set by the hook), for the
# places that need text: a heading's id and its line in the table of contents
MATH_TEX: List[str] = []
_GREEK = {'alpha': 'α', 'beta': 'β', 'gamma': 'γ', 'delta': 'δ', 'epsilon': 'ϵ', 'varepsilon': 'ε',
          'eta': 'η', 'theta': 'θ', 'lambda': 'λ', 'mu': 'μ', 'sigma': 'σ', 'tau': 'τ', 'phi': 'ϕ',
          'Sigma': 'Σ', 'Delta': 'Δ', 'sqrt': '√', 'cdot': '·', 'times': '×', 'ell': 'ℓ'}


def tex_text(tex: str, names: bool = False) -> str:
    """A formula as plain text: `\\epsilon` becomes ϵ (or `epsilon` for an id), braces go."""
    text = re.sub(r'\\([A-Za-z]+)', lambda m: m.group(1) if names else _GREEK.get(m.group(1), ''),
                  tex)
    return re.sub(r'[{}^_\\]', '', text).strip()


def slugify(value: str, separator: str) -> str:
    """
    Python-Markdown's heading ids, with each formula placeholder read as its TeX's words: a
    heading "$\\epsilon$ on a row" gets the id `epsilon-on-a-row`, the same at every build
    (a placeholder's number changes whenever a formula is added anywhere before it).
    """
    from markdown.extensions.toc import slugify as markdown_slugify
    value = re.sub(r'KATEXMATH(\d+)X',
                   lambda m: tex_text(MATH_TEX[int(m.group(1))], names=True)
                   if int(m.group(1)) < len(MATH_TEX) else '', value)
    return markdown_slugify(value, separator)


def render_ahead(texts: List[Tuple[str, str]]):
    """
    The formulas of `(text, where)` pairs rendered now, into the cache every `MathCollector`
    reads: the build calls it while the page checks run, so that after them only the formulas
    of the computed text are left to render.
    """
    ahead = MathCollector()
    for text, where in texts:
        ahead.extract(text, where)
    ahead.render()


def substitute_math(text: str, rendered: List[str]) -> str:
    # A wide display formula scrolls sideways on a phone: make it reachable by keyboard too
    text = re.sub(r'KATEXMATH(\d+)X', lambda m: rendered[int(m.group(1))], text)
    return text.replace('<span class="katex-display">', '<span class="katex-display" tabindex="0">')


_CODE_SPANS = re.compile(r'(```.*?```|(`+)[^`].*?\2)', re.S)


_DATA_SCRIPT = re.compile(r'(<script src="data:text/javascript;base64,[A-Za-z0-9+/=]*">'
                          r'</script>)')


def _escape_script(text: str) -> str:
    # Prose is Markdown, so raw HTML in it is allowed; a `</script>` would still end the page's
    # scripts, so outside code spans its `<` becomes `&lt;`. Inside a code span Markdown escapes
    # it itself (escaping it here too would show `&lt;` on the page)
    parts = _CODE_SPANS.split(text)
    out = []
    for i, part in enumerate(parts):
        # `split` yields: text, whole code span, its backticks, text, ...
        if i % 3 == 0:
            # A page's own script, as a computed figure ships it: base64 in a `data:` URL, which
            # cannot hold a `<`, so it cannot end anything but itself
            kept = _DATA_SCRIPT.split(part)
            out.append(''.join(k if j % 2 else re.sub(r'<(?=/?script)', '&lt;', k, flags=re.I)
                               for j, k in enumerate(kept)))
        elif i % 3 == 1:
            out.append(part)
    return ''.join(out)


_templates = Environment(loader=FileSystemLoader(HERE / 'templates'),
                         autoescape=select_autoescape(['html']), keep_trailing_newline=True)


_HEADING = re.compile(r'^(#{1,6})(?=\s)', re.M)


def even_headings(texts: List[str], start: int = 1) -> List[str]:
    """
    ## Headings that never skip a level

    Screen readers and the page outline expect each heading at most one level below the one
    before it, and authors write `###` for a subsection right after the `#` title. Across the
    page's prose in reading order, each heading keeps its level unless it would skip one: then
    it moves up to one below the previous heading. Headings inside code spans and fenced blocks
    are not headings.
    """
    level, out = start, []
    for text in texts:
        parts = _CODE_SPANS.split(text)
        for i in range(0, len(parts), 3):
            def fix(m: re.Match) -> str:
                nonlocal level
                level = min(len(m.group(1)), level + 1)
                return '#' * level
            parts[i] = _HEADING.sub(fix, parts[i])
        out.append(''.join(p for i, p in enumerate(parts) if i % 3 != 2))
    return out


# The heading that opens a page's list of sources, in each language
SOURCES_HEADINGS = ('## Sources', '## 参考来源')

# The page's own words, in each language of the site (the prose comes from the module)
UI = {
    'en': {'breadcrumbs': 'Breadcrumbs', 'download': 'Download', 'notebook': 'Download notebook',
           'copy_all': 'Copy the whole module', 'permalink': 'Permalink to row {n}',
           'copy_label': 'Copy', 'copy_row': 'Copy the code of row {n}', 'run_it': 'Run it',
           'run_intro': 'The checks at the bottom of this page, run while this site was built:',
           'stale': "Out of date: this output is from an earlier version of this page's code. "
                    'Its checks are running again, and the page reloads when they finish.',
           'output_of': 'Output of',
           'folded': '{n} lines of checks, folded: open to read them'},
    'zh': {'breadcrumbs': '导航路径', 'download': '下载', 'notebook': '下载 notebook',
           'copy_all': '复制整个模块', 'permalink': '第 {n} 行的永久链接', 'copy_label': '复制',
           'copy_row': '复制第 {n} 行的代码', 'run_it': '运行',
           'run_intro': '本页末尾的检查，在构建本站时运行的结果：',
           'stale': '已过期：这是本页代码较早版本的输出。检查正在重新运行，完成后页面会自动刷新。',
           'output_of': '输出：',
           'folded': '{n} 行检查代码，已折叠，点开查看'},
}


def render(module: Module, lines: Dict[int, str], math: MathCollector, run: Optional[dict],
           source_name: str, breadcrumbs: List[Tuple[str, str]],
           notebook_name: Optional[str] = None, lang: str = 'en') -> str:
    """
    ### The page

    Rows become dictionaries for the template: prose as Markdown with math placeholders (MkDocs
    renders it, so links between pages are checked and rewritten), and code as highlighted
    lines with their numbers. The copy button reads the lines' text back from the page, and
    "copy the whole module" fetches the source file shipped beside the page, so the page
    carries no second copy of the code.
    """
    # A last row of prose alone that opens with `## Sources` is the page's list of sources: it
    # goes after the "Run it" box, at full width, so every page ends with what it relies on
    # (an empty `#` inside it only starts a new paragraph)
    body, sources = module.rows, ''
    for k, row in enumerate(module.rows):
        first = '\n'.join(row.prose).strip().split('\n', 1)[0].strip()
        if (first in SOURCES_HEADINGS
                and not any(r.code for r in module.rows[k:])):
            body = module.rows[:k]
            text = '\n\n'.join('\n'.join(r.prose) for r in module.rows[k:])
            sources = _escape_script(math.extract(text, f'{module.path}:{row.line}'))
            break
    rows = []
    for i, row in enumerate(body, start=1):
        line = row.line or (row.code[0][0] if row.code else 1)
        prose = math.extract('\n'.join(row.prose), f'{module.path}:{line}')
        rows.append({
            'id': f'row-{i}',
            'prose': _escape_script(prose),
            'lines': [(n, lines.get(n, '')) for n, _ in row.code],
            'folded': row.folded,
        })
    _fold_groups(rows)
    title = module.meta.get('title') or Path(module.path).stem
    symbols = [(name, math.extract(f'${tex}$', f'{module.path}: front matter `symbols`'))
               for name, tex in parse_symbols(module.meta.get('symbols', ''), module.path)]
    intro = math.extract(_escape_script(module.intro), f'{module.path}:{module.intro_line}')
    # Headings in reading order: the opening prose, the rows, the sources
    texts = even_headings([intro] + [row['prose'] for row in rows] + [sources], start=0)
    intro, sources = texts[0], texts[-1]
    for row, text in zip(rows, texts[1:-1]):
        row['prose'] = text
    return _templates.get_template('page.html').render(
        title=title, summary=module.meta.get('summary', ''), intro=intro, rows=rows, run=run,
        path=module.path, source_name=source_name, breadcrumbs=breadcrumbs, sources=sources,
        symbols=symbols, notebook_name=notebook_name, ui=UI[lang])


def _fold_groups(rows: List[dict]):
    """
    ### Folded checks

    The rows of one folded check group (one function) are shown under one summary, the heading
    of its first row and how many lines of code it holds, and the reader unfolds it
    (`<details>`).
    """
    for i, row in enumerate(rows):
        group_of = row['folded']
        row['fold_open'] = bool(group_of) and (i == 0 or rows[i - 1]['folded'] != group_of)
        row['fold_close'] = bool(group_of) and (i + 1 == len(rows)
                                                or rows[i + 1]['folded'] != group_of)
        if row['fold_open']:
            group = [row]
            for later in rows[i + 1:]:
                if later['folded'] != group_of:
                    break
                group.append(later)
            heading = re.search(r'^#+[ \t]+(.+)$', row['prose'], re.M)
            row['fold_title'] = heading.group(1).strip() if heading else ''
            row['fold_lines'] = sum(len(r['lines']) for r in group)


def parse_symbols(text: str, where: str) -> List[Tuple[str, str]]:
    r"""
    ### Names and the symbols they stand for

    A page may say which math symbol a name in its code stands for, in its front matter:
    `symbols: eps \epsilon; weight \gamma; x_hat \hat{x}`. Clicking the name marks the symbol
    in the formulas too. Each symbol is rendered by KaTeX like any formula, into a `<template>`
    the page's script reads (the page then compares what KaTeX drew, never TeX).
    """
    out = []
    for item in filter(None, (part.strip() for part in text.split(';'))):
        name, _, tex = item.partition(' ')
        if not name.isidentifier() or not tex.strip():
            raise GeneratorError(f'{where}: front matter `symbols`: expected `name \\tex; ...`, '
                                 f'got {item!r}')
        out.append((name, tex.strip()))
    return out

def katex_assets(dist: Path) -> List[Tuple[str, bytes]]:
    # KaTeX's stylesheet and its woff2 fonts only (every browser we target reads woff2)
    css = (dist / 'katex.min.css').read_text(encoding='utf-8')
    css = re.sub(r',url\(fonts/[^)]+\.(woff|ttf)\) format\("(woff|truetype)"\)', '', css)
    # Text that uses a KaTeX font is shown in a fallback font until the font arrives, instead of
    # staying invisible (the browser's default for a font face without font-display)
    css = css.replace('@font-face{', '@font-face{font-display:swap;')
    out = [('assets/katex/katex.min.css', css.encode('utf-8'))]
    for font in sorted((dist / 'fonts').glob('*.woff2')):
        out.append((f'assets/katex/fonts/{font.name}', font.read_bytes()))
    return out



# ## Sources
#
# * [KaTeX 0.16 API](https://katex.org/docs/api.html) and [options](https://katex.org/docs/options.html):
#   `renderToString` with `throwOnError`, run at build time by `katex_render.js`.
# * [Jinja templates](https://jinja.palletsprojects.com/en/stable/templates/), with autoescape.
# * Python-Markdown's [`md_in_html`](https://python-markdown.github.io/extensions/md_in_html/),
#   which renders the prose inside the template's HTML rows.
