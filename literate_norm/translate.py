r"""
---
title: "Step 6: the Chinese edition"
summary: Every prose block of a page has its Chinese stored beside the module, keyed by a hash
  of the English; a changed English block fails the build until its Chinese is brought up to date.
section: How this site is made
order: 51
nav: "Step 6: the Chinese edition"
---

# Step 6: the Chinese edition

Every page also exists in Chinese, under `zh/`. The Chinese page is made from the same module
as the English one: the same code, the same checks, the same numbers. Only the prose changes,
and it comes from a file beside the module, `<module>.zh.yml`, which holds one entry per
**block** of English prose:

* the front matter's `title`, `summary`, `section` and `nav`;
* each paragraph of the opening docstring and of every row's prose (paragraphs are separated
  by blank lines; a fenced code block stays whole inside its paragraph).

An entry's key is the first 12 hex digits of the SHA-256 of its English text, and the entry
keeps that English beside the Chinese. So the Chinese of a block is found by what the English
*says*, not by where it is: moving a paragraph keeps its translation, and changing one word of
it leaves that block with no current Chinese. The build then warns, naming the module's file
and line and the old entry the block probably replaces, and `mkdocs build --strict` fails.
`python -m literate_norm.translate` adds an entry with the new English and an empty `zh` to the
file, and lists the old entries no block uses any more; it never removes (without `--prune`)
or rewrites a Chinese text.

The tables and notes a page computes at build time (its `_artifacts()`) are translated by
templates in the same file, under `generated`; a computed text with English words and no
template fails the build too.

[The hook](hooks.md) writes both pages from one parse: the Chinese page gets the same code
lines, the same "Run it" output and figures, `<html lang="zh-CN">`, `hreflang` links to its
English twin and back, a switch in the header, and its headings keep the English ids, so every
`#anchor` works in both languages. The terms follow [the glossary](../zh/glossary.md).
"""

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from literate_norm.catalog import HEADER, Catalog, catalog_path, dump, fill, load, short, write
from literate_norm.checks import latest_result
from literate_norm.computed import needs_chinese, translate_generated
from literate_norm.pages import PACKAGE, module_name, page_sources, pages_in_order
from literate_norm.parse import GeneratorError, Module, parse

# What other modules take from here, though it is defined in [the file](catalog.md) and
# [computed text](computed.md)
__all__ = ['HEADER', 'Catalog', 'catalog_path', 'dump', 'fill', 'load', 'write',
           'needs_chinese', 'translate_generated']

# Front-matter keys that readers see, in the order they are stored
META_KEYS = ('title', 'summary', 'section', 'nav')


@dataclass
class Block:
    """One unit of translation: its key, the English text, and where it was written."""
    key: str
    en: str
    line: int


def block_key(text: str) -> str:
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]


# A paragraph that is only math, code, a `{{ placeholder }}` or punctuation has nothing to
# translate
_NOT_WORDS = re.compile(r'\$\$.+?\$\$|\$[^$\n]+\$|```.*?```|`[^`\n]*`|\{\{ *\w+ *\}\}|'
                        r'https?://\S+', re.S)


def has_words(text: str) -> bool:
    return re.search(r'[A-Za-z]{2,}|[\u4e00-\u9fff]', _NOT_WORDS.sub(' ', text)) is not None


def paragraphs(text: str) -> List[Tuple[int, str]]:
    """
    ## Paragraphs

    `(line offset, text)` of each paragraph: lines separated by blank lines, except inside a
    fenced code block, which stays whole with the lines around it.
    """
    out, current, start, fenced = [], [], 0, False
    for i, line in enumerate(text.split('\n')):
        if line.strip().startswith('```'):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                out.append((start, '\n'.join(current)))
            current = []
            continue
        if not current:
            start = i
        current.append(line.rstrip())
    if current:
        out.append((start, '\n'.join(current)))
    return out


def _line_of(source_lines: List[str], text: str, after: int) -> int:
    # The source line where a paragraph starts: its first line, found at or after the line where
    # its row's prose starts (comment prose is `# text`, docstring prose is indented)
    first = text.split('\n', 1)[0].strip()
    for n in range(max(after, 1), len(source_lines) + 1):
        if first and first in source_lines[n - 1]:
            return n
    return after


def blocks_of(module: Module) -> List[Block]:
    """
    ## The blocks of a page

    In reading order: the front matter, the opening prose, then each row. A text that occurs
    twice on a page is one block.
    """
    lines = module.source.splitlines()
    out: List[Block] = []
    for key in META_KEYS:
        if module.meta.get(key):
            out.append(Block(block_key(module.meta[key]), module.meta[key], 1))
    texts = [(module.intro, module.intro_line)]
    texts += [('\n'.join(row.prose), row.line or (row.code[0][0] if row.code else 1))
              for row in module.rows]
    for text, line in texts:
        for _, para in paragraphs(text):
            if has_words(para):
                out.append(Block(block_key(para), para, _line_of(lines, para, line)))
    seen, unique = set(), []
    for block in out:
        if block.key not in seen:
            seen.add(block.key)
            unique.append(block)
    return unique


# ## The Chinese page
#
# The module is copied with each block's English replaced by its Chinese. What has no current
# Chinese is returned as a problem, with its line, and keeps its English on the page.


@dataclass
class Problem:
    path: str
    line: int
    message: str

    def __str__(self):
        return f'{self.path}:{self.line}: {self.message}'


def _missing(module: Module, block: Block, catalog: Catalog, used) -> Problem:
    old = _closest(block.en, catalog, used)
    hint = f' (it changed since entry {old} was translated)' if old else ''
    # The translation file, named like the module (relative to the project)
    where = Path(module.path).with_name(catalog.path.name).as_posix()
    return Problem(module.path, block.line,
                   f'no current Chinese for this block in {where}{hint}: '
                   f'"{short(block.en)}"; run `python -m literate_norm.translate`')


def _closest(text: str, catalog: Catalog, used) -> Optional[str]:
    # The unused entry whose English is most like this block's: probably what it replaced
    from difflib import SequenceMatcher
    best, score = None, 0.6
    for key, entry in catalog.entries.items():
        if key in used:
            continue
        ratio = SequenceMatcher(None, text, entry['en']).ratio()
        if ratio > score:
            best, score = key, ratio
    return best


# A line break between two Chinese characters would show as a space: the lines are joined
_CJK = '\u3000-\u303f\u4e00-\u9fff\uff00-\uffef'
_CJK_BREAK = re.compile(f'(?<=[{_CJK}])\n[ \t]*(?=[{_CJK}])')


# A paragraph with no current Chinese keeps its English, marked as such (in Chinese) for the
# reader; only `mkdocs serve` shows it, since `mkdocs build --strict` fails on it
UNTRANSLATED_NOTE = ('<p class="lit-untranslated-note" role="note" lang="zh-CN">'
                     '此段尚未翻译，暂以英文原文显示。</p>')


def untranslated(para: str) -> str:
    # A heading stays a heading (its id and the list of sources depend on it), the note after it
    head = ''
    if para.startswith('#'):
        head, _, para = para.partition('\n')
        head += '\n\n'
    if not para.strip():
        return head + UNTRANSLATED_NOTE
    return (f'{head}<div class="lit-untranslated" lang="en" markdown="block">\n'
            f'{UNTRANSLATED_NOTE}\n\n{para}\n\n</div>')


def translated_text(text: str, catalog: Catalog, found: Dict[str, str]) -> str:
    # Each paragraph with words becomes its Chinese; blank lines between them stay
    out, pos = [], 0
    lines = text.split('\n')
    for offset, para in paragraphs(text):
        n = para.count('\n') + 1
        out.extend(lines[pos:offset])
        key = block_key(para)
        if key in found:
            out.append(_CJK_BREAK.sub('', found[key]))
        else:
            out.append(untranslated(para) if has_words(para) else para)
        pos = offset + n
    out.extend(lines[pos:])
    return '\n'.join(out)


def translate_module(module: Module, catalog: Catalog) -> Tuple[Module, List[Problem]]:
    """
    ## The module, in Chinese

    Returns a copy of the module whose prose is Chinese, and the problems found: blocks with
    no entry, or an entry with no Chinese. Code, line numbers and the `{{ name }}` lines that
    computed text replaces are untouched.
    """
    blocks = blocks_of(module)
    used = {b.key for b in blocks}
    found, problems = {}, []
    for block in blocks:
        entry = catalog.entries.get(block.key)
        if entry is None or not entry['zh'].strip():
            problems.append(_missing(module, block, catalog, used))
        else:
            found[block.key] = entry['zh']
    meta = dict(module.meta)
    for key in META_KEYS:
        if meta.get(key):
            meta[key] = found.get(block_key(meta[key]), meta[key])
    rows = [replace(row, prose=[translated_text('\n'.join(row.prose), catalog, found)])
            for row in module.rows]
    intro = translated_text(module.intro, catalog, found)
    return replace(module, meta=meta, intro=intro, rows=rows), problems


# ## The front matter and the home page's list, in Chinese


def zh_meta(path: Path, meta: Dict[str, str]) -> Dict[str, str]:
    # The front matter in Chinese, where the page's translation file has it
    catalog = load(catalog_path(path))
    out = dict(meta)
    for key in META_KEYS:
        entry = catalog.entries.get(block_key(meta.get(key, '')))
        if meta.get(key) and entry and entry['zh'].strip():
            out[key] = entry['zh']
    return out


def home_page_list(lang: str = 'en') -> str:
    # The home page's list of pages: each section, then each page's title and summary
    lines, section = [], None
    for path, page, meta in pages_in_order():
        if lang == 'zh':
            meta = zh_meta(path, meta)
        if meta['section'] != section:
            section = meta['section']
            lines.append(f'\n**{section}**\n')
        colon = '：' if lang == 'zh' else ': '
        lines.append(f'- [{meta["title"]}]({page.as_posix()}){colon}{meta["summary"]}')
    return '\n'.join(lines).strip('\n')


# ## Keeping the files up to date
#
# `python -m literate_norm.translate` adds every block that has no entry, with its English and
# an empty `zh`, to its module's file, and prints which blocks still need Chinese. Existing
# entries are kept as they are, Chinese and all, so a translator's work is never lost; an entry
# no block uses any more is reported, and removed only with `--prune`.

def update(source: Path, module: Module, prune: bool = False) -> Tuple[Catalog, List[str]]:
    catalog = load(catalog_path(source))
    blocks = blocks_of(module)
    keys = {b.key for b in blocks}
    entries = {}
    for block in blocks:
        entries[block.key] = catalog.entries.get(block.key, {'en': block.en, 'zh': ''})
    orphans = {k: v for k, v in catalog.entries.items() if k not in keys}
    notes = [f'{catalog.path}: entry {k} is used by no block: "{short(v["en"])}"'
             + (' (removed)' if prune else '') for k, v in orphans.items()]
    if not prune:
        entries.update(orphans)
    return Catalog(catalog.path, entries, catalog.generated), notes


def home_module(path: Path, root: Path) -> Module:
    """The hand-written home page as a module with prose only, so it is translated the same way."""
    from literate_norm.parse import front_matter
    text = path.read_text(encoding='utf-8')
    meta, body = front_matter(text)
    return Module(str(path.relative_to(root)), text, meta, body, 1, [])


def all_pages(root: Path) -> List[Tuple[Path, Module]]:
    pages = [(root / 'docs' / 'index.md', home_module(root / 'docs' / 'index.md', root))]
    for path, _ in page_sources():
        rel = str(path.relative_to(root))
        pages.append((path, parse(rel, path.read_text(encoding='utf-8'))))
    return pages


def check_generated(source: Path, module: Module) -> int:
    # The computed texts of the page's last run of its checks, through the templates
    if not source.is_relative_to(PACKAGE):
        return 0
    folder = latest_result(module_name(source))
    if folder is None:
        return 0
    catalog, count = load(catalog_path(source)), 0
    for path in sorted(folder.glob('*.md')) + sorted(folder.glob('*.svg')):
        _, missing = translate_generated(path.read_text(encoding='utf-8'), catalog,
                                         f'{module.path}: {path.name}')
        for line in missing:
            print(line)
        count += len(missing)
    return count


def main(argv: Optional[List[str]] = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(
        prog='python -m literate_norm.translate',
        description='Add the English blocks that have no entry to each page\'s .zh.yml file, '
                    'and list the blocks that still need Chinese.')
    parser.add_argument('--check', action='store_true', help='write nothing; exit 1 if any '
                        'block has no current Chinese')
    parser.add_argument('--prune', action='store_true', help='also remove entries no block uses')
    parser.add_argument('--fill', metavar='FILE', help='set the Chinese of the entries in FILE '
                        '(sections `@@ <key>` then the text) in the --only page\'s file')
    parser.add_argument('--only', metavar='PATH', help='only the page of this module (or its '
                        '.zh.yml file)')
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    todo = 0
    if args.fill:
        if not args.only:
            parser.error('--fill needs --only')
        path = Path(args.only).resolve()
        path = path if path.name.endswith('.zh.yml') else catalog_path(path)
        catalog = load(path)
        try:
            done = fill(catalog, Path(args.fill).read_text(encoding='utf-8'))
        except GeneratorError as e:
            parser.exit(2, f'error: {e}; run without --fill first to add the new entries\n')
        write(catalog, root)
        print(f'{path.relative_to(root)}: {len(done)} set')
    for source, module in all_pages(root):
        if args.only and Path(args.only).resolve() not in (source, catalog_path(source)):
            continue
        todo += check_generated(source, module)
        catalog, notes = update(source, module, prune=args.prune)
        rel = catalog.path.relative_to(root)
        empty = [b for b in blocks_of(module) if not catalog.entries[b.key]['zh'].strip()]
        todo += len(empty)
        for block in empty:
            print(f'{module.path}:{block.line}: needs Chinese: "{short(block.en)}"')
        for note in notes:
            print(note)
        if not args.check:
            text = dump(catalog, HEADER.format(source=source.relative_to(root).as_posix()))
            old = catalog.path.read_text(encoding='utf-8') if catalog.path.exists() else None
            if text != old:
                catalog.path.write_text(text, encoding='utf-8')
                print(f'{rel}: written ({len(catalog.entries)} entries)')
    print(f'{todo} blocks need Chinese')
    return 1 if args.check and todo else 0


if __name__ == '__main__':
    raise SystemExit(main())

# ## Sources
#
# * Python's [`hashlib`](https://docs.python.org/3.11/library/hashlib.html) (SHA-256) and
#   [`difflib.SequenceMatcher`](https://docs.python.org/3.11/library/difflib.html#sequencematcher-objects)
#   (which old entry a changed block most resembles).
# * [YAML 1.2.2, §8.1 block scalar styles](https://yaml.org/spec/1.2.2/#81-block-scalar-styles):
#   the literal style `|` with the strip chomping indicator `-`, which keeps each line as written;
#   read and written with [PyYAML](https://pyyaml.org/wiki/PyYAMLDocumentation).
# * Material for MkDocs, [Chinese search support](https://squidfunk.github.io/mkdocs-material/blog/2022/05/05/chinese-search-support/):
#   with `jieba` installed the search plugin segments Chinese text at build time, joining the
#   words with U+200B, which the `separator` must include; `jieba_dict_user` adds our terms.
# * Google Search Central, [localized versions of a page](https://developers.google.com/search/docs/specialty/international/localized-versions):
#   `<link rel="alternate" hreflang>` on every version, each listing all versions and itself, with
#   fully qualified URLs, and `x-default`.
