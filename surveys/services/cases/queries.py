"""Finding cases and reading them: one case (as a person or an API key may see it), the
cases waiting for an owner, and a case's answers in the customer's words."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from surveys.models import Answer, Case, CaseEvent, Customer, Purchase, Response, User
from surveys.services.cases.errors import CaseNotFound

# What a customer tells us about themselves: kept on the profile, not a complaint.
PREFERENCES_KEY = "preferences"


def _case_page_options():
    """Everything a case page or API document shows, loaded in a few queries."""
    return (
        selectinload(Case.owner),
        selectinload(Case.customer).selectinload(Customer.owner),
        selectinload(Case.purchase).selectinload(Purchase.items),
        selectinload(Case.response).selectinload(Response.answers).selectinload(Answer.question),
        selectinload(Case.events).selectinload(CaseEvent.actor_user),
        selectinload(Case.events).selectinload(CaseEvent.actor_api_key),
    )


def get_case(session: Session, case_id: int) -> Case:
    """The case with everything its page shows (for API keys, which see every case)."""
    case = session.scalar(select(Case).where(Case.id == case_id).options(*_case_page_options()))
    if case is None:
        raise CaseNotFound(f"There is no case {case_id}.")
    return case


def get_case_for(session: Session, user: User, case_id: int) -> Case:
    """The case, if this user may see it: admins see every case, owners only their own."""
    case = get_case(session, case_id)
    if not (user.is_admin or case.owner_id == user.id):
        # The same answer as for a case that does not exist: no hint that it does.
        raise CaseNotFound(f"There is no case {case_id}.")
    return case


@dataclass(frozen=True)
class Reason:
    """A negative answer as the customer gave it: the question and the words they chose."""

    question: str
    answer: str


def answer_words(answer: Answer) -> str:
    """An answer as the customer saw it: the option's label, "4 out of 10", or their text."""
    question = answer.question
    if answer.value in (None, ""):
        return ""
    if question.type == "scale" and question.max_value is not None:
        return f"{answer.value} out of {question.max_value}"
    return question.label_for(answer.value) or ""


@dataclass(frozen=True)
class NegativeBecause:
    """Why a written answer counts as negative: the words it mentions, its tone under the
    question's threshold, or a question where any answer needs the owner."""

    rule: str  # "words", "tone" or "any_answer"
    words: tuple[str, ...] = ()
    tone: float | None = None
    threshold: float | None = None


def answer_in_words(answer) -> str:
    """An answer as the customer saw it, a score as the reader says it ("4 out of 10", "4 de
    10"); choices in the words the customer chose, text verbatim."""
    question = answer.question
    if question.type == "scale" and question.max_value is not None and answer.value:
        return gettext("%(score)s out of %(max)s", score=answer.value, max=question.max_value)
    return answer_words(answer)


def negative_rule(answer: Answer) -> NegativeBecause | None:
    """Which of the question's rules made a written answer negative; None for other answers,
    and for written answers that are not negative."""
    if not answer.negative or answer.question.type != "text":
        return None
    if answer.negative_words:
        return NegativeBecause("words", words=tuple(answer.negative_words))
    rule = answer.question.negative or {}
    threshold = rule.get("sentiment_below")
    if threshold is not None and answer.sentiment is not None and answer.sentiment < threshold:
        return NegativeBecause("tone", tone=answer.sentiment, threshold=threshold)
    if rule.get("not_empty"):
        return NegativeBecause("any_answer")
    return None


def negative_because(answer: Answer) -> str | None:
    """Why a written answer counts as negative, in words ("mentions “refund” and “rude”").

    None for other answers, and for written answers that are not negative.
    """
    because = negative_rule(answer)
    if because is None:
        return None
    if because.rule == "words":
        quoted = [f"“{word}”" for word in because.words]
        listed = ", ".join(quoted[:-1]) + " and " + quoted[-1] if len(quoted) > 1 else quoted[0]
        return f"mentions {listed}"
    if because.rule == "tone":
        return f"reads as unhappy (tone {because.tone:.2f}, below {because.threshold:g})"
    return "answers a question where any answer needs you"


def negative_reasons(case: Case) -> list[Reason]:
    """The answers that opened the case, in the order the customer gave them."""
    return [
        Reason(answer.question.text, answer_words(answer))
        for answer in case.response.answers
        if answer.negative
    ]


def written_words(case: Case) -> list[str]:
    """What the customer wrote in their own words (not their preferences), in order."""
    return [
        answer.value.strip()
        for answer in case.response.answers
        if answer.question.type == "text"
        and answer.question.key != PREFERENCES_KEY
        and (answer.value or "").strip()
    ]


def reply_opening(case: Case) -> str:
    """The customer's own words quoted ("You told us: …"): a one-message reply that is only
    this is refused, since it says nothing of the owner's own.

    What they wrote when they wrote something; else the answers that opened the case.
    """
    written = written_words(case)
    if written:
        quoted = " … ".join(f"“{text}”" for text in written)
    else:
        quoted = " and ".join(
            f"“{answer_words(answer)}” ({answer.question.text})"
            for answer in case.response.answers
            if answer.negative
        )
    return f"You told us: {quoted}\n\n" if quoted else ""


def reassign_candidates(session: Session, case: Case) -> list[User]:
    """Everyone who could take the case: active people other than its owner (if any)."""
    query = select(User).where(User.active.is_(True)).order_by(User.name, User.id)
    if case.owner_id is not None:
        query = query.where(User.id != case.owner_id)
    return list(session.scalars(query))


def count_waiting_cases(session: Session) -> int:
    """How many cases wait for an owner."""
    return session.scalar(select(func.count(Case.id)).where(Case.owner_id.is_(None)))


def waiting_cases(session: Session, *, limit: int = 20) -> list[Case]:
    """The cases waiting for an owner, the longest waiting first."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.owner_id.is_(None))
            .options(selectinload(Case.customer))
            .order_by(Case.created_at, Case.id)
            .limit(limit)
        )
    )
