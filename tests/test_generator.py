"""
Unit tests of the generator's parse, highlight and render steps (the `literate_norm`
package).
"""

import textwrap

import pytest

import literate_norm as literate


def parse(source: str):
    return literate.parse('example.py', textwrap.dedent(source).lstrip('\n'))


def code_of(module):
    return [[text for _, text in row.code] for row in module.rows]


def test_module_docstring_opens_the_page_with_front_matter():
    m = parse('''
        """
        ---
        title: A page
        summary: What it teaches.
        ---

        # A page

        Intro text.
        """
        x = 1
        ''')
    assert m.meta == {'title': 'A page', 'summary': 'What it teaches.'}
    assert m.intro.startswith('# A page') and 'Intro text.' in m.intro
    assert code_of(m) == [['x = 1']]


def test_comments_are_prose_of_the_code_below_and_same_line_comments_stay_in_code():
    m = parse('''
        # First
        a = 1  # stays in code
        # Second
        b = 2
        ''')
    assert [r.prose for r in m.rows] == [['First'], ['Second']]
    assert code_of(m) == [['a = 1  # stays in code'], ['b = 2']]


def test_empty_comment_line_starts_a_new_row():
    m = parse('''
        # Part one
        #
        # Part two
        x = 1
        ''')
    assert [r.prose for r in m.rows] == [['Part one'], ['Part two']]
    assert code_of(m) == [[], ['x = 1']]


def test_function_docstring_is_prose_of_its_def_row_with_decorators():
    m = parse('''
        x = 0
        @staticmethod
        @other(1)
        def f(a):
            """
            ## f

            Does things.
            """
            return a
        ''')
    assert code_of(m) == [['x = 0'], ['@staticmethod', '@other(1)', 'def f(a):', '    return a']]
    assert m.rows[1].prose == ['## f\n\nDoes things.']
    # Line numbers are the source's: the docstring's lines are skipped, not renumbered
    assert [n for n, _ in m.rows[1].code] == [2, 3, 4, 10]


def test_nested_functions_and_classes():
    m = parse('''
        class A:
            """Class A."""
            def method(self):
                """The method."""
                def inner():
                    """Inner."""
                    return 1
                return inner
        ''')
    assert [r.prose for r in m.rows] == [['Class A.'], ['The method.'], ['Inner.']]
    assert code_of(m) == [['class A:'], ['    def method(self):'],
                          ['        def inner():', '            return 1', '        return inner']]


def test_hash_inside_strings_is_not_a_comment():
    m = parse('''
        s = "# not a comment"
        t = """
        # not a comment either
        """
        ''')
    assert all(not r.prose or r.prose == [''] for r in m.rows)
    assert code_of(m) == [['s = "# not a comment"', 't = """', '# not a comment either', '"""']]


def test_highlight_escapes_html_and_keeps_line_numbers():
    m = parse('''
        a = "<b> & </script>"  # <i>
        b = 2
        ''')
    lines = literate.highlight(m)
    assert '<b>' not in lines[1] and '&lt;b&gt;' in lines[1] and '&amp;' in lines[1]
    assert '</script>' not in lines[1] and '&lt;/script&gt;' in lines[1]
    assert 'b' in lines[2] and '2' in lines[2]


def test_render_escapes_code_strings_comments_and_script_in_prose():
    m = parse('''
        """
        # T
        """
        # prose with </script> inside
        a = "</script><b>&"
        ''')
    math = literate.MathCollector()
    crumbs = [('Home', 'index.md')]
    page = literate.render(m, literate.highlight(m), math, None, 'example.py', crumbs)
    assert '</script>' not in page
    assert '&lt;/script&gt;' in page and '<b>&' not in page


def test_script_tag_in_a_prose_code_span_shows_as_written():
    # Markdown escapes a code span itself: `</script>` there must reach it unescaped, and come out
    # of Markdown as `&lt;/script&gt;` (shown as `</script>`), never as a literal `&lt;`
    import markdown
    m = parse('''
        """
        # T
        """
        # Close a tag with `</script>` in HTML, but never </script> in prose
        x = 1
        ''')
    page = literate.render(m, literate.highlight(m), literate.MathCollector(), None, 'e.py', [])
    assert '`</script>`' in page and 'never &lt;/script> in prose' in page
    html = markdown.markdown('Close `</script>` and &lt;/script> here')
    assert '<code>&lt;/script&gt;</code>' in html and '&amp;lt;' not in html


def test_sources_block_is_the_last_section_after_run_it():
    m = parse('''
        """
        # T
        """
        x = 1

        # ## Sources
        #
        # * [A paper](https://arxiv.org/abs/1607.06450), §3
        ''')
    run = {'module': 'example', 'ok': True, 'output': 'ok'}
    page = literate.render(m, literate.highlight(m), literate.MathCollector(), run, 'e.py', [])
    assert page.index('id="run-it"') < page.index('class="lit-sources"') < page.index('## Sources')
    assert page.count('class="lit-row"') == 1 and '* [A paper]' in page


def test_prose_stays_markdown_for_mkdocs():
    # Prose is handed to MkDocs as Markdown: `<=` in a code span must reach it as
    # written, not as `&lt;=`
    m = parse('''
        """
        # T

        Rows with `cols <= BLOCK` & more.
        """
        # A comment with `a < b`
        x = 1
        ''')
    page = literate.render(m, literate.highlight(m), literate.MathCollector(), None, 'e.py', [])
    assert '`cols <= BLOCK` & more' in page and '`a < b`' in page


def test_syntax_error_is_reported_with_file_and_line():
    with pytest.raises(literate.GeneratorError, match=r'example\.py:3: '):
        parse('''
            x = 1
            y = 2
            def f(:
            ''')


def test_math_is_extracted_outside_code_spans_and_rendered_by_katex():
    math = literate.MathCollector()
    source = 'Inline $x^2$, display $$\\frac{a}{b}$$, code `$not math$`, price \\$5.'
    text = math.extract(source, 'f.py:1')
    assert 'KATEXMATH0X' in text and 'KATEXMATH1X' in text and '`$not math$`' in text
    html = literate.substitute_math(text, math.render())
    assert 'class="katex"' in html and 'katex-display' in html
    assert '\\frac' not in html.split('annotation')[0]


def test_malformed_math_fails_with_its_location():
    math = literate.MathCollector()
    math.extract('Broken $\\frac{a$ here', 'labml_nn_norm/x.py:12')
    with pytest.raises(literate.GeneratorError, match=r'labml_nn_norm/x\.py:12: malformed math'):
        math.render()


def test_rendering_is_deterministic():
    source = '"""\n# T\n\n$a+b$\n"""\n# $x$ prose\nx = 1\n'
    pages = []
    for _ in range(2):
        m = literate.parse('d.py', source)
        math = literate.MathCollector()
        page = literate.render(m, literate.highlight(m), math, None, 'd.py', [])
        pages.append(literate.substitute_math(page, math.render()))
    assert pages[0] == pages[1]


def _package(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip('\n'))
    return tmp_path


def test_cache_key_ignores_prose_and_follows_imports(tmp_path):
    # A page's key changes with the code of what it imports, never with prose
    from literate_norm.cache import dependencies, page_key
    root = _package(tmp_path, {
        'pkg/__init__.py': '',
        'pkg/_helper.py': 'def helper():\n    return 1\n',
        'pkg/base/__init__.py': '"""Base."""\nfrom pkg._helper import helper\n',
        'pkg/page/__init__.py': '''
            """A page."""
            # prose
            def _test():
                from pkg.base import helper
                return helper()
            ''',
        'pkg/other/__init__.py': 'X = 1\n',
        'pkg/page/results/data.json': '{"a": 1}',
    })
    page = root / 'pkg/page/__init__.py'
    deps = {p.relative_to(root).as_posix() for p in dependencies(root, page, 'pkg')}
    assert deps == {'pkg/__init__.py', 'pkg/_helper.py', 'pkg/base/__init__.py',
                    'pkg/page/__init__.py'}
    key = page_key(root, page, 'pkg')
    # Prose: a docstring and comments edited, a comment line added
    page.write_text(page.read_text().replace('A page.', 'A page, explained.').replace(
        '# prose', '# more prose\n#\n# and more'))
    base = '"""Base, reworded."""\nfrom pkg._helper import helper\n'
    (root / 'pkg/base/__init__.py').write_text(base)
    assert page_key(root, page, 'pkg') == key
    # A module nobody imports
    (root / 'pkg/other/__init__.py').write_text('X = 2\n')
    assert page_key(root, page, 'pkg') == key
    # Code two imports away, and the page's data
    (root / 'pkg/_helper.py').write_text('def helper():\n    return 2\n')
    changed = page_key(root, page, 'pkg')
    assert changed != key
    (root / 'pkg/page/results/data.json').write_text('{"a": 2}')
    assert page_key(root, page, 'pkg') != changed


def test_front_matter_values_wrap_and_unquote():
    m = parse('''
        """
        ---
        title: "Step 1: parse"
        summary: A summary long enough
          to need a second line.
        ---

        # T
        """
        ''')
    assert m.meta == {'title': 'Step 1: parse',
                      'summary': 'A summary long enough to need a second line.'}


def test_headings_never_skip_a_level():
    # `#` title, then `###` in the opening prose: it becomes `##`; code spans are left alone
    from literate_norm.render import even_headings
    texts = even_headings(
        ['# Title\n\n### Why\n\ntext `### not a heading`', '## The module\n\n#### Deep',
         '## Sources'],
        start=0)
    assert texts == ['# Title\n\n## Why\n\ntext `### not a heading`', '## The module\n\n### Deep',
                     '## Sources']


def test_names_in_code_are_addressable_and_symbols_are_declared():
    m = parse('''
        r"""
        ---
        title: T
        symbols: eps \\epsilon; x_hat \\hat{x}
        ---
        # T
        """
        y = x_hat * eps
        ''')
    lines = literate.highlight(m)
    # Plain names keep a span (a click marks them); punctuation and spaces do not
    assert '<span class="n">x_hat</span>' in ''.join(lines.values())
    assert '<span class="p">' not in ''.join(lines.values())
    math = literate.MathCollector()
    page = literate.render(m, lines, math, None, 'example.py', [('Home', 'index.md')])
    assert 'data-name="eps"' in page and 'data-name="x_hat"' in page
    assert [tex for tex, _, _ in math.formulas] == ['\\epsilon', '\\hat{x}']
    from literate_norm.render import parse_symbols
    with pytest.raises(literate.GeneratorError, match="expected `name"):
        parse_symbols('eps', 'x.py')
    with pytest.raises(literate.GeneratorError, match="'2x y'"):
        parse_symbols('2x y', 'x.py')


def test_notebook_cells_are_valid_python_and_the_bytes_repeat():
    import json
    m = parse('''
        """
        ---
        title: T
        ---
        # T

        See [the other page](../other/index.md) and ![a figure](fig.svg).
        """
        import math


        class A:
            """A class."""

            def f(self):
                """
                A method's docstring is prose.
                """
                # a comment row
                return math.pi


        def _test():
            assert A().f() > 3


        if __name__ == '__main__':
            _test()
        ''')
    first = literate.notebook(m, 'pkg.mod', {'fig.svg': b'<svg/>'})
    assert first == literate.notebook(m, 'pkg.mod', {'fig.svg': b'<svg/>'})
    nb = json.loads(first)
    assert nb['nbformat'] == 4 and nb['nbformat_minor'] == 5
    ids = [c['id'] for c in nb['cells']]
    assert len(set(ids)) == len(ids)
    code = [c['source'] for c in nb['cells'] if c['cell_type'] == 'code']
    for source in code:
        compile(source, 'cell', 'exec')  # the class and its method stay in one cell
    assert code[-1] == '_test()' and not any('__main__' in s for s in code)
    text = '\n'.join(c['source'] for c in nb['cells'] if c['cell_type'] == 'markdown')
    assert "A method's docstring is prose." in text and '](../other/)' in text
    assert '](attachment:fig.svg)' in text
    # Running the cells in order works
    scope = {}
    for source in code:
        exec(source, scope)


def test_the_generator_has_no_import_cycle_and_no_file_over_400_lines():
    # Each module of `literate_norm/` imports only modules listed before it in this order
    # (a cycle would make one of them import a half-initialised other); `hooks.py` holds the
    # MkDocs events, so nothing imports it
    import ast
    from pathlib import Path

    from literate_norm.pages import HERE
    graph = {}
    for path in sorted(HERE.glob('*.py')):
        tree = ast.parse(path.read_text(encoding='utf-8'))
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or '').startswith(
                    'literate_norm'):
                rest = node.module[len('literate_norm'):].lstrip('.')
                found.update([rest] if rest else [a.name for a in node.names])
            elif isinstance(node, ast.Import):
                found.update(a.name.split('.')[2] for a in node.names
                             if a.name.startswith('literate_norm.'))
        name = '__init__' if path.stem == '__init__' else path.stem
        graph[name] = {m for m in found if (HERE / f'{m}.py').exists()} - {name}
        lines = len(path.read_text(encoding='utf-8').splitlines())
        assert lines <= 400, f'{path.name}: {lines} lines'

    def reaches(start, target, seen=()):
        return any(n == target or (n not in seen and reaches(n, target, seen + (n,)))
                   for n in graph.get(start, ()))
    cycles = [m for m in graph if reaches(m, m)]
    assert not cycles, {m: sorted(graph[m]) for m in cycles}
    assert not [m for m, deps in graph.items() if 'hooks' in deps], graph
    assert Path(HERE / 'pages.py').exists() and 'pages' in graph['translate']
    assert 'pages' in graph['hooks']


def test_the_code_of_every_row_skips_markdown():
    # The page's code blocks are set aside before Markdown (one placeholder per block) and the
    # search sees them as plain text; a template change that the pattern no longer matches would
    # make every build parse each highlighted token twice (it did: half the build's time)
    import re
    from pathlib import Path

    from literate_norm.finish import CodeBlocks
    from literate_norm.pages import ROOT
    path = ROOT / 'labml_nn_norm' / 'rms_norm' / '__init__.py'
    module = literate.parse(str(path.relative_to(ROOT)), path.read_text(encoding='utf-8'))
    html = literate.render(module, literate.highlight(module), literate.MathCollector(), None,
                           'index.py', [('Home', '../index.md')])
    rows_with_code = sum(1 for row in module.rows if row.code) - (
        1 if '## Sources' in '\n'.join(module.rows[-1].prose) else 0)
    code = CodeBlocks()
    aside = code.set_aside(html)
    blocks = len(code.blocks)
    assert blocks == html.count('<pre class="lit-src"') >= rows_with_code > 10
    assert 'lit-cl' not in aside and 'LITCODEBLOCK0X' in aside
    plain = code.plain(aside)
    first = re.search(r'<div class="lit-code" data-lit-block="0"><pre>(.*?)</pre>', plain, re.S)
    assert '<span' not in first.group(1) and 'import' in first.group(1), plain[:200]
    # and back, whole
    assert code.restore(plain) == html
    assert Path(path).exists()


def test_a_paragraph_without_chinese_shows_in_english_marked_on_the_chinese_page():
    from pathlib import Path

    from literate_norm import translate
    from literate_norm.catalog import Catalog
    m = parse('''
        """
        ---
        title: A page
        ---

        # A heading

        A paragraph nobody translated.
        """
        x = 1
        ''')
    heading = {'en': '# A heading', 'zh': '# 一个标题'}
    translated = Catalog(Path('a.zh.yml'), {translate.block_key('# A heading'): heading}, [])
    zh, problems = translate.translate_module(m, translated)
    assert len(problems) == 2 and all('no current Chinese' in str(p) for p in problems)
    assert zh.intro.startswith('# 一个标题\n')
    assert ('<div class="lit-untranslated" lang="en" markdown="block">\n'
            + translate.UNTRANSLATED_NOTE + '\n\nA paragraph nobody translated.\n\n</div>'
            ) in zh.intro
    note = translate.UNTRANSLATED_NOTE
    assert 'role="note"' in note and 'lang="zh-CN"' in note and '尚未翻译' in note
    # A heading with no Chinese stays a heading, the note after it
    zh, _ = translate.translate_module(m, Catalog(Path('a.zh.yml'), {}, []))
    assert zh.intro.startswith('# A heading\n\n' + translate.UNTRANSLATED_NOTE)


def test_one_page_renders_outside_mkdocs(tmp_path):
    # `build_page` is the whole pipeline for one module; `python -m literate_norm FILE` writes
    # it to a file (here into tmp_path, never into the user's tree)
    import subprocess
    import sys

    from literate_norm.pages import ROOT
    path = ROOT / 'labml_nn_norm' / 'rms_norm' / '__init__.py'
    html = literate.build_page(path)
    module = literate.parse('x.py', path.read_text(encoding='utf-8'))
    rendered = literate.render(module, literate.highlight(module), literate.MathCollector(), None,
                               'index.py', [])
    assert html.count('class="lit-row"') == rendered.count('class="lit-row"') >= 20
    assert 'class="katex"' in html and 'KATEXMATH' not in html and '<h1' in html
    zh = literate.build_page(path, 'zh')
    assert 'RMSNorm' in zh and zh != html
    out = tmp_path / 'page.html'
    done = subprocess.run([sys.executable, '-m', 'literate_norm', str(path), '-o', str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and out.read_text(encoding='utf-8').count('lit-row') >= 10, \
        done.stderr
    bad = subprocess.run([sys.executable, '-m', 'literate_norm', 'README.md'], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "expected a Python module of the site, got 'README.md'" in \
        bad.stderr


def test_a_folded_check_group_is_one_details_block_under_its_heading():
    m = parse('''
        """
        # A page
        """
        from labml_nn_norm._check import check, check_group


        def f(x):
            return x


        @check_group
        def _check_teaches():
            """
            ## What it teaches
            """
            check('f is the identity', f(1) == 1)


        @check_group(fold=True)
        def _check_against_torch():
            """
            ## Against `torch`
            """
            check('one', True)
            # A comment inside starts a second row of the same group
            check('two', True)


        @check_group(fold=True)
        def _check_errors():
            """
            ## Errors
            """
            check('three', True)
        ''')
    folded = [(row.folded, row.code[0][1].strip()) for row in m.rows if row.code]
    assert [f for f, _ in folded] == [0, 0, 19, 19, 29], folded
    html = literate.render(m, literate.highlight(m), literate.MathCollector(), None, 'x.py', [])
    assert html.count('<details class="lit-fold"') == 2 and html.count('</details>') == 2
    assert '<summary markdown="span">Against `torch` <span class="lit-fold-count">' \
           '4 lines of checks, folded' in html
    # The teaching group stays in the reading path, outside any fold
    assert html.index('What it teaches') < html.index('<details')


def test_a_check_group_prints_its_docstring_heading(capsys):
    from labml_nn_norm._check import check_group

    @check_group(fold=True)
    def _check_something():
        """
        ## Against `torch.nn.LayerNorm`

        More words.
        """
        return 7
    assert _check_something() == 7 and _check_something.folded
    assert 'Against torch.nn.LayerNorm' in capsys.readouterr().out
    with pytest.raises(TypeError, match='has no docstring'):
        check_group(lambda: None)


def test_a_computed_script_in_a_data_url_survives_and_any_other_is_shown_as_text():
    from literate_norm.render import _escape_script
    kept = '<script src="data:text/javascript;base64,QUJD"></script>'
    out = _escape_script(f'before {kept} after <script>alert(1)</script> `<script>`')
    assert kept in out and '&lt;script>alert(1)&lt;/script>' in out and '`<script>`' in out
    # Anything that could end the tag early is not a base64 data URL, so it is escaped
    assert '<script' not in _escape_script('<script src="data:text/javascript;base64,A<B">'
                                           '</script>').replace('&lt;script', '')


def test_every_pages_notebook_cells_compile():
    # Docstrings become Markdown cells: a class whose only body was its docstring, or a check
    # group (whose heading is its docstring), must still be valid Python in its code cell
    import json

    from literate_norm.pages import PACKAGE, ROOT, module_name, page_sources
    for path, _ in page_sources():
        if not path.is_relative_to(PACKAGE):
            continue
        module = literate.parse(str(path.relative_to(ROOT)), path.read_text(encoding='utf-8'))
        cells = json.loads(literate.notebook(module, module_name(path)))['cells']
        for i, cell in enumerate(cells):
            if cell['cell_type'] == 'code':
                compile(''.join(cell['source']), f'{path.name} cell {i}', 'exec')
