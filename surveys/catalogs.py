"""The translation catalogs' sources (.po, in git) and their compiled form (.mo, made here).

`make run` and `make test` compile with `pybabel compile`; the test suite calls
`compile_catalogs` itself so that `pytest` alone works on a fresh clone.
"""

from __future__ import annotations

from pathlib import Path

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
