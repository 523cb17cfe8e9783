"""Recording a customer's answers to a survey, once, and acting on what they said."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    Case,
    CustomerPreference,
    OutboxMessage,
    Question,
    QuestionSetVersion,
    Response,
    Survey,
)
from surveys.models.outbox import OutboxStatus
from surveys.models.surveys import SurveyStatus
from surveys.services.cases.fix_check import add_to_fix_check, answer_fix_check
from surveys.services.cases.opening import note_negative_answers, open_case
from surveys.services.chat_channels.notify import notify_negative_answers
from surveys.services.customers.ledger import record_answer_touches
from surveys.services.insights.themes import record_answer_themes
from surveys.services.question_sets.translations import customer_language, shop_default_language
from surveys.services.question_sets.versions import current_version
from surveys.services.surveys.scheduling import lock_customer
from surveys.services.webhooks_out.events import emit_response_created

MAX_TEXT_LENGTH = 2000
# The preferences answer is kept on the customer's profile, not only in the response,
# so every owner who serves them later sees it.
PREFERENCES_KEY = "preferences"
# A fix-check answers an existing case; its effect on that case is decided elsewhere.
KINDS_WITHOUT_CASES = ("fix_check",)


class AlreadyAnswered(Exception):
    """The survey has a response already; nothing was changed."""


class NotAnsweredYet(Exception):
    """Answers can only be added to a response that exists; nothing was changed."""


class SurveyClosed(Exception):
    """The survey's link has expired; nothing was changed."""


class InvalidAnswers(ValueError):
    """Some answers do not fit their questions; `errors` maps question keys to reasons."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {why}" for key, why in errors.items()))
        self.errors = errors


def survey_version(session: Session, survey: Survey) -> QuestionSetVersion:
    """The version the survey shows: the one pinned when sent, else the set's newest."""
    return survey.version or current_version(session, survey.question_set)


def submit_response(
    session: Session,
    survey: Survey,
    answers: dict[str, str],
    *,
    now: datetime,
    require_all: bool = True,
) -> Response:
    """Record the answers once, keep preferences, and open a case when any answer is negative.

    `answers` maps question keys to values; blank or missing keys are unanswered.
    `require_all=False` lets required questions wait (the email's one tap sends one
    answer; `add_answers` takes the rest later).
    Raises AlreadyAnswered for a second submit (also when two submits race) and
    InvalidAnswers when a value does not fit its question.
    """
    if survey.status == SurveyStatus.ANSWERED or survey.response is not None:
        raise AlreadyAnswered(survey.id)
    version = survey_version(session, survey)
    given = _checked_answers(version.questions, answers, require_all=require_all)
    response = _insert_response(session, survey, version, now=now)
    _record_answers(session, survey, response, given, now=now)
    response.negative = any(answer.negative for answer in response.answers)
    survey.version_id = version.id
    survey.status = SurveyStatus.ANSWERED
    survey.answered_at = now
    _cancel_reminders(session, survey)
    session.flush()
    record_answer_themes(session, response.answers)
    emit_response_created(session, response, now=now)
    if survey.kind == "fix_check":
        # "Yes" closes the case it asks about; "no" or "partly" reopens it.
        answer_fix_check(session, response, now=now)
    elif response.negative and survey.kind not in KINDS_WITHOUT_CASES:
        case = open_case(session, response, now=now)
        notify_negative_answers(
            session, case, [answer for answer in response.answers if answer.negative], now=now
        )
    record_answer_touches(session, response, now=now)
    return response


# --- adding to a response (the questions after the email's one tap) --------------------------


def add_answers(
    session: Session, survey: Survey, answers: dict[str, str], *, now: datetime
) -> list[Answer]:
    """Add answers to the questions the survey's response left unanswered; return those added.

    An answer already given is never changed (its key is ignored here), and every
    question is optional. While the link works the customer may come back to add
    more. A newly negative answer acts as it would have in the first submit: it
    opens the response's case, or, when there is one already, tells that case (a
    "negative_answer" event, never a second case); on a fix-check it reopens.
    Raises NotAnsweredYet, SurveyClosed, or InvalidAnswers (nothing added).
    """
    response = survey.response
    if response is None:
        raise NotAnsweredYet(survey.id)
    if survey.expires_at is not None and survey.expires_at <= now:
        raise SurveyClosed(survey.id)
    # Two adds at once take turns here; the second then sees what the first added.
    lock_customer(session, survey.customer)
    session.expire(response)
    given = _checked_answers(unanswered_questions(response), answers, require_all=False)
    if not given:
        return []
    was_negative = response.negative
    added = _record_answers(session, survey, response, given, now=now)
    response.negative = was_negative or any(answer.negative for answer in added)
    session.flush()
    record_answer_themes(session, added)
    negatives = [answer for answer in added if answer.negative]
    if survey.kind == "fix_check":
        add_to_fix_check(
            session,
            response,
            added,
            turned_negative=response.negative and not was_negative,
            now=now,
        )
    elif negatives and survey.kind not in KINDS_WITHOUT_CASES:
        case = session.scalar(select(Case).where(Case.response_id == response.id))
        if case is None:
            case = open_case(session, response, now=now)
        else:
            note_negative_answers(session, case, negatives, now=now)
        notify_negative_answers(session, case, negatives, now=now)
    return added


def unanswered_questions(response: Response) -> list[Question]:
    """The questions of the response's version it has no answer to yet, in order."""
    answered = {answer.question_id for answer in response.answers}
    return [question for question in response.version.questions if question.id not in answered]


def _answer(question: Question, value: str, language: str, default_language: str) -> Answer:
    answer = Answer(question=question, position=question.position, value=value)
    if question.type == "text":
        # Every written answer keeps its sentiment, whether or not its question has a rule.
        reading = question.read_text(value, language, default_language)
        answer.sentiment = reading.score
        answer.negative_words = reading.words or None
        answer.negative = reading.negative
    else:
        answer.negative = question.is_negative(value)
    return answer


def _insert_response(
    session: Session, survey: Survey, version: QuestionSetVersion, *, now: datetime
) -> Response:
    # The unique survey_id settles a race between two submits: the loser's insert
    # fails inside this savepoint, leaving the rest of its transaction usable.
    response = Response(
        survey_id=survey.id, version_id=version.id, customer_id=survey.customer_id, submitted_at=now
    )
    try:
        with session.begin_nested():
            session.add(response)
            session.flush()
    except IntegrityError as exc:
        raise AlreadyAnswered(survey.id) from exc
    return response


def _record_answers(
    session: Session,
    survey: Survey,
    response: Response,
    given: list[tuple[Question, str]],
    *,
    now: datetime,
) -> list[Answer]:
    """Add checked answers to the response (and preferences to the customer's profile)."""
    added = []
    # Written answers are read in the customer's language: its words, and the tone only where
    # the sentiment library knows the language.
    default_language = shop_default_language(session)
    language = customer_language(session, survey.customer)
    for question, value in given:
        answer = _answer(question, value, language, default_language)
        response.answers.append(answer)
        added.append(answer)
        if question.key == PREFERENCES_KEY:
            session.add(
                CustomerPreference(
                    customer_id=survey.customer_id,
                    response_id=response.id,
                    body=value,
                    created_at=now,
                )
            )
    return added


def _checked_answers(
    questions: list[Question], answers: dict[str, str], *, require_all: bool = True
) -> list[tuple[Question, str]]:
    """The given answers in question order, or InvalidAnswers naming each misfit."""
    given, errors = [], {}
    for question in questions:
        value = (answers.get(question.key) or "").strip()
        if not value and not require_all:
            continue
        problem = _problem_with(question, value)
        if problem:
            errors[question.key] = problem
        elif value:
            given.append((question, value))
    if errors:
        raise InvalidAnswers(errors)
    return given


def _problem_with(question: Question, value: str) -> str | None:
    if not value:
        return "an answer is required" if question.required else None
    if question.type == "choice":
        allowed = {option["value"] for option in question.options or ()}
        return None if value in allowed else f"{value!r} is not one of the choices"
    if question.type == "scale":
        low, high = question.min_value, question.max_value
        try:
            # Exactly as the form writes it ("7", not "07" or "+7"), so values compare as text.
            fits = value == str(int(value)) and low <= int(value) <= high
        except ValueError:
            fits = False
        return None if fits else f"{value!r} is not a whole number from {low} to {high}"
    if len(value) > MAX_TEXT_LENGTH:
        return f"longer than {MAX_TEXT_LENGTH} characters"
    return None


def _cancel_reminders(session: Session, survey: Survey) -> None:
    # An answered survey needs no reminder; one still waiting would only annoy.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.survey_id == survey.id,
            OutboxMessage.template == "reminder",
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=SurveyStatus.CANCELLED, last_error="the survey was answered")
    )
