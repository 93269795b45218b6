r"""
---
title: "Step 6: the Chinese edition"
summary: Every prose block of a page has its Chinese stored beside the module, keyed by a hash
  of the English; a changed English block fails the build until its Chinese is brought up to date.
section: How this site is made
order: 48
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
and line, and `mkdocs build --strict` fails. `python -m scripts.literate.translate` adds an
entry with the new English and an empty `zh` to the file, and says which old entry it
probably replaces; it never removes or rewrites a Chinese text.

The tables and notes a page computes at build time (its `_artifacts()`) are translated by
templates in the same file, under `generated`; a computed text with English words and no
template fails the build too.

[The hook](hooks.md) writes both pages from one parse: the Chinese page gets the same code
lines, the same "Run it" output and figures, `<html lang="zh-CN">`, `hreflang` links to its
English twin and back, a switch in the header, and its headings keep the English ids, so every
`#anchor` works in both languages. The terms follow [the glossary](../../zh/glossary.md).
"""

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from scripts.literate.parse import GeneratorError, Module

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


# ## The translation file
#
# YAML, so that the Chinese of a paragraph is written as a block of lines, exactly as the
# English is: `key: {en: ..., zh: ...}` in reading order, then the `generated` templates.


def catalog_path(source: Path) -> Path:
    """`labml_nn_norm/layer_norm/backward.py` → `labml_nn_norm/layer_norm/backward.zh.yml`."""
    return source.with_name(source.stem + '.zh.yml')


@dataclass
class Catalog:
    path: Path
    entries: Dict[str, Dict[str, str]]
    generated: List[Dict[str, str]]


# Parsed files by their text: a build reads each one several times, `mkdocs serve` at every rebuild
_parsed: Dict[Tuple[Path, str], dict] = {}
# libyaml's parser when PyYAML has it (written in C), else PyYAML's own (pure Python)
_Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def load(path: Path) -> Catalog:
    if not path.exists():
        return Catalog(path, {}, [])
    text = path.read_text(encoding='utf-8')
    if (path, text) not in _parsed:
        try:
            _parsed[path, text] = yaml.load(text, Loader=_Loader) or {}
        except yaml.YAMLError as e:
            raise GeneratorError(f'{path}: not valid YAML: {e}') from e
    data = _parsed[path, text]
    if not isinstance(data, dict):
        raise GeneratorError(f'{path}: expected a mapping of block keys, got {type(data).__name__}')
    data = dict(data)
    generated = [dict(g) if isinstance(g, dict) else g for g in data.pop('generated', None) or []]
    entries = {}
    for key, entry in data.items():
        if not (isinstance(entry, dict) and isinstance(entry.get('en'), str)
                and isinstance(entry.get('zh', ''), str)):
            raise GeneratorError(f'{path}: entry {key!r}: expected `en:` and `zh:` texts')
        entries[str(key)] = {'en': entry['en'], 'zh': entry.get('zh') or ''}
    for i, item in enumerate(generated):
        if not (isinstance(item, dict) and isinstance(item.get('en'), str)
                and isinstance(item.get('zh'), str)):
            raise GeneratorError(f'{path}: generated[{i}]: expected `en:` and `zh:` texts')
    return Catalog(path, entries, generated)


def _scalar(text: str, indent: str) -> str:
    # A literal block (`|-`) when it reads back exactly, else a quoted string
    if text and '\t' not in text and not text[0].isspace() and not any(
            line != line.rstrip() for line in text.split('\n')):
        body = '\n'.join((indent + line) if line else '' for line in text.split('\n'))
        candidate = f'|-\n{body}'
        try:
            if yaml.safe_load(f'k: {candidate}') == {'k': text}:
                return candidate
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def dump(catalog: Catalog, header: str) -> str:
    out = [f'# {line}'.rstrip() for line in header.split('\n')]
    for key, entry in catalog.entries.items():
        out.append(f'"{key}":')
        out.append(f'  en: {_scalar(entry["en"], "    ")}')
        out.append(f'  zh: {_scalar(entry["zh"], "    ")}')
    if catalog.generated:
        out.append('generated:')
        for item in catalog.generated:
            out.append(f'- en: {_scalar(item["en"], "    ")}')
            out.append(f'  zh: {_scalar(item["zh"], "    ")}')
    text = '\n'.join(out) + '\n'
    # What is written must read back as what was meant
    data = yaml.safe_load(text) or {}
    assert {k: v for k, v in data.items() if k != 'generated'} == catalog.entries
    return text


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
                   f'"{_short(block.en)}"; run `python -m scripts.literate.translate`')


def _short(text: str, n: int = 70) -> str:
    text = ' '.join(text.split())
    return text if len(text) <= n else text[:n - 1] + '…'


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


def translated_text(text: str, catalog: Catalog, found: Dict[str, str]) -> str:
    # Each paragraph with words becomes its Chinese; blank lines between them stay
    out, pos = [], 0
    lines = text.split('\n')
    for offset, para in paragraphs(text):
        n = para.count('\n') + 1
        out.extend(lines[pos:offset])
        key = block_key(para)
        out.append(_CJK_BREAK.sub('', found[key]) if key in found else para)
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


# ## Computed text
#
# A page's `_artifacts()` writes Markdown (tables, notes) or HTML/SVG with English in it and
# numbers that change from run to run. Each *unit* of it (a table cell, a line of text, an HTML
# text node or `aria-label`) is translated whole by the first template that matches it all:
# `en: "sample <1>, feature <2>"`, `zh: "样本 <1>，特征 <2>"`, where `<n>` stands for any text.


def _template(en: str) -> re.Pattern:
    parts = re.split(r'<(\d)>', en)
    pattern = ''.join(re.escape(p) if i % 2 == 0 else f'(?P<s{p}>.+?)'
                      for i, p in enumerate(parts))
    return re.compile(pattern + r'\Z', re.S)


# English words that Chinese technical writing keeps as they are
_KEPT = {'ms', 'vs', 'lr', 'GB', 'NaN'}
_CODE_OR_MATH = re.compile(r'`[^`]*`|\$[^$]+\$|\*\*[^*]*\*\*')


def needs_chinese(unit: str) -> bool:
    """A unit needs Chinese if, outside code and math, it has a lowercase English word."""
    text = _CODE_OR_MATH.sub(' ', unit)
    words = re.findall(r'(?<![\w.\-])[a-z][a-z]+(?![\w.(\-])', text)
    return any(w not in _KEPT for w in words)


class Templates:
    def __init__(self, catalog: Catalog):
        # The most specific first: the template with the most literal text
        ordered = sorted(catalog.generated, key=lambda t: -len(re.sub(r'<\d>', '', t['en'])))
        self.items = [(_template(t['en']), t['zh']) for t in ordered]

    def unit(self, text: str, depth: int = 0) -> Optional[str]:
        """
        The Chinese of one unit, or `None` if it needs Chinese and no template gives it. A slot
        whose text is itself a unit with a template is translated too (a table cell "**reproduces**:
        grows (...)" is one template, its verdict and its trend two more).
        """
        stripped = text.strip()
        if not stripped:
            return text
        for pattern, zh in self.items:
            match = pattern.match(stripped)
            if match:
                def slot(m: re.Match) -> str:
                    value = match.group(f's{m.group(1)}')
                    inner = self.unit(value, depth + 1) if depth < 3 else None
                    return value if inner is None else inner
                out = re.sub(r'<(\d)>', slot, zh)
                if depth == 0 and _ENGLISH_PHRASE.search(_CODE_OR_MATH.sub(' ', out)):
                    return None
                return text[:len(text) - len(text.lstrip())] + out + text[len(text.rstrip()):]
        return None if needs_chinese(stripped) else text


# Two English words in a row left in a translated unit: a slot whose text had no template
_ENGLISH_PHRASE = re.compile(r'(?<![\w.\-])[a-z]{2,} [a-z]{2,}(?![\w(])')


def translate_generated(text: str, catalog: Catalog, where: str) -> Tuple[str, List[str]]:
    """
    Translate a computed Markdown or HTML/SVG text unit by unit; returns the text and the units
    that need Chinese and have no template.
    """
    templates, missing = Templates(catalog), []

    def unit(piece: str) -> str:
        out = templates.unit(piece)
        if out is None:
            missing.append(f'{where}: no Chinese template for "{_short(piece.strip(), 90)}"')
            return piece
        return out
    if re.match(r'\s*<(\?xml|svg)', text):
        # A figure: the text of its `<text>` and `<tspan>` elements
        return re.sub(r'(<(text|tspan)\b[^>]*>)([^<]+)(?=<)',
                      lambda m: m.group(1) + unit(m.group(3)), text), missing
    if text.lstrip().startswith('<'):
        # HTML: text nodes, and the labels a screen reader reads
        text = re.sub(r'(?<=>)([^<>]+)(?=<)', lambda m: unit(m.group(1)), text)
        text = re.sub(r'((?:aria-label|title|alt)=")([^"]*)(")',
                      lambda m: m.group(1) + unit(m.group(2)) + m.group(3), text)
        return text, missing
    out = []
    for line in text.split('\n'):
        if re.match(r'\s*\|', line):
            if re.fullmatch(r'[\s|:\-]+', line):
                out.append(line)
                continue
            cells = line.strip().strip('|').split(' | ')
            out.append('| ' + ' | '.join(unit(c.strip()) for c in cells) + ' |')
            continue
        marker = re.match(r'\s*(?:[*\-] |\d+\. )?', line).group(0)
        out.append(marker + unit(line[len(marker):]) if line.strip() else line)
    return '\n'.join(out), missing


# ## Keeping the files up to date
#
# `python -m scripts.literate.translate` adds every block that has no entry, with its English and
# an empty `zh`, to its module's file, and prints which blocks still need Chinese. Existing
# entries are kept as they are, Chinese and all, so a translator's work is never lost; an entry
# no block uses any more is reported, and removed only with `--prune`.

HEADER = '''Chinese text of {source}, one entry per block of English prose.
The key is the first 12 hex digits of the SHA-256 of the English (`en`), which is kept beside
the Chinese (`zh`). When the English changes, the block gets a new key and no Chinese; run
`python -m scripts.literate.translate` to add it here. Terms follow docs/zh/glossary.md.'''


def update(source: Path, module: Module, prune: bool = False) -> Tuple[Catalog, List[str]]:
    catalog = load(catalog_path(source))
    blocks = blocks_of(module)
    keys = {b.key for b in blocks}
    entries = {}
    for block in blocks:
        entries[block.key] = catalog.entries.get(block.key, {'en': block.en, 'zh': ''})
    orphans = {k: v for k, v in catalog.entries.items() if k not in keys}
    notes = [f'{catalog.path}: entry {k} is used by no block: "{_short(v["en"])}"'
             + (' (removed)' if prune else '') for k, v in orphans.items()]
    if not prune:
        entries.update(orphans)
    return Catalog(catalog.path, entries, catalog.generated), notes


def home_module(path: Path, root: Path) -> Module:
    """The hand-written home page as a module with prose only, so it is translated the same way."""
    from scripts.literate.parse import front_matter
    text = path.read_text(encoding='utf-8')
    meta, body = front_matter(text)
    return Module(str(path.relative_to(root)), text, meta, body, 1, [])


def all_pages(root: Path) -> List[Tuple[Path, Module]]:
    from scripts.literate import parse
    from scripts.literate.hooks import page_sources
    pages = [(root / 'docs' / 'index.md', home_module(root / 'docs' / 'index.md', root))]
    for path, _ in page_sources():
        rel = str(path.relative_to(root))
        pages.append((path, parse(rel, path.read_text(encoding='utf-8'))))
    return pages


def source_of(catalog: Path) -> Path:
    # `x/backward.zh.yml` → `x/backward.py`; the home page's is `docs/index.zh.yml`
    name = catalog.name[:-len('.zh.yml')]
    return catalog.with_name(name + ('.md' if catalog.parent.name == 'docs' else '.py'))


def write(catalog: Catalog, root: Path):
    header = HEADER.format(source=source_of(catalog.path).relative_to(root).as_posix())
    catalog.path.write_text(dump(catalog, header), encoding='utf-8')


def fill(catalog: Catalog, text: str) -> List[str]:
    """
    Chinese written as sections, `@@ <key>` then the text; `@@ gen` then `en: ...`/`zh: ...` line
    pairs for templates. Returns the keys set.
    """
    done = []
    for section in re.split(r'^@@ ', text, flags=re.M)[1:]:
        head, _, body = section.partition('\n')
        head, body = head.strip(), body.strip('\n').rstrip()
        if head == 'gen':
            pairs = re.findall(r'^en: (.*)\n+zh: (.*)$', body, re.M)
            for en, zh in pairs:
                en, zh = en.strip(), zh.strip()
                catalog.generated[:] = [g for g in catalog.generated if g['en'] != en]
                catalog.generated.append({'en': en, 'zh': zh})
                done.append(f'generated: {en}')
            continue
        if head not in catalog.entries:
            raise GeneratorError(f'{catalog.path}: no entry {head!r} (fill with the keys of '
                                 f'this file)')
        catalog.entries[head]['zh'] = body
        done.append(head)
    return done


def check_generated(source: Path, module: Module) -> int:
    # The computed texts of the page's last run of its checks, through the templates
    from scripts.literate.hooks import _latest_result, module_name
    if not source.is_relative_to(Path(__file__).resolve().parents[2] / 'labml_nn_norm'):
        return 0
    folder = _latest_result(module_name(source))
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
        prog='python -m scripts.literate.translate',
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
    root = Path(__file__).resolve().parents[2]
    todo = 0
    if args.fill:
        if not args.only:
            parser.error('--fill needs --only')
        path = Path(args.only).resolve()
        path = path if path.name.endswith('.zh.yml') else catalog_path(path)
        catalog = load(path)
        done = fill(catalog, Path(args.fill).read_text(encoding='utf-8'))
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
            print(f'{module.path}:{block.line}: needs Chinese: "{_short(block.en)}"')
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
