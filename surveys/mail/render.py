"""Turning an outbox message into an email: the registry of every email, building and rendering.

Adding an email (say `reply`) takes three templates under `templates/emails/`
(`reply.subject.txt`, `reply.txt`, `reply.html`, the last extending
`_layout.html`) and one builder registered with `surveys.mail.registry`'s
`email_template`, in the module of its kind (`survey_emails`, `case_emails`):

    @email_template("reply", to_customer=True)
    def reply_email(session, message, now):
        case = session.get(Case, message.case_id)
        return {"case": case, "body": message.context["body"]}

The builder loads what it needs from the message's ids and `context` and
returns the template's variables. `build_email` adds what every email has
(the sender, the recipient's name, and for customers the unsubscribe link
and List-Unsubscribe headers, on a token minted for this email) and renders
the three parts; a customer email's text and HTML must both show
`{{ unsubscribe_url }}`. A builder may raise `CancelDelivery` when the reason
to send went away, or `DeferDelivery` when it should wait (quiet hours).

Hooks, all optional: `on_sent(session, message, now)` and
`on_sent_batch(session, messages, now)` once the provider accepted the
email(s) (high-volume templates use the batch form: one statement for a
thousand messages); `on_failed(session, message, reason, now)` when it
failed for good; `preload(session, messages)` loads what the builder will
read for a whole batch at once, so building each email issues no query.

Batching: values that differ between recipients of the same template may be
returned as `Personal(key, value)` (`surveys.mail.personal`). They render as
substitution tags, so a thousand survey emails share one body and SendGrid
fills in each recipient's name and link (`OutgoingEmail.substitutions`).
`render_email(name, context)` renders without the database, for previews.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.i18n import reading_as

# Importing the builders registers them: from here on the registry is complete.
from surveys.mail import (  # noqa: F401
    case_emails,
    digest_emails,
    goodbye_emails,
    occasion_emails,
    survey_emails,
)
from surveys.mail.batch import batch_memo, mint, write_batch
from surveys.mail.personal import Personal, html_subject, personal_url
from surveys.mail.registry import REGISTERED, CancelDelivery, DeferDelivery, EmailTemplate
from surveys.mail.reply_addresses import reply_to_for
from surveys.mail.senders import OutgoingEmail, split_address, substitute
from surveys.mail.words import (
    brand_for_batch,
    brand_variables,
    customer_email_extras,
    settings_for_batch,
)
from surveys.models import Customer, OutboxMessage, User
from surveys.wording import first_name

# Every email, by template name.
EMAIL_TEMPLATES: Mapping[str, EmailTemplate] = MappingProxyType(REGISTERED)


class UnknownTemplate(LookupError):
    """No builder is registered under the message's template name."""


def get_email_template(name: str) -> EmailTemplate:
    try:
        return EMAIL_TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(f"no email template is registered as {name!r}") from None


# --- rendering -------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict) -> RenderedEmail:
    """Render `emails/<name>.subject.txt`, `.txt` and `.html` with `context`.

    Pure rendering (no database), so previews can call it with sample values.
    With `Personal` values in `context`, the parts hold their tags.
    """
    env = current_app.jinja_env
    subject = env.get_template(f"emails/{name}.subject.txt").render(context)
    # One line, whatever the template's whitespace: a newline in a subject
    # would be a header injection.
    subject = " ".join(subject.split())
    text = env.get_template(f"emails/{name}.txt").render({**context, "subject": subject})
    html = env.get_template(f"emails/{name}.html").render(
        {**context, "subject": html_subject(subject)}
    )
    return RenderedEmail(subject=subject, text=_tidy_text(text), html=html)


def _tidy_text(text: str) -> str:
    """Strip trailing spaces and runs of blank lines that template tags leave behind."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"


class UnbuildableEmail(Exception):
    """A message of a batch could not be built (a bug, a missing row); says which and why."""

    def __init__(self, message_id: int, error: BaseException) -> None:
        super().__init__(f"could not prepare the email: {type(error).__name__}: {error}"[:1000])
        self.message_id = message_id


Built = OutgoingEmail | CancelDelivery | DeferDelivery


def build_emails(
    session: Session, messages: list[OutboxMessage], *, now: datetime
) -> dict[int, Built]:
    """Build a batch: what each message became, by id (an email, or why not now or never).

    A few queries load what the whole batch shows, and the personal tokens it
    mints are inserted in one statement. Raises UnbuildableEmail for the first
    message that fails unexpectedly; the caller rolls back. The caller commits
    before sending, so a link never points at a token that was rolled back.
    """
    preload_messages(session, messages)
    built: dict[int, Built] = {}
    # No autoflush: each builder's changes (a pinned version, a cancelled
    # survey) go to the database together when the batch is committed.
    with session.no_autoflush:
        for message in messages:
            try:
                built[message.id] = _build(session, message, now=now)
            except (CancelDelivery, DeferDelivery) as stop:
                built[message.id] = stop
            except Exception as exc:
                raise UnbuildableEmail(message.id, exc) from exc
    write_batch(session, now=now)
    return built


def build_email(session: Session, message: OutboxMessage, *, now: datetime) -> OutgoingEmail:
    """One message's email, rendered (may mint a token); see `build_emails`.

    Raises CancelDelivery when the email should not go, DeferDelivery when it
    should wait, UnknownTemplate when no builder exists.
    """
    email = _build(session, message, now=now)
    write_batch(session, now=now)
    return email


def _build(session: Session, message: OutboxMessage, *, now: datetime) -> OutgoingEmail:
    spec = get_email_template(message.template)
    if not message.to_email:
        raise CancelDelivery("the message has no recipient address")
    locale, time_zone = _reader_of(session, message, to_customer=spec.to_customer)
    settings = settings_for_batch(session)
    shop_language = str(settings["default_language"])
    business_zone = str(settings["business_time_zone"])
    # Built and rendered in the reader's language and zone: the builder's own words (what
    # they bought) as much as the templates'.
    with reading_as(
        locale, time_zone, shop_language=shop_language, business_zone=business_zone
    ) as language:
        return _build_in_language(session, message, spec, language=language, now=now)


def _reader_of(
    session: Session, message: OutboxMessage, *, to_customer: bool
) -> tuple[str | None, str | None]:
    """The recipient's locale and time zone: a customer's own, or a person's chosen ones."""
    if to_customer:
        customer = (
            session.get(Customer, message.customer_id)
            if message.customer_id is not None
            else session.scalar(select(Customer).where(Customer.email == message.to_email))
        )
        return (customer.locale, customer.timezone) if customer else (None, None)
    person = batch_memo(
        session,
        ("reader", message.to_email),
        lambda: session.scalar(select(User).where(User.email == message.to_email)),
    )
    return (person.locale, person.time_zone) if person else (None, None)


def _build_in_language(
    session: Session, message: OutboxMessage, spec: EmailTemplate, *, language: str, now: datetime
) -> OutgoingEmail:
    context = spec.build(session, message, now)
    config = current_app.config
    brand = brand_for_batch(session)
    sender_name = brand.sender_name
    mail_from_name, from_email = split_address(config["MAIL_FROM"])
    headers: dict[str, str] = {}
    if spec.to_customer:
        # Customers hear from the shop: its sender address when one is set.
        from_email = brand.sender_address or from_email
        token = context.get("token") or Personal(
            "token", mint(session, customer_id=_customer_id_for(session, message))
        )
        context["token"] = token  # so a minted one's substitution travels with the email
        raw_token = token.value if isinstance(token, Personal) else token
        unsubscribe_url = personal_url("public.show_unsubscribe", token=token)
        context["unsubscribe_url"] = unsubscribe_url
        headers["List-Unsubscribe"] = (
            f"<{external_url('public.show_unsubscribe', token=raw_token)}>"
        )
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    context = {
        # Also keeps a batch's shared renders apart by language.
        "language": language,
        "recipient_name": message.to_name,
        "first_name": first_name(message.to_name),
        **context,
    }
    if spec.to_customer:
        # The words of the reader's language: an admin's edit of them, else the defaults,
        # translated (surveys/services/email_words).
        context.update(customer_email_extras(session, message.template, context, locale=language))
    else:
        context.update(brand_variables(brand))
    rendered = _render_shared(session, message.template, context)
    if spec.to_customer and not all(
        unsubscribe_url in part for part in (rendered.text, rendered.html)
    ):
        # Every customer email shows its unsubscribe link (and List-Unsubscribe headers); a
        # template that forgot it is a bug to fix, not an email to send.
        raise RuntimeError(f"the {message.template} email does not show its unsubscribe link")
    substitutions: dict[str, str] = {}
    for value in context.values():
        if isinstance(value, Personal):
            substitutions.update(value.substitutions())
    custom_args = {"message_id": str(message.id)}
    if message.survey_id is not None:
        custom_args["survey_id"] = str(message.survey_id)
    return OutgoingEmail(
        message_id=message.id,
        to_email=message.to_email,
        to_name=message.to_name,
        from_email=from_email,
        from_name=message.from_name or sender_name or mail_from_name,
        # With INBOUND_DOMAIN, answers to a case's emails come back to the case.
        reply_to=reply_to_for(
            case_id=message.case_id, template=message.template, to_customer=spec.to_customer
        )
        or message.reply_to,
        subject=" ".join(substitute(rendered.subject, substitutions).split()),
        text=rendered.text,
        html=rendered.html,
        headers=headers,
        custom_args=custom_args,
        category=message.template,
        date=now,
        substitutions=substitutions,
    )


def _render_shared(session: Session, name: str, context: dict) -> RenderedEmail:
    """Render, once per batch for emails whose variables differ only in Personal values.

    A thousand survey emails of one kind come down to a handful of renders.
    The key is every variable the template receives (objects by identity), so
    anything a template could print is part of it.
    """
    try:
        key = (name, _frozen(context))
        hash(key)
    except TypeError:  # a variable that cannot be compared: render this one on its own
        return render_email(name, context)
    renders = batch_memo(session, "renders", dict)
    if key not in renders:
        renders[key] = render_email(name, context)
    return renders[key]


def _frozen(value):
    if isinstance(value, Personal):
        return (Personal, value.key, bool(value))
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    return value


def preload_messages(session: Session, messages: list[OutboxMessage]) -> None:
    """Let each template load what its builder reads for these messages, in a few queries."""
    by_template: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        by_template.setdefault(message.template, []).append(message)
    for name, group in by_template.items():
        spec = EMAIL_TEMPLATES.get(name)
        if spec is not None and spec.preload is not None:
            spec.preload(session, group)


def _customer_id_for(session: Session, message: OutboxMessage) -> int:
    if message.customer_id is not None:
        return message.customer_id
    customer_id = session.scalar(select(Customer.id).where(Customer.email == message.to_email))
    if customer_id is None:
        # Without a customer there is no unsubscribe link, and no customer
        # email may go without one.
        raise CancelDelivery(f"no customer has the address {message.to_email}")
    return customer_id
