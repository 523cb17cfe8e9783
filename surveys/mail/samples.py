"""Every email rendered with made-up data, for admins to read before anyone receives it.

The people and orders are invented (never written to the database); the
questions are the real current ones, so a preview shows what would go out
today. One context serves every template: each takes the variables it knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.mail.case_emails import answer_item
from surveys.mail.digest_emails import digest_context
from surveys.mail.render import EMAIL_TEMPLATES, render_email
from surveys.mail.senders import split_address
from surveys.mail.survey_emails import SURVEY_LINK_DAYS, answer_links
from surveys.mail.words import brand_for_batch, brand_variables, customer_email_extras
from surveys.models import Case, Customer, Goodbye, Purchase, PurchaseItem, Question, User
from surveys.models.cases import CaseStatus
from surveys.services import email_words
from surveys.services.brand import current_brand
from surveys.services.cases.replies import compose_letter
from surveys.services.customers.goodbyes import REASONS, goodbye_letter_draft
from surveys.services.digests import digest_weeks, week_start
from surveys.services.insights.digest import CaseLoad, DigestFigures
from surveys.services.insights.scores import NetScore, Rate
from surveys.services.insights.themes import Theme
from surveys.services.question_sets.versions import current_version, get_question_set
from surveys.services.settings import get_setting
from surveys.wording import first_name, purchase_phrase

SURVEY_KINDS = {
    "purchase": _l("after a purchase"),
    "fix_check": _l("fix-check: did our fix work?"),
    "relationship_review": _l("relationship review"),
    "manual": _l("sent by hand"),
}
# What each email is, in words, and its variants (the kinds of survey, the deadlines): shown
# in the admin's language.
TITLES = {
    "survey": _l("Survey"),
    "reminder": _l("Reminder"),
    "owner_new_case": _l("To the owner: a new case"),
    "reply": _l("The owner's personal reply"),
    "escalation": _l("Escalation: a missed deadline"),
    "case_reassigned_owner": _l("To the new owner: a case handed over"),
    "case_reassigned_customer": _l("To the customer: who looks after them now"),
    "case_reopened": _l("To the owner: the fix did not work"),
    "customer_replied": _l("To the owner: the customer answered by email"),
    "customer_unsubscribed": _l("To the owner: a customer unsubscribed"),
    "customer_said_why": _l("To the owner: why a customer unsubscribed"),
    "goodbye_letter": _l("The owner's goodbye letter, ending a relationship"),
    "weekly_digest": _l("To admins and owners: the weekly digest"),
    "date_coming_up": _l("To the owner: a date that matters to their customer"),
}
VARIANTS = {
    "survey": SURVEY_KINDS,
    "reminder": SURVEY_KINDS,
    "escalation": {
        "acknowledge": _l("not acknowledged in time"),
        "resolve": _l("not resolved in time"),
    },
}
QUESTION_SET_FOR_KIND = {
    "fix_check": "fix-check",
    "relationship_review": "relationship-review",
}
SAMPLE_TOKEN = "your-personal-link"


@dataclass(frozen=True)
class PreviewEntry:
    name: str
    variant: str | None
    title: str
    to_customer: bool


@dataclass
class Preview:
    entry: PreviewEntry
    subject: str = ""
    text: str = ""
    html: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


def preview_entries() -> list[PreviewEntry]:
    """Every registered email and its variants, customers' emails first."""
    entries = []
    for name, spec in EMAIL_TEMPLATES.items():
        title = str(TITLES.get(name, name.replace("_", " ").capitalize()))
        variants = VARIANTS.get(name)
        if variants:
            entries += [
                PreviewEntry(
                    name,
                    variant,
                    gettext("%(email)s (%(variant)s)", email=title, variant=words),
                    spec.to_customer,
                )
                for variant, words in variants.items()
            ]
        else:
            entries.append(PreviewEntry(name, None, title, spec.to_customer))
    return sorted(
        entries,
        key=lambda entry: (
            not entry.to_customer,
            list(TITLES).index(entry.name) if entry.name in TITLES else len(TITLES),
            # Variants in the order they are listed, the same in every language.
            list(VARIANTS.get(entry.name, {})).index(entry.variant) if entry.variant else 0,
            entry.title,
        ),
    )


def find_entry(name: str, variant: str | None) -> PreviewEntry | None:
    """The entry for a template name and variant, or None (the page answers 404)."""
    entries = preview_entries()
    for entry in entries:
        if entry.name == name and entry.variant == variant:
            return entry
    # A template with variants, asked for without one: its first.
    return next((entry for entry in entries if entry.name == name and variant is None), None)


def render_preview(
    session: Session,
    entry: PreviewEntry,
    *,
    now: datetime,
    locale: str = email_words.DEFAULT_LOCALE,
    draft: dict[str, str] | None = None,
) -> Preview:
    """The email as its recipient would see it, with sample data; errors are shown, not raised.

    A customer's email reads in `locale` (its words, or `draft`: the editor's live preview,
    and the template's own sentences); others in the reader's language, the page's.
    """
    if entry.to_customer:
        with force_locale(locale):
            return _render_preview(session, entry, now=now, locale=locale, draft=draft)
    return _render_preview(session, entry, now=now, locale=locale, draft=draft)


def _render_preview(
    session: Session, entry: PreviewEntry, *, now: datetime, locale: str, draft
) -> Preview:
    config = current_app.config
    context = sample_context(session, entry, now=now)
    preview = Preview(entry)
    try:
        if entry.to_customer:
            context.update(
                customer_email_extras(session, entry.name, context, locale=locale, draft=draft)
            )
        else:
            context.update(brand_variables(brand_for_batch(session)))
        rendered = render_email(entry.name, context)
    except Exception as exc:  # a template needing data the sample lacks: say so on the page
        preview.error = f"{type(exc).__name__}: {exc}"
        return preview
    mail_from_name, from_email = split_address(config["MAIL_FROM"])
    if entry.to_customer:
        from_email = context["brand"].sender_address or from_email
    recipient = context["customer"] if entry.to_customer else context["owner"]
    preview.subject, preview.text, preview.html = rendered.subject, rendered.text, rendered.html
    sender = (
        context["owner_name"]
        if entry.name in ("reply", "case_reassigned_customer")
        else context["brand"].sender_name or mail_from_name
    )
    preview.headers = [
        ("From", f"{sender} <{from_email}>"),
        ("To", f"{recipient.name} <{recipient.email}>"),
        ("Subject", rendered.subject),
    ]
    if entry.name == "reply":
        preview.headers.append(("Reply-To", context["owner"].email))
    if entry.to_customer:
        preview.headers += [
            ("List-Unsubscribe", f"<{context['unsubscribe_url']}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
    return preview


def sample_context(session: Session, entry: PreviewEntry, *, now: datetime) -> dict:
    """Made-up variables for `entry`'s template: Ana, her keyboard, Olivia who owns her case."""
    customer = Customer(
        id=42, email="ana.diaz@example.com", name="Ana Diaz", timezone="Europe/Madrid"
    )
    owner = User(id=7, email="olivia@shop.example", name="Olivia Moreno", role="owner")
    purchase = Purchase(
        id=1001,
        order_id="A-1001",
        total=Decimal("129.90"),
        currency="EUR",
        purchased_at=now - timedelta(days=3),
        customer=customer,
        items=[
            PurchaseItem(
                sku="KB-1", name="Walnut keyboard", quantity=1, unit_price=Decimal("129.90")
            )
        ],
    )
    case = Case(
        id=1042,
        status=CaseStatus.ACKNOWLEDGED,
        customer=customer,
        owner=owner,
        purchase=purchase,
        routed_by="account owner",
        created_at=now - timedelta(hours=6),
        acknowledge_by=now - timedelta(hours=2),
        resolve_by=now + timedelta(hours=42),
    )
    kind = entry.variant if entry.name in ("survey", "reminder") else "purchase"
    first_question = _first_question(session, kind)
    survey_url = external_url("public.show_survey", token=SAMPLE_TOKEN)
    case_url = external_url("inbox.show_case", case_id=case.id)
    # The customer's words are made up (data, as a real customer's are); what the email says
    # about them reads in the reader's language.
    answers = [
        answer_item(
            question="Are we exceeding your expectations?",
            answer="You are falling short",
            is_text=False,
            negative=True,
            reason=None,
        ),
        answer_item(
            question="If there was one thing we could be doing better, what would that be?",
            answer="The keyboard arrived with a broken key, and nobody answered my email.",
            is_text=True,
            negative=True,
            reason={"rule": "words", "words": ["broken", "nobody"]},
        ),
        answer_item(
            question="How likely are you to recommend us to a friend or colleague?",
            answer=gettext("%(score)s out of %(max)s", score=4, max=10),
            is_text=False,
            negative=True,
            reason=None,
        ),
    ]
    breach = entry.variant if entry.name == "escalation" else "acknowledge"
    recipient = customer if entry.to_customer else owner
    digest = _sample_digest(owner, now) if entry.name == "weekly_digest" else {}
    return {
        **digest,
        "recipient_name": recipient.name,
        "first_name": first_name(recipient.name),
        "unsubscribe_url": external_url("public.show_unsubscribe", token=SAMPLE_TOKEN),
        "token": SAMPLE_TOKEN,
        # Surveys and reminders.
        "kind": kind,
        "customer": customer,
        "purchase": purchase,
        "purchase_phrase": purchase_phrase(purchase),
        "several_items": False,
        "case_owner_name": first_name(owner.name) if kind == "fix_check" else None,
        "survey_url": survey_url,
        "first_question": first_question,
        "answer_links": answer_links(first_question, survey_url),
        "link_days": SURVEY_LINK_DAYS,
        # Cases.
        "case": case,
        "owner": owner,
        "answers": answers,
        "case_url": case_url,
        "owner_name": owner.name,
        "owner_first_name": first_name(owner.name),
        # The letter a two-part reply makes (surveys.services.cases.replies); the template greets.
        "message_body": compose_letter(
            "Your new keyboard came with a broken key, and when you wrote to us about it, "
            "nobody answered. That is not how we want you to feel about us.",
            "A new keyboard left our warehouse this morning by express; you should have it "
            "tomorrow. Keep the old one, no need to send it back.",
        ),
        "resolution": (
            "Sent Ana a new keyboard by express; it arrived the next day."
            if kind == "fix_check"
            else None
        ),
        "breach": breach,
        "missed": "acknowledged" if breach == "acknowledge" else "resolved",
        "due_at": case.acknowledge_by if breach == "acknowledge" else case.resolve_by,
        "to_owner": True,
        "from_name": "Sam Lee",
        "by": "Alex Morgan",
        "reason": "Sam is on holiday until Monday, and Olivia knows our keyboards best.",
        "reply_subject": "Re: Your keyboard",
        "reply_body": "Thank you, Olivia. The new keyboard came today, but the space bar squeaks.\n"
        "I attach a short video.",
        "attachments": [{"id": 1, "filename": "space-bar.mp4", "size": 2_400_000}],
        "reopened": False,
        "answer_by_email": bool(current_app.config.get("INBOUND_DOMAIN")),
        # Goodbyes (the case emails' `words` below are a list; the goodbye's are a string,
        # so those templates read `goodbye.words`).
        "goodbye": Goodbye(
            kind="ended" if entry.name == "goodbye_letter" else "unsubscribed",
            reason="too_often",
            words="Three emails in a week was a lot. I still love the keyboard.",
            created_at=now - timedelta(minutes=12),
            customer=customer,
        ),
        # The reason as the owner reads it, in their language (as goodbye_emails words it).
        "reason_words": gettext(REASONS["too_often"]),
        "customer_url": external_url("inbox.show_customer", customer_id=customer.id),
        "letter": goodbye_letter_draft(customer, owner, current_brand(session).shop_name),
        # A date that matters to the customer (surveys.services.occasions.reminders).
        "occasion": "Emma's graduation",
        "occurs_on": (now + timedelta(days=7)).date(),
        "days_away": 7,
        "their_words": ["My daughter Emma graduates on June 12; we are so proud of her."],
        "notes": ["Prefers a call to an email.", "Loves walnut wood."],
        "last_purchase": purchase,
        "gesture": "A handwritten card to congratulate them.",
        "profile_url": external_url("inbox.show_customer", customer_id=customer.id),
        "words": [
            {
                "question": "You told us about a problem and we worked on it. Did our fix work?",
                "answer": "No, not yet",
            },
            {
                "question": "Is there anything else we should do?",
                "answer": "The new keyboard has the same loose key.",
            },
        ],
    }


def _sample_digest(owner: User, now: datetime) -> dict:
    """Olivia's digest of a good week: the score up, two themes, one case reopened."""
    zone = "Europe/Madrid"
    weeks = digest_weeks(week_start(now, zone), zone)
    figures = DigestFigures(
        week=weeks.week,
        score=NetScore(promoters=9, passives=4, detractors=2),
        score_before=NetScore(promoters=6, passives=4, detractors=3),
        responses=Rate(part=3, whole=17),
        responses_before=Rate(part=4, whole=14),
        cases=CaseLoad(open=4, overdue=1, reopened=1),
        themes=[
            Theme("deliveri", "delivery", count=5, previous=2, negative=3),
            Theme("broken key", "broken key", count=2, previous=0, negative=2),
        ],
    )
    return digest_context(owner, weeks, figures, zone=zone)


def _first_question(session: Session, kind: str) -> Question | None:
    """The first question the current version of this kind's set asks today."""
    key = QUESTION_SET_FOR_KIND.get(kind) or get_setting(session, "purchase_question_set")
    question_set = get_question_set(session, key) or get_question_set(session, "heart-to-heart")
    if question_set is None or not question_set.versions:
        return None
    questions = current_version(session, question_set).questions
    return questions[0] if questions else None
