"""Values that differ between the recipients of one batched email, and how they render.

They render as substitution tags, so a thousand survey emails share one body
and SendGrid fills in each recipient's name and link.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from surveys.external_urls import external_url

TAG = re.compile(r"\[h2h:([a-z_]+)\]")


class Personal:
    """One recipient's value in a batched email, rendered as a substitution tag.

    In a text template `{{ first_name }}` prints `[h2h:first_name]`, in an
    HTML one `[h2h:first_name:html]`; `substitutions()` gives both tags their
    value (escaped for HTML). The body therefore never depends on the value,
    only on whether there is one (`{% if first_name %}`). Print it, test it,
    or put it in a link with `personal_url` (for values safe in URLs and HTML
    alike); do not run filters on it.
    """

    __slots__ = ("key", "value")

    def __init__(self, key: str, value: str) -> None:
        self.key = key
        self.value = value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __str__(self) -> str:
        return f"[h2h:{self.key}]"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __html__(self) -> str:
        return f"[h2h:{self.key}:html]"

    def __repr__(self) -> str:
        return f"Personal({self.key!r}, {self.value!r})"

    def substitutions(self) -> dict[str, str]:
        return {str(self): self.value, self.__html__(): str(escape(self.value))}


def personal(key: str, value: str | None) -> Personal | None:
    """A Personal value, or None when there is nothing to say (so `{% if %}` reads it)."""
    return Personal(key, value) if value else None


def html_subject(subject: str) -> Markup:
    """The subject for the HTML `<title>`: escaped, its tags turned into their HTML form."""
    return Markup(TAG.sub(r"[h2h:\1:html]", str(escape(subject))))


def personal_url(endpoint: str, **values) -> str:
    """`external_url`, with each Personal value left as its tag for the sender to fill in.

    The route would percent-encode a tag's brackets; what replaces the tag (a
    token) is safe in URLs and HTML alike, so the tag goes in as it is.
    """
    tags: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, Personal):
            marker = f"h2h-personal-{key}"
            tags[marker], values[key] = str(value), marker
    url = external_url(endpoint, **values)
    for marker, tag in tags.items():
        url = url.replace(marker, tag)
    return url
