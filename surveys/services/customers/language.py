"""A customer's language: what their shop told us, or what they chose on their survey page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveys.languages import SHIPPED, html_lang
from surveys.models import Customer


class LanguageNotShipped(ValueError):
    """The language asked for is not one of ours."""


def choose_language(session: Session, customer: Customer, language: str) -> None:
    """Remember the shipped language the customer chose: their pages and emails use it from now.

    Raises LanguageNotShipped for anything but a shipped catalog name (`es`, `pt_BR`).
    """
    if language not in SHIPPED:
        raise LanguageNotShipped(language)
    customer.locale = html_lang(language)
    session.flush()
