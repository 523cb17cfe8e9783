"""The translation catalogs' sources (.po, in git) and their compiled form (.mo, made here).

`make run` and `make test` compile with `pybabel compile`; the test suite calls
`compile_catalogs` itself so that `pytest` alone works on a fresh clone.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def catalog_sources(root: Path = TRANSLATIONS) -> list[Path]:
    return sorted(root.glob("*/LC_MESSAGES/messages.po"))


def compile_catalogs(root: Path = TRANSLATIONS) -> list[Path]:
    """Compile every .po that is newer than its .mo (or has none); the ones compiled."""
    compiled = []
    for source in catalog_sources(root):
        target = source.with_suffix(".mo")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        with source.open("rb") as po:
            catalog = read_po(po, locale=source.parent.parent.name)
        with target.open("wb") as mo:
            write_mo(mo, catalog, use_fuzzy=False)
        compiled.append(target)
    return compiled


PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What the code passes its sentences through, besides gettext's usual names.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}


def extract_messages(root: Path = PROJECT_ROOT) -> Catalog:
    """Every message the code and templates use, as `pybabel extract -F babel.cfg` finds them."""
    with (root / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def catalog_problems(used: Catalog, translated: Catalog) -> list[str]:
    """What keeps `translated` from covering `used`: each message missing, empty, fuzzy, or
    whose placeholders do not fit the original, one sentence each (none when complete)."""
    problems = []
    for message in used:
        if not message.id:
            continue
        found = translated.get(message.id, context=message.context)
        label = message.id if isinstance(message.id, str) else message.id[0]
        if found is None:
            problems.append(f"missing: {label!r}")
        elif found.fuzzy:
            problems.append(f"fuzzy: {label!r}")
        elif not all(found.string) if isinstance(found.string, tuple) else not found.string:
            problems.append(f"untranslated: {label!r}")
    for message, errors in translated.check():
        problems.extend(f"{error}: {message.id!r}" for error in errors)
    return problems
