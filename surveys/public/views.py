"""What customers see: the survey, the thank-you page, unsubscribing.

Every page is reached through a personal link whose token is only stored as a
hash. A GET never records anything, because mail scanners follow links: the email's
answer link opens a page with that answer chosen and one button that sends it;
the thank-you page then offers the other questions, which add to the same response.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from surveys import clock
from surveys.auth import csrf
from surveys.brand.pages import brand_page_variables
from surveys.db import db
from surveys.i18n import other_languages, read_by_customer
from surveys.languages import SHIPPED
from surveys.models import Case, Question, Response, Survey, SurveyToken
from surveys.models.surveys import SurveyStatus
from surveys.public.forms import (
    GoodbyeReasonForm,
    answers_from,
    preselectable,
    survey_form_class,
)
from surveys.services.brand import current_brand
from surveys.services.cases.queries import negative_reasons, written_words
from surveys.services.customers import goodbyes, language
from surveys.services.question_sets import translations
from surveys.services.question_sets.translations import LocalizedQuestion
from surveys.services.settings import SPECS, get_setting
from surveys.services.surveys.responses import (
    AlreadyAnswered,
    InvalidAnswers,
    SurveyClosed,
    add_answers,
    submit_response,
    survey_version,
    unanswered_questions,
)
from surveys.services.surveys.review_link import public_review_url, record_review_click
from surveys.services.surveys.tokens import find_token
from surveys.wording import first_name

bp = Blueprint("public", __name__)


@bp.context_processor
def inject_brand() -> dict:
    # Customers know the shop, not this software: pages carry its name, logo and colours.
    # (`sender_name` is the shop's name in these templates, as it signs their pages.)
    return brand_page_variables(current_brand(db.session()))


@bp.app_template_global()
def language_args() -> dict:
    """A language picked on the page (`?lang=es`) travels with the forms' actions, so the
    answers that follow remember it on the customer. (A global: the form macros see it.)"""
    return {"lang": g.chosen_language} if g.get("chosen_language") else {}


@bp.app_template_global()
def language_link(token: str, language: str) -> str:
    """The same survey page in another language, the tapped answer (if any) kept."""
    return url_for(".show_survey", token=token, a=request.args.get("a"), lang=language)


@bp.after_request
def keep_personal_pages_private(response):
    # The URL holds a personal token: keep it out of caches and search engines. The site's
    # Referrer-Policy (surveys/security_headers.py) keeps it out of Referer headers.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    return response


@bp.get("/s/<token>")
def show_survey(token: str):
    """The survey form; from the email's answer link, that answer chosen and ready to send."""
    session = db.session()
    survey = _open_survey_or_abort(token)
    if _is_answered(survey):
        return _already_answered_page(survey, token)
    questions = _in_customer_language(survey, survey_version(session, survey).questions)
    tapped = _one_click_answer(questions, request.args.get("a"))
    if tapped:
        form = survey_form_class(questions[:1], required=True)(data=tapped)
        return _one_tap_page(survey, questions[0], form, token)
    form = survey_form_class(questions)()
    return _survey_page(survey, questions, form, token)


@bp.post("/s/<token>")
def submit_survey(token: str):
    """Record the answers once and thank the customer; a second submit changes nothing."""
    session = db.session()
    survey = _open_survey_or_abort(token)
    if _is_answered(survey):
        return _already_answered_page(survey, token)
    questions = _in_customer_language(survey, survey_version(session, survey).questions)
    form = survey_form_class(questions)()
    if not form.validate():
        return _survey_page(survey, questions, form, token), 422
    try:
        response = submit_response(session, survey, answers_from(form, questions), now=clock.now())
    except AlreadyAnswered:
        session.rollback()  # another submit won the race; show what it recorded
        return _already_answered_page(survey, token)
    _remember_chosen_language(session, survey.customer)
    session.commit()
    return _thank_you_page(survey, response, link_token=token)


@bp.post("/s/<token>/answer")
def send_one_answer(token: str):
    """The email's one tap, confirmed: record the response with the first question's answer.

    The other questions wait, required or not: the thank-you page offers them next.
    """
    session = db.session()
    survey = _open_survey_or_abort(token)
    if _is_answered(survey):
        return _already_answered_page(survey, token)
    first = _in_customer_language(survey, survey_version(session, survey).questions[:1])
    form = survey_form_class(first, required=True)()
    if not first or not form.validate():
        return _one_tap_page(survey, first[0] if first else None, form, token), 422
    try:
        response = submit_response(
            session, survey, answers_from(form, first), now=clock.now(), require_all=False
        )
    except AlreadyAnswered:
        session.rollback()  # a second tap, or another tab, got there first
        return _already_answered_page(survey, token)
    _remember_chosen_language(session, survey.customer)
    session.commit()
    return _thank_you_page(survey, response, token=token, link_token=token, offer_the_rest=True)


@bp.post("/s/<token>/more")
def add_more_answers(token: str):
    """Answers to the questions the response left open; those already given stay as they are."""
    session = db.session()
    survey = _open_survey_or_abort(token)
    response = survey.response
    if response is None:
        # Nothing to add to yet: the survey itself asks the first question.
        return redirect(url_for(".show_survey", token=token), 303)
    remaining = _in_customer_language(survey, unanswered_questions(response))
    form = survey_form_class(remaining, required=False)()
    if not form.validate():
        return _thank_you_page(
            survey, response, token=token, link_token=token, form=form, questions=remaining
        ), 422
    try:
        add_answers(session, survey, answers_from(form, remaining), now=clock.now())
    except SurveyClosed:
        # The link expired between the check above and now: as closed as any other.
        session.rollback()
        return _page("public/survey_closed.html", 410, first_name=first_name(survey.customer.name))
    except InvalidAnswers as invalid:
        session.rollback()
        for key, why in invalid.errors.items():
            form[key].errors = [why]
        return _thank_you_page(
            survey, response, token=token, link_token=token, form=form, questions=remaining
        ), 422
    _remember_chosen_language(session, survey.customer)
    session.commit()
    return _thank_you_page(survey, response, link_token=token)


@bp.get("/s/<token>/review")
def follow_review_link(token: str):
    """The public review link of the thank-you page: count the click, then go to the review site.

    A GET that records, unlike every other GET here: this link is only on the page shown after
    answering, never in an email, so no mail scanner follows it; and the count is of people
    who went to review us, nothing the customer said.
    """
    session = db.session()
    survey = _token_or_abort(token).survey
    review_url = public_review_url(session)
    if survey is None or review_url is None:
        abort(_page("public/link_not_found.html", 404))
    if not _is_answered(survey):
        # Offered after answering only: the survey itself comes first.
        return redirect(url_for(".show_survey", token=token), 303)
    record_review_click(session, survey, now=clock.now())
    session.commit()
    return redirect(review_url, 303)


@bp.get("/u/<token>")
def show_unsubscribe(token: str):
    """Ask the customer to confirm; a link followed by a mail scanner must not unsubscribe.
    Once unsubscribed, the same link shows the goodbye page (say why, or come back)."""
    found = _token_or_abort(token)
    if found.customer.suppressed_at is not None:
        return _goodbye_page(found.customer, token)
    return render_template(
        "public/show_unsubscribe.html",
        customer=found.customer,
        token=token,
        signer=goodbyes.who_looks_after(db.session(), found.customer),
    )


@bp.post("/u/<token>")
@csrf.exempt
def unsubscribe(token: str):
    """RFC 8058 one-click unsubscribe: no cookie or CSRF token, effective at once, 200."""
    # Mail providers post `List-Unsubscribe=One-Click`; the confirmation page posts
    # the same form. The secret token is the authority, so the body is not required.
    session = db.session()
    found = _token_or_abort(token)
    goodbyes.unsubscribe_by_customer(session, found.customer, now=clock.now())
    session.commit()
    return _goodbye_page(found.customer, token)


# The goodbye forms take no CSRF token, like the one-click unsubscribe: the secret token in
# the address is the authority, so another site cannot forge these posts, and a customer
# who just asked to be left alone is not handed a session cookie.
@bp.post("/u/<token>/why")
@csrf.exempt
def say_why_unsubscribed(token: str):
    """After unsubscribing, never before: what made them go, passed on to their owner."""
    session = db.session()
    found = _token_or_abort(token)
    form = GoodbyeReasonForm()
    if not form.validate():
        return _goodbye_page(found.customer, token, why_form=form, status=422)
    try:
        goodbyes.say_why(
            session,
            found.customer,
            reason=form.reason.data,
            words=form.words.data,
            now=clock.now(),
        )
    except goodbyes.GoodbyeError as refused:
        session.rollback()
        if refused.field is None:
            return _goodbye_page(found.customer, token, notice=str(refused), status=409)
        form[refused.field].errors = [str(refused)]
        return _goodbye_page(found.customer, token, why_form=form, status=422)
    session.commit()
    return _goodbye_page(found.customer, token, thanked=True)


@bp.post("/u/<token>/back")
@csrf.exempt
def come_back(token: str):
    """The way back: the customer's own unsubscribe undone with one button."""
    session = db.session()
    found = _token_or_abort(token)
    try:
        goodbyes.come_back(session, found.customer, now=clock.now())
    except goodbyes.GoodbyeError as refused:
        session.rollback()
        return _goodbye_page(found.customer, token, notice=str(refused), status=409)
    session.commit()
    return render_template(
        "public/welcome_back.html",
        customer=found.customer,
        signer=goodbyes.who_looks_after(session, found.customer),
    )


def _goodbye_page(
    customer,
    token: str,
    *,
    why_form: GoodbyeReasonForm | None = None,
    thanked: bool = False,
    notice: str | None = None,
    status: int = 200,
):
    """The unsubscribed page: signed by the person who looks after them, then (optionally)
    why, and the way back when the unsubscribe was their own."""
    session = db.session()
    goodbye = goodbyes.open_goodbye(session, customer)
    may_say_why = (
        goodbye is not None and goodbye.kind == "unsubscribed" and goodbye.said_why_at is None
    )
    return _page(
        "public/unsubscribed.html",
        status,
        customer=customer,
        token=token,
        signer=goodbyes.who_looks_after(session, customer),
        why_form=(why_form or GoodbyeReasonForm(formdata=None)) if may_say_why else None,
        thanked=thanked,
        notice=notice,
        can_come_back=customer.suppression_reason == goodbyes.SELF_SERVICE_REASON,
    )


def _token_or_abort(raw: str) -> SurveyToken:
    token = find_token(db.session(), raw)
    if token is None:
        abort(_page("public/link_not_found.html", 404))
    # From here the page speaks to this customer: their language (or the one just picked
    # from the page's language links), their time zone.
    chosen = request.args.get("lang")
    g.chosen_language = chosen if chosen in SHIPPED else None
    read_by_customer(token.customer, chosen_language=g.chosen_language)
    return token


def _remember_chosen_language(session, customer) -> None:
    """Answers sent from a page read in a language the customer picked: keep it for them."""
    if g.get("chosen_language"):
        language.choose_language(session, customer, g.chosen_language)


def _open_survey_or_abort(raw: str) -> Survey:
    """The survey behind a link: 404 when there is none, 410 when it has closed."""
    token = _token_or_abort(raw)
    survey = token.survey
    if survey is None:  # an unsubscribe-only link
        abort(_page("public/link_not_found.html", 404))
    if survey.expires_at is not None and survey.expires_at <= clock.now():
        abort(_page("public/survey_closed.html", 410, first_name=first_name(survey.customer.name)))
    return survey


def _in_customer_language(survey: Survey, questions: list[Question]) -> list[LocalizedQuestion]:
    """The questions as this customer reads them: in their language where the set has it."""
    language = translations.customer_language(db.session(), survey.customer)
    return translations.localized_questions(questions, language)


def _is_answered(survey: Survey) -> bool:
    return survey.status == SurveyStatus.ANSWERED or survey.response is not None


def _already_answered_page(survey: Survey, token: str):
    """Already answered; the questions still open, and the review link, are offered as on the
    thank-you page."""
    remaining = (
        _in_customer_language(survey, unanswered_questions(survey.response))
        if survey.response
        else []
    )
    return render_template(
        "public/already_answered.html",
        survey=survey,
        review_link=_review_link(token),
        first_name=first_name(survey.customer.name),
        token=token,
        questions=remaining,
        more_form=survey_form_class(remaining, required=False)() if remaining else None,
    )


def _thank_you_page(
    survey: Survey,
    response: Response,
    *,
    link_token: str,
    token: str | None = None,
    offer_the_rest: bool = False,
    form=None,
    questions: list[Question] | None = None,
) -> str:
    """Thank the customer; after the one tap (or a refused addition), offer what is still open.

    The public review link is offered to everyone who answered, whatever they answered.
    `link_token` is the survey's link (`token` only when the other questions are offered).
    """
    session = db.session()
    if offer_the_rest:
        questions = _in_customer_language(survey, unanswered_questions(response))
        form = survey_form_class(questions, required=False)() if questions else None
    case = session.scalar(select(Case).where(Case.response_id == response.id))
    return render_template(
        "public/thank_you.html",
        survey=survey,
        first_name=first_name(survey.customer.name),
        # No name while the case waits for an owner: the message already promises a person.
        owner_name=first_name(case.owner.name) if case and case.owner else None,
        message=_shop_words(get_setting(session, "thank_you_message"), "thank_you_message"),
        review_link=_review_link(link_token),
        token=token,
        questions=questions or [],
        more_form=form,
    )


def _review_link(token: str) -> str | None:
    """Our address that counts a click and leads to the public review site; None while an admin
    has set no review site."""
    if public_review_url(db.session()) is None:
        return None
    return url_for(".follow_review_link", token=token)


def _survey_page(survey: Survey, questions: list[Question], form, token: str) -> str:
    case = db.session().get(Case, survey.case_id) if survey.case_id is not None else None
    return render_template(
        "public/show_survey.html",
        survey=survey,
        questions=questions,
        form=form,
        token=token,
        first_name=first_name(survey.customer.name),
        other_languages=other_languages(),
        problem=the_problem(case) if case is not None else None,
        resolution=case.resolution if case is not None else None,
    )


def the_problem(case: Case) -> str | None:
    """What the customer told us, as the fix-check page names it: "“the key is broken”"."""
    written = written_words(case)
    if written:
        words = written[0]
        return f"“{words if len(words) <= 300 else words[:297].rstrip() + '…'}”"
    reasons = negative_reasons(case)
    if reasons:
        return gettext(
            "“%(answer)s” when we asked “%(question)s”",
            answer=reasons[0].answer,
            question=reasons[0].question,
        )
    return None


def _one_tap_page(survey: Survey, question: Question | None, form, token: str) -> str:
    if question is None:  # a version without questions has nothing to tap
        abort(_page("public/link_not_found.html", 404))
    return render_template(
        "public/one_tap.html",
        survey=survey,
        question=question,
        form=form,
        token=token,
        first_name=first_name(survey.customer.name),
        other_languages=other_languages(),
    )


def _one_click_answer(questions: list[Question], value: str | None) -> dict[str, str]:
    """The answer from the email's link, for the first question only, and only if it fits."""
    if questions and preselectable(questions[0], value):
        return {questions[0].key: value}
    return {}


def _shop_words(text: str, key: str) -> str:
    """A setting's words for the customer: our default in their language, the shop's own as
    written."""
    return gettext(text) if text == SPECS[key].default else text


def _page(template: str, status: int, **context):
    return make_response(render_template(template, **context), status)
