"""What customers see: the survey, the thank-you page, unsubscribing.

Every page is reached through a personal link whose token is only stored as a
hash. A GET never records anything, because mail scanners follow links.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request
from sqlalchemy import select

from surveys import clock
from surveys.auth import csrf
from surveys.db import db
from surveys.models import Case, Question, Survey, SurveyToken
from surveys.models.surveys import SurveyStatus
from surveys.public.forms import answers_from, preselectable, survey_form_class
from surveys.services.customers.unsubscribe import unsubscribe_customer
from surveys.services.settings import get_setting
from surveys.services.surveys.responses import AlreadyAnswered, submit_response, survey_version
from surveys.services.surveys.tokens import find_token
from surveys.templating import first_name

bp = Blueprint("public", __name__)


@bp.context_processor
def inject_sender_name() -> dict:
    # Customers know the shop, not this software: pages carry the sender's name.
    return {"sender_name": get_setting(db.session(), "sender_name")}


@bp.after_request
def keep_personal_pages_private(response):
    # The URL holds a personal token: keep it out of caches and search engines. The site's
    # Referrer-Policy (surveys/security_headers.py) keeps it out of Referer headers.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    return response


@bp.get("/s/<token>")
def show_survey(token: str):
    """The survey form, with the answer chosen in the email already selected."""
    session = db.session()
    survey = _open_survey_or_abort(token)
    if _is_answered(survey):
        return _already_answered_page(survey)
    questions = survey_version(session, survey).questions
    form = survey_form_class(questions)(data=_one_click_answer(questions, request.args.get("a")))
    return _survey_page(survey, questions, form, token)


@bp.post("/s/<token>")
def submit_survey(token: str):
    """Record the answers once and thank the customer; a second submit changes nothing."""
    session = db.session()
    survey = _open_survey_or_abort(token)
    if _is_answered(survey):
        return _already_answered_page(survey)
    questions = survey_version(session, survey).questions
    form = survey_form_class(questions)()
    if not form.validate():
        return _survey_page(survey, questions, form, token), 422
    try:
        response = submit_response(session, survey, answers_from(form, questions), now=clock.now())
    except AlreadyAnswered:
        session.rollback()  # another submit won the race; show what it recorded
        return _already_answered_page(survey)
    session.commit()
    case = session.scalar(select(Case).where(Case.response_id == response.id))
    return render_template(
        "public/thank_you.html",
        survey=survey,
        first_name=first_name(survey.customer.name),
        # No name while the case waits for an owner: the message already promises a person.
        owner_name=first_name(case.owner.name) if case and case.owner else None,
        message=get_setting(session, "thank_you_message"),
    )


@bp.get("/u/<token>")
def show_unsubscribe(token: str):
    """Ask the customer to confirm; a link followed by a mail scanner must not unsubscribe."""
    found = _token_or_abort(token)
    return render_template("public/show_unsubscribe.html", customer=found.customer, token=token)


@bp.post("/u/<token>")
@csrf.exempt
def unsubscribe(token: str):
    """RFC 8058 one-click unsubscribe: no cookie or CSRF token, effective at once, 200."""
    # Mail providers post `List-Unsubscribe=One-Click`; the confirmation page posts
    # the same form. The secret token is the authority, so the body is not required.
    session = db.session()
    found = _token_or_abort(token)
    unsubscribe_customer(session, found.customer, now=clock.now())
    session.commit()
    return render_template("public/unsubscribed.html", customer=found.customer)


def _token_or_abort(raw: str) -> SurveyToken:
    token = find_token(db.session(), raw)
    if token is None:
        abort(_page("public/link_not_found.html", 404))
    return token


def _open_survey_or_abort(raw: str) -> Survey:
    """The survey behind a link: 404 when there is none, 410 when it has closed."""
    token = _token_or_abort(raw)
    survey = token.survey
    if survey is None:  # an unsubscribe-only link
        abort(_page("public/link_not_found.html", 404))
    if survey.expires_at is not None and survey.expires_at <= clock.now():
        abort(_page("public/survey_closed.html", 410, first_name=first_name(survey.customer.name)))
    return survey


def _is_answered(survey: Survey) -> bool:
    return survey.status == SurveyStatus.ANSWERED or survey.response is not None


def _already_answered_page(survey: Survey):
    return render_template(
        "public/already_answered.html", survey=survey, first_name=first_name(survey.customer.name)
    )


def _survey_page(survey: Survey, questions: list[Question], form, token: str) -> str:
    return render_template(
        "public/show_survey.html",
        survey=survey,
        questions=questions,
        form=form,
        token=token,
        first_name=first_name(survey.customer.name),
    )


def _one_click_answer(questions: list[Question], value: str | None) -> dict[str, str]:
    """The answer from the email's link, for the first question only, and only if it fits."""
    if questions and preselectable(questions[0], value):
        return {questions[0].key: value}
    return {}


def _page(template: str, status: int, **context):
    return make_response(render_template(template, **context), status)
