"""The real site: a strict build with every page, and two builds byte-identical."""

import filecmp

from conftest import ROOT, build_site

from scripts_path import page_sources  # noqa: F401  (imported for the page list)


def test_every_module_has_a_page(site_dir):
    for source, page in page_sources():
        html = site_dir / page.with_suffix('') / 'index.html' if page.name != 'index.md' \
            else site_dir / page.parent / 'index.html'
        assert html.exists(), f'{source.relative_to(ROOT)} has no page at {html.relative_to(site_dir)}'
        text = html.read_text(encoding='utf-8')
        assert 'class="lit-row"' in text, f'{html} has no side-by-side rows'
        # Each page ships a copy of its source beside its Markdown, linked from the page
        source_copy = site_dir / page.parent / ('index.py' if source.name == '__init__.py' else source.name)
        assert source_copy.read_text(encoding='utf-8') == source.read_text(encoding='utf-8')


def test_run_it_boxes_show_passing_checks(site_dir):
    for source, page in page_sources():
        if not source.is_relative_to(ROOT / 'labml_nn_norm'):
            continue
        html = (site_dir / page.parent / 'index.html' if page.name == 'index.md'
                else site_dir / page.with_suffix('') / 'index.html').read_text(encoding='utf-8')
        assert 'id="run-it"' in html and 'lit-failed' not in html and '✓' in html, page


def test_two_builds_are_byte_identical(site_dir, tmp_path):
    second = tmp_path / 'second'
    done = build_site(second)
    assert done.returncode == 0, done.stderr[-3000:]
    differing = []
    for path in site_dir.rglob('*'):
        if path.is_file() and path.suffix in ('.html', '.svg', '.css', '.py', '.json'):
            other = second / path.relative_to(site_dir)
            if not other.exists() or not filecmp.cmp(path, other, shallow=False):
                differing.append(str(path.relative_to(site_dir)))
    assert not differing, f'not byte-identical: {differing[:10]}'
