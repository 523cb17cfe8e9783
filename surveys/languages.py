"""The languages we ship, and how a customer's or person's BCP 47 locale maps onto one of them.

Pure functions over Babel's locale data: services, validation and the web layer all use them.
A locale is stored as its normalised BCP 47 tag (`es-MX`, `pt-BR`), as the customer's system
or shop said it; which of our catalogs reads to them is decided when a page or email is made,
so shipping a new language later reaches the customers who already asked for it.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

# Catalog names under surveys/translations/, in the order language menus show them.
SHIPPED = ("en", "es", "fr", "de", "pt_BR", "it", "nl", "ar")
FALLBACK = "en"
# Longest tag we keep (RFC 5646 tags in practice stay well under this).
MAX_LOCALE_LENGTH = 35


class InvalidLocale(ValueError):
    """Not a language tag Babel knows (`xx`, `not a locale`)."""


def parse_locale(tag: str) -> Locale:
    """The Babel locale of a BCP 47 tag (`pt-BR`) or POSIX name (`pt_BR`); else InvalidLocale."""
    text = (tag or "").strip().replace("-", "_")
    if not text or len(text) > MAX_LOCALE_LENGTH or not text.replace("_", "").isalnum():
        raise InvalidLocale(f"{tag!r} is not a language tag")
    try:
        return Locale.parse(text)
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvalidLocale(f"{tag!r} is not a language tag we know") from None


def normalise_locale(tag: str) -> str:
    """The tag as BCP 47 writes it (`es-mx` → `es-MX`); InvalidLocale when it is not one."""
    return str(parse_locale(tag)).replace("_", "-")


def nearest_shipped(tag: str | None) -> str | None:
    """The shipped catalog that reads best to someone whose locale is `tag`, or None.

    `es-MX` → `es`, `pt` and `pt-PT` → `pt_BR` (our only Portuguese), `ar-EG` → `ar`;
    a language we do not ship (or no tag, or a malformed one) → None.
    """
    if not tag:
        return None
    try:
        locale = parse_locale(tag)
    except InvalidLocale:
        return None
    exact = str(locale)
    if exact in SHIPPED:
        return exact
    same_language = [name for name in SHIPPED if name.split("_")[0] == locale.language]
    if locale.territory:
        for name in same_language:
            if name == f"{locale.language}_{locale.territory}":
                return name
    return same_language[0] if same_language else None


def shipped_or_default(tag: str | None, default: str | None = None) -> str:
    """The catalog for `tag`, else the one for `default` (the shop's language), else English."""
    return nearest_shipped(tag) or nearest_shipped(default) or FALLBACK


def language_name(name: str) -> str:
    """A shipped language's name in itself (`Español`, `Português (Brasil)`, `العربية`)."""
    locale = Locale.parse(name)
    words = locale.get_display_name(locale) or name
    return words[:1].upper() + words[1:]


def is_right_to_left(tag: str) -> bool:
    """Whether a language (a catalog name like `ar`, or any BCP 47 tag) is written right to
    left; False for a tag Babel does not know."""
    try:
        return parse_locale(tag).character_order == "right-to-left"
    except InvalidLocale:
        return False


def html_lang(name: str) -> str:
    """The `lang` attribute for a catalog name (`pt_BR` → `pt-BR`)."""
    return name.replace("_", "-")


def language_choices() -> list[tuple[str, str]]:
    """(catalog, its own name) for every shipped language: what the menus offer."""
    return [(name, language_name(name)) for name in SHIPPED]
