"""Turning an outbox message into an email: one builder per template name.

Adding an email (say `reply`) takes three templates under `templates/emails/`
(`reply.subject.txt`, `reply.txt`, `reply.html`, the last extending
`_layout.html`) and one builder registered here:

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
to send went away; `on_sent` / `on_failed` hooks update the rows the email is
about once the outcome is known. `render_email(name, context)` renders without
the database, for previews.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from surveys.mail.senders import OutgoingEmail, split_address
from surveys.models import Case, Customer, OutboxMessage, Purchase, Question, Survey
from surveys.services.question_sets import current_version
from surveys.services.settings import get_setting
from surveys.services.tokens import mint_token

# How long a survey's personal link works after it is sent (CONTRACT §5).
SURVEY_LINK_DAYS = 30
# A survey still to be delivered: scheduled, or failed and put back in the
# queue by an admin (the outbox page's retry only has to re-queue the message).
UNDELIVERED_SURVEY = ("scheduled", "failed")

Builder = Callable[[Session, OutboxMessage, datetime], dict]
SentHook = Callable[[Session, OutboxMessage, datetime], None]
FailedHook = Callable[[Session, OutboxMessage, str, datetime], None]


class CancelDelivery(Exception):
    """The email should not go after all; the message is cancelled with this reason.

    Whatever the builder changed before raising (a survey marked suppressed)
    is committed with the cancellation.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownTemplate(LookupError):
    """No builder is registered under the message's template name."""


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    build: Builder
    # Customer emails carry the unsubscribe link and headers; staff emails do not.
    to_customer: bool
    on_sent: SentHook | None = None
    on_failed: FailedHook | None = None


EMAIL_TEMPLATES: dict[str, EmailTemplate] = {}


def email_template(
    name: str,
    *,
    to_customer: bool,
    on_sent: SentHook | None = None,
    on_failed: FailedHook | None = None,
) -> Callable[[Builder], Builder]:
    """Register the builder of the email named `name` (the outbox `template`)."""

    def register(build: Builder) -> Builder:
        EMAIL_TEMPLATES[name] = EmailTemplate(name, build, to_customer, on_sent, on_failed)
        return build

    return register


def get_email_template(name: str) -> EmailTemplate:
    try:
        return EMAIL_TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(f"no email template is registered as {name!r}") from None


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict) -> RenderedEmail:
    """Render `emails/<name>.subject.txt`, `.txt` and `.html` with `context`.

    Pure rendering (no database), so previews can call it with sample values.
    """
    env = current_app.jinja_env
    subject = env.get_template(f"emails/{name}.subject.txt").render(context)
    # One line, whatever the template's whitespace: a newline in a subject
    # would be a header injection.
    subject = " ".join(subject.split())
    context = {**context, "subject": subject}
    text = env.get_template(f"emails/{name}.txt").render(context)
    html = env.get_template(f"emails/{name}.html").render(context)
    return RenderedEmail(subject=subject, text=_tidy_text(text), html=html)


def _tidy_text(text: str) -> str:
    """Strip trailing spaces and runs of blank lines that template tags leave behind."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"


def build_email(session: Session, message: OutboxMessage, *, now: datetime) -> OutgoingEmail:
    """Everything the sender needs for this message, rendered (may mint a token).

    Raises CancelDelivery when the email should not go, UnknownTemplate when no
    builder exists. The caller commits before sending, so a link in the email
    never points at a token that was rolled back.
    """
    spec = get_email_template(message.template)
    if not message.to_email:
        raise CancelDelivery("the message has no recipient address")
    context = spec.build(session, message, now)
    config = current_app.config
    sender_name = get_setting(session, "sender_name")
    mail_from_name, from_email = split_address(config["MAIL_FROM"])
    headers: dict[str, str] = {}
    if spec.to_customer:
        token = context.get("token") or mint_token(
            session, customer_id=_customer_id_for(session, message)
        )
        unsubscribe_url = f"{config['BASE_URL']}/u/{token}"
        context["unsubscribe_url"] = unsubscribe_url
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    rendered = render_email(
        message.template,
        {
            "base_url": config["BASE_URL"],
            "sender_name": sender_name,
            "recipient_name": message.to_name,
            "first_name": first_name(message.to_name),
            **context,
        },
    )
    if spec.to_customer and not all(
        unsubscribe_url in part for part in (rendered.text, rendered.html)
    ):
        # Every customer email shows its unsubscribe link (CONTRACT §5); a
        # template that forgot it is a bug to fix, not an email to send.
        raise RuntimeError(f"the {message.template} email does not show its unsubscribe link")
    custom_args = {"message_id": str(message.id)}
    if message.survey_id is not None:
        custom_args["survey_id"] = str(message.survey_id)
    return OutgoingEmail(
        message_id=message.id,
        to_email=message.to_email,
        to_name=message.to_name,
        from_email=from_email,
        from_name=message.from_name or sender_name or mail_from_name,
        reply_to=message.reply_to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=headers,
        custom_args=custom_args,
        category=message.template,
        date=now,
    )


def _customer_id_for(session: Session, message: OutboxMessage) -> int:
    if message.customer_id is not None:
        return message.customer_id
    customer_id = session.scalar(select(Customer.id).where(Customer.email == message.to_email))
    if customer_id is None:
        # Without a customer there is no unsubscribe link, and no customer
        # email may go without one.
        raise CancelDelivery(f"no customer has the address {message.to_email}")
    return customer_id


def first_name(name: str | None) -> str | None:
    """How we greet someone: the first word of the name they gave us."""
    return name.split()[0] if name and name.strip() else None


# --- survey --------------------------------------------------------------------


def survey_sent(session: Session, message: OutboxMessage, now: datetime) -> None:
    """The survey is in the customer's mailbox; its links work for 30 days from now."""
    # Only an undelivered survey moves: one answered through an earlier
    # attempt's link (a timeout that was delivered after all) stays answered.
    session.execute(
        update(Survey)
        .where(Survey.id == message.survey_id, Survey.status.in_(UNDELIVERED_SURVEY))
        .values(status="sent", sent_at=now, expires_at=now + timedelta(days=SURVEY_LINK_DAYS))
    )


def survey_failed(session: Session, message: OutboxMessage, reason: str, now: datetime) -> None:
    """The survey could not be delivered: say so on the survey, with the reason."""
    session.execute(
        update(Survey)
        .where(Survey.id == message.survey_id, Survey.status.in_(UNDELIVERED_SURVEY))
        .values(status="failed", status_reason=reason[:300])
    )


@email_template("survey", to_customer=True, on_sent=survey_sent, on_failed=survey_failed)
def survey_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """Any survey invitation; `survey.kind` decides the wording."""
    # One query for what the email shows (the customer, what they bought).
    survey = (
        session.get(
            Survey,
            message.survey_id,
            options=[
                joinedload(Survey.customer),
                joinedload(Survey.question_set),
                joinedload(Survey.purchase).joinedload(Purchase.items),
            ],
        )
        if message.survey_id
        else None
    )
    if survey is None:
        raise CancelDelivery("the survey no longer exists")
    if survey.status not in UNDELIVERED_SURVEY:
        raise CancelDelivery(f"the survey is {survey.status}, no longer waiting to be sent")
    customer = survey.customer
    if customer.suppressed_at is not None:
        reason = customer.suppression_reason or "the address is suppressed"
        survey.status, survey.status_reason = "suppressed", reason[:300]
        raise CancelDelivery(f"the customer's address is suppressed ({reason})")
    if customer.erased_at is not None:
        survey.status, survey.status_reason = "cancelled", "the customer's data was erased"
        raise CancelDelivery("the customer's data was erased")
    # Pinned on the first attempt and kept: if that attempt reached the
    # customer after all (a timeout after SendGrid accepted it), its link
    # shows the same questions as any later one.
    if survey.version_id is None:
        survey.version_id = current_version(session, survey.question_set).id
    first_question = session.scalars(
        select(Question)
        .where(Question.version_id == survey.version_id)
        .order_by(Question.position)
        .limit(1)
    ).first()
    token = mint_token(session, customer_id=customer.id, survey_id=survey.id)
    survey_url = f"{current_app.config['BASE_URL']}/s/{token}"
    case = session.get(Case, survey.case_id) if survey.case_id else None
    return {
        "token": token,
        "kind": survey.kind,
        "customer": customer,
        "first_name": first_name(customer.name),
        "purchase": survey.purchase,
        "purchase_phrase": purchase_phrase(survey.purchase),
        "several_items": survey.purchase is not None and len(survey.purchase.items) > 1,
        "case_owner_name": first_name(case.owner.name) if case else None,
        "survey_url": survey_url,
        "first_question": first_question,
        "answer_links": answer_links(first_question, survey_url),
        "link_days": SURVEY_LINK_DAYS,
    }


def purchase_phrase(purchase) -> str:
    """What they bought, as it reads after "your" ("your Keyboard and 2 more")."""
    if purchase is None:
        return "your recent order"
    summary = purchase.summary
    return summary if summary.startswith("your ") else f"your {summary}"


def answer_links(question, survey_url: str) -> list[dict]:
    """One link per answer of a choice or scale question (none for a text question)."""
    if question is None:
        return []
    if question.type == "choice":
        values = [(option["value"], option["label"]) for option in question.options or ()]
    elif question.type == "scale":
        low = question.min_value or 0
        high = 10 if question.max_value is None else question.max_value
        values = [(str(n), str(n)) for n in range(low, high + 1)]
    else:
        return []
    return [
        {"value": value, "label": label, "url": f"{survey_url}?a={quote(value, safe='')}"}
        for value, label in values
    ]


# --- owner_new_case ----------------------------------------------------------------


@email_template("owner_new_case", to_customer=False)
def owner_new_case_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """Tell the owner a customer needs them, with the customer's own words."""
    case = session.get(Case, message.case_id) if message.case_id else None
    if case is None:
        raise CancelDelivery("the case no longer exists")
    answers = [
        {
            "question": answer.question.text,
            "answer": answer.question.label_for(answer.value),
            "is_text": answer.question.type == "text",
            "negative": answer.negative,
        }
        for answer in case.response.answers
        if answer.value not in (None, "")
    ]
    return {
        "case": case,
        "customer": case.customer,
        "purchase": case.purchase,
        "answers": answers,
        "case_url": f"{current_app.config['BASE_URL']}/cases/{case.id}",
    }
