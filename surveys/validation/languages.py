"""Language tags: which ones we accept (BCP 47 tags Babel knows), and which of several texts
written in different languages reads best to someone.

Tags are kept as BCP 47 writes them (`es`, `pt-BR`, `zh-Hant-TW`); a POSIX name (`pt_BR`) or
other capitals (`pt-br`) are read as the same tag. Babel's locale data decides what is a
language: `xx` or `en-XX` is not one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from babel import Locale, UnknownLocaleError

# Shape before Babel looks: a language of 2 or 3 letters, then subtags of 2 to 8 letters/digits.
_TAG_SHAPE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")
TAG_PATTERN = r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$"


class UnknownLanguage(ValueError):
    """Not a BCP 47 language tag Babel knows; the message says so in an admin's words."""


def language_tag(value: object) -> str:
    """The BCP 47 tag for `value` (`pt_br` → `pt-BR`), or UnknownLanguage.

    Babel's aliases (`iw` for Hebrew, `und`) are refused rather than silently rewritten, so
    that what an admin wrote is what they read back.
    """
    if not isinstance(value, str) or not _TAG_SHAPE.match(value.strip()):
        raise UnknownLanguage(
            f"“{str(value)[:40]}” is not a language code; use one like es, fr or pt-BR."
        )
    text = value.strip().replace("-", "_")
    try:
        locale = Locale.parse(text)
    except (UnknownLocaleError, ValueError, TypeError):
        raise UnknownLanguage(
            f"“{value.strip()}” is not a language we know; use a code like es, fr or pt-BR."
        ) from None
    if str(locale).casefold() != text.casefold():
        raise UnknownLanguage(f"“{value.strip()}” is an old or unusual code; write {locale}.")
    return str(locale).replace("_", "-")


def language_or_none(value: object) -> str | None:
    """The tag for `value`, or None when there is none or it is not a language we know."""
    if not value:
        return None
    try:
        return language_tag(value)
    except UnknownLanguage:
        return None


def base_language(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0].lower()


def best_match(available: Iterable[str], wanted: str | None) -> str | None:
    """Which of `available` tags reads best to a reader of `wanted`, or None.

    The same tag first (`pt-BR`), then the bare language (`pt` for `pt-BR`), then another
    variant of the same language (`pt-BR` for `pt` or `pt-PT`).
    """
    tag = language_or_none(wanted)
    if tag is None:
        return None
    tags = list(available)
    if tag in tags:
        return tag
    language = base_language(tag)
    if language in tags:
        return language
    for other in tags:
        if base_language(other) == language:
            return other
    return None


def pick(texts: Mapping[str, object] | None, wanted: str | None):
    """The value of `texts` (by language tag) that reads best to `wanted`, or None."""
    if not texts:
        return None
    match = best_match(texts.keys(), wanted)
    return texts[match] if match is not None else None


def language_name(tag: str, in_language: str = "en") -> str:
    """A tag's name for an admin (`Portuguese (Brazil)`), or the tag itself if Babel has none."""
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name(in_language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return tag
    return (name[:1].upper() + name[1:]) if name else tag
