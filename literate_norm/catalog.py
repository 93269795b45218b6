r"""
---
title: "Step 6b: the translation file"
summary: One YAML file beside each module holds the Chinese of its prose, block by block, keyed
  by a hash of the English; this is how it is read, checked and written back unchanged.
section: How this site is made
order: 52
nav: "Step 6b: the translation file"
---

# The translation file

YAML, so that the Chinese of a paragraph is written as a block of lines, exactly as the
English is: `key: {en: ..., zh: ...}` in reading order, then the `generated` templates.
[Step 6](translate.md) decides what the blocks are; this module only reads and writes the file.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from literate_norm.parse import GeneratorError


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


HEADER = '''Chinese text of {source}, one entry per block of English prose.
The key is the first 12 hex digits of the SHA-256 of the English (`en`), which is kept beside
the Chinese (`zh`). When the English changes, the block gets a new key and no Chinese; run
`python -m literate_norm.translate` to add it here. Terms follow docs/zh/glossary.md.'''


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


def short(text: str, n: int = 70) -> str:
    text = ' '.join(text.split())
    return text if len(text) <= n else text[:n - 1] + '…'


# ## Sources
#
# * [YAML 1.2.2, §8.1 block scalar styles](https://yaml.org/spec/1.2.2/#81-block-scalar-styles):
#   the literal style `|` with the strip chomping indicator `-`, which keeps each line as written;
#   read and written with [PyYAML](https://pyyaml.org/wiki/PyYAMLDocumentation).
