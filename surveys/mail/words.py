"""What a customer email says and whose it looks: the admin's words, filled in, and the brand.

`customer_email_extras` adds to an email's variables the shop's brand (name, logo, accent
colour, signature) and, for an email whose words can be edited, `words` (for the text part)
and `words_html` (for the HTML part, each value escaped): the subject, preheader, greeting
and paragraphs in the reader's language, rendered in Jinja's sandbox.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.mail.batch import batch_memo
from surveys.services import email_words
from surveys.services.brand import Brand, accent_dark, current_brand
from surveys.services.cases.replies import opens_with_greeting
from surveys.services.settings import all_settings


def settings_for_batch(session: Session) -> dict[str, object]:
    """Every setting, read once for a batch of emails."""
    return batch_memo(session, "settings", lambda: all_settings(session))


def brand_for_batch(session: Session) -> Brand:
    return batch_memo(session, "brand", lambda: current_brand(session, settings_for_batch(session)))


def brand_variables(brand: Brand) -> dict:
    """What every email shows of the shop: the layout's logo, colours and the signature."""
    return {
        "brand": brand,
        # Older templates sign with `sender_name`: the shop's name, never this software's.
        "sender_name": brand.shop_name,
        "shop_name": brand.shop_name,
        "logo_url": (
            external_url("brand.show_logo", digest=brand.logo_digest) if brand.logo_digest else None
        ),
        "accent": brand.accent_colour,
        "accent_dark": accent_dark(brand.accent_colour),
        "signature_lines": brand.signature_lines,
    }


def placeholder_values(context: dict, brand: Brand) -> dict[str, object]:
    """The placeholders' values, read from the variables the email's builder gave."""
    question = context.get("first_question")
    return {
        "first_name": context.get("first_name"),
        "purchase": context.get("purchase_phrase"),
        "several_items": bool(context.get("several_items")),
        "shop_name": brand.shop_name,
        "owner": context.get("case_owner_name") or context.get("owner_name"),
        "resolution": context.get("resolution"),
        "link_days": context.get("link_days"),
        "first_question": question.text if question is not None else "",
    }


def customer_email_extras(
    session: Session,
    template: str,
    context: dict,
    *,
    locale: str,
    draft: dict[str, str] | None = None,
) -> dict:
    """The brand, and the email's words filled in (`draft` instead of the stored ones)."""
    brand = brand_for_batch(session)
    extras = brand_variables(brand)
    email = email_words.worded_email_for(template, context.get("kind"))
    if email is None:
        return extras
    if draft is not None:
        words = draft
    else:
        words = batch_memo(
            session,
            ("email_words", email.key, locale),
            lambda: email_words.words_for(session, email, locale),
        )
    if opens_with_greeting(str(context.get("message_body") or "")):
        # The owner's own words greet already: the letter does not greet a second time.
        words = {**words, "greeting": ""}
    # A value we do not have reads as nothing, never as "None".
    values = {
        name: "" if value is None else value
        for name, value in placeholder_values(context, brand).items()
        if name in email.placeholders
    }
    extras["words"] = email_words.render_words(words, values, html=False)
    extras["words_html"] = email_words.render_words(words, values, html=True)
    return extras
