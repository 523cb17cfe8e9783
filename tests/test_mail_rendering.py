"""What the emails say: rendered by the worker, written as .eml files, read back with `email`."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from surveys.models import QuestionSet, QuestionSetVersion
from surveys.models.question_sets import Question
from surveys.outbox.enqueue import enqueue_email_to_user
from surveys.services.cases.actions import reassign_case
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import set_setting
from surveys.services.surveys.scheduling import schedule_survey
from surveys.services.surveys.tokens import find_token
from tests.factories import make_case, make_customer, make_purchase, make_user

BASE = "http://surveys.test"


# --- helpers -------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def html_links(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def send_and_read(app, runner, to: str | None = None) -> EmailMessage:
    """Run the worker once and parse the one .eml file it wrote (to `to`, when given)."""
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    emails = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    ]
    if to is not None:
        emails = [email for email in emails if email["To"].addresses[0].addr_spec == to]
    [email] = emails
    return email


def parts(email: EmailMessage) -> tuple[str, str]:
    """The plain text and HTML bodies, with the file's CRLF line ends read as newlines."""
    return tuple(
        email.get_body((subtype,)).get_content().replace("\r\n", "\n")
        for subtype in ("plain", "html")
    )


def schedule(
    session,
    clock,
    *,
    kind="purchase",
    question_set="heart-to-heart",
    name="Ana Diaz",
    items=None,
    case=None,
    customer=None,
):
    customer = customer or make_customer(session, name=name)
    purchase = make_purchase(session, customer, purchased_at=clock.now(), items=items)
    survey = schedule_survey(
        session,
        customer=customer,
        kind=kind,
        now=clock.now(),
        case=case,
        question_set=get_question_set(session, question_set),
        purchase=purchase if kind == "purchase" else None,
    )
    session.commit()
    return survey


def case_for(session, clock, *, owner, answers: dict[str, str]):
    """Ana Diaz's unhappy answers to her survey about order A-1001, and the case they opened."""
    customer = make_customer(session, name="Ana Diaz")
    purchase = make_purchase(session, customer, order_id="A-1001", purchased_at=clock.now())
    return make_case(
        session,
        owner=owner,
        customer=customer,
        purchase=purchase,
        answers=answers,
        now=clock.now(),
        routed_by="account owner",
    )


def survey_token(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


# --- the survey email ------------------------------------------------------------


def test_survey_email_greets_the_customer_and_names_what_they_bought(app, session, runner, clock):
    schedule(
        session,
        clock,
        items=[
            {
                "sku": "KB-1",
                "name": "Walnut keyboard",
                "category": "hardware",
                "quantity": 1,
                "unit_price": "129.90",
            }
        ],
    )

    email = send_and_read(app, runner)

    text, html = parts(email)
    assert email["Subject"] == "Ana, how is your walnut keyboard treating you?"
    assert text.startswith("Hi Ana,")
    assert "walnut keyboard" in text and "walnut keyboard" in html
    assert "Hi Ana," in html


def test_several_items_are_summed_up_in_a_few_words(app, session, runner, clock):
    schedule(
        session,
        clock,
        items=[
            {"sku": "KB-1", "name": "Walnut keyboard", "quantity": 1},
            {"sku": "MS-1", "name": "Mouse", "quantity": 1},
            {"sku": "PD-1", "name": "Desk pad", "quantity": 2},
        ],
    )

    email = send_and_read(app, runner)

    assert email["Subject"] == "Ana, how are your walnut keyboard and two other items treating you?"
    assert "for your walnut keyboard and two other items. We hope they are" in parts(email)[0]


def test_survey_email_links_each_answer_of_the_first_question(app, session, runner, clock):
    survey = schedule(session, clock)

    text, html = parts(send_and_read(app, runner))

    assert "Are we exceeding your expectations?" in text
    assert "Are we exceeding your expectations?" in html
    answer_links = [(href, label) for href, label in html_links(html) if "?a=" in href]
    assert [label for _href, label in answer_links] == [
        "Yes, you are exceeding them",
        "You are meeting them",
        "You are falling short",
    ]
    assert [parse_qs(urlsplit(href).query)["a"] for href, _label in answer_links] == [
        ["exceeding"],
        ["meeting"],
        ["short"],
    ]
    token = survey_token(answer_links[0][0])
    assert {urlsplit(href).path for href, _label in answer_links} == {f"/s/{token}"}
    assert find_token(session, token).survey_id == survey.id
    for href, label in answer_links:
        assert f"{label}: {href}" in text


def test_survey_email_links_the_whole_survey(app, session, runner, clock):
    schedule(session, clock)

    text, html = parts(send_and_read(app, runner))

    hrefs = [href for href, _label in html_links(html)]
    token = survey_token(next(href for href in hrefs if "?a=" in href).split("?")[0])
    assert f"{BASE}/s/{token}" in hrefs
    assert f"\n{BASE}/s/{token}\n" in text


def test_survey_email_shows_an_unsubscribe_link_and_carries_one_click_headers(
    app, session, runner, clock
):
    schedule(session, clock)

    email = send_and_read(app, runner)

    text, html = parts(email)
    unsubscribe = email["List-Unsubscribe"].strip()
    assert unsubscribe.startswith(f"<{BASE}/u/") and unsubscribe.endswith(">")
    url = unsubscribe[1:-1]
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in text
    assert (url, "Unsubscribe in one click") in html_links(html)
    # The same personal token serves the survey and the unsubscribe link.
    assert f"{BASE}/s/{survey_token(url)}" in text


def test_sender_name_setting_names_the_sender_at_the_mail_from_address(app, session, runner, clock):
    set_setting(session, "sender_name", "Olivia at Walnut & Co")
    set_setting(session, "shop_name", "Walnut & Co")
    schedule(session, clock)

    email = send_and_read(app, runner)

    [sender] = email["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Olivia at Walnut & Co",
        "surveys@shop.test",
    )
    # The shop signs; the sender name is who the mail app shows it from.
    assert "Warmly,\nWalnut & Co\n" in parts(email)[0]


def test_what_the_customer_wrote_is_escaped_in_html_and_verbatim_in_text(
    app, session, runner, clock
):
    schedule(
        session,
        clock,
        name="Zoë <b>",
        items=[
            {
                "sku": "C-1",
                "name": 'Cable <USB-C> & "adapter"',
                "quantity": 1,
                "unit_price": "9.90",
            }
        ],
    )

    text, html = parts(send_and_read(app, runner))

    assert 'Cable <USB-C> & "adapter"' in text
    assert "Cable &lt;USB-C&gt; &amp; &#34;adapter&#34;" in html
    assert "<USB-C>" not in html and "<b>" not in html
    assert "Hi Zoë," in text


def test_a_customer_without_a_name_is_still_greeted_warmly(app, session, runner, clock):
    schedule(session, clock, name=None)

    email = send_and_read(app, runner)

    assert email["Subject"] == "How is your keyboard treating you?"
    assert parts(email)[0].startswith("Hi,\n")


@pytest.mark.parametrize(
    ("kind", "question_set", "subject", "opening", "first_question"),
    [
        (
            "relationship_review",
            "relationship-review",
            "Ana, are we still exceeding your expectations?",
            "where we fall short of what you expected",
            "Are we exceeding your expectations?",
        ),
        (
            "fix_check",
            "fix-check",
            "Ana, is it fixed for you now?",
            "We want to be sure it is really fixed for you.",
            "You told us about a problem and we worked on it. Did our fix work?",
        ),
        (
            "manual",
            "heart-to-heart",
            "Ana, what is the one thing we could be doing better?",
            "We would like to hear how things really are with us",
            "Are we exceeding your expectations?",
        ),
    ],
)
def test_the_wording_follows_the_kind_of_survey(
    app, session, runner, clock, kind, question_set, subject, opening, first_question
):
    schedule(session, clock, kind=kind, question_set=question_set)

    email = send_and_read(app, runner)

    text, html = parts(email)
    assert email["Subject"] == subject
    assert opening in text and opening in html
    assert first_question in text
    assert "Thank you for choosing us" not in text


def test_fix_check_links_each_answer_and_names_the_owner_who_worked_on_it(
    app, session, runner, clock
):
    owner = make_user(session, name="Olivia Moreno", email="olivia@shop.test")
    case = case_for(session, clock, owner=owner, answers={"expectations": "short"})
    # A fix-check goes only while its case waits for the answer: resolved.
    case.status, case.resolution = "resolved", "Sent a new <keyboard> & a spare key."
    schedule(
        session,
        clock,
        kind="fix_check",
        question_set="fix-check",
        case=case,
        customer=case.customer,
    )

    text, html = parts(send_and_read(app, runner, to=case.customer.email))

    assert "and Olivia has been working on it" in text
    assert "Here is what we did: Sent a new <keyboard> & a spare key." in text
    assert "Sent a new &lt;keyboard&gt; &amp; a spare key." in html
    answers = [label for href, label in html_links(html) if "?a=" in href]
    assert answers == ["Yes, it is fixed", "Partly", "No, not yet"]


def test_a_scale_first_question_gets_one_link_per_point(app, session, runner, clock):
    question_set = QuestionSet(key="quick-nps", name="Quick NPS")
    session.add(question_set)
    session.flush()
    version = QuestionSetVersion(
        question_set_id=question_set.id, number=1, published_at=clock.now()
    )
    session.add(version)
    session.flush()
    session.add(
        Question(
            version_id=version.id,
            position=0,
            key="recommend",
            type="scale",
            min_value=0,
            max_value=10,
            text="How likely are you to recommend us?",
        )
    )
    schedule(session, clock, kind="manual", question_set="quick-nps")

    text, html = parts(send_and_read(app, runner))

    answers = [
        (parse_qs(urlsplit(href).query)["a"][0], label)
        for href, label in html_links(html)
        if "?a=" in href
    ]
    assert answers == [(str(n), str(n)) for n in range(11)]
    assert text.count("?a=") == 11


# --- the owner's email -----------------------------------------------------------------


def test_owner_email_brings_the_customers_own_words_and_the_case_link(app, session, runner, clock):
    owner = make_user(session, name="Olivia Moreno", email="olivia@shop.test")
    words = 'The box arrived crushed & the "manual" was missing <again>.'
    case = case_for(
        session,
        clock,
        owner=owner,
        answers={
            "expectations": "short",
            "one_thing": words,
            "recommend": "3",
            "time_money": "",
        },
    )
    enqueue_email_to_user(session, owner, template="owner_new_case", now=clock.now(), case=case)
    session.commit()

    email = send_and_read(app, runner, to="olivia@shop.test")

    text, html = parts(email)
    assert email["Subject"] == f"Ana Diaz needs you: case #{case.id}"
    assert text.startswith("Hi Olivia,")
    # Choices in the words the customer chose, not their stored values; text verbatim.
    assert "You are falling short" in text and "You are falling short" in html
    assert f'"{words}"' in text
    assert "crushed &amp; the &#34;manual&#34; was missing &lt;again&gt;." in html
    assert "How likely are you to recommend us to a friend or colleague?" in text
    assert "Did we save you time and money?" not in text  # left unanswered
    assert f"Open the case: {BASE}/cases/{case.id}" in text
    assert (f"{BASE}/cases/{case.id}", "Open the case") in html_links(html)
    assert "Order A-1001" in text
    # Staff mail carries no unsubscribe link.
    assert email["List-Unsubscribe"] is None
    assert "/u/" not in text and "/u/" not in html


@pytest.mark.parametrize("template", ["owner_new_case", "case_reassigned_owner", "escalation"])
def test_every_email_to_staff_shows_the_customers_answers_the_same_way(
    app, session, runner, clock, template
):
    """A score reads "4 out of 10" and the preferences answer is there, whichever email it is."""
    owner = make_user(session, name="Olivia Moreno", email="olivia@shop.test")
    case = case_for(
        session,
        clock,
        owner=owner,
        answers={
            "expectations": "short",
            "recommend": "4",
            "preferences": "Please call me after 5 pm.",
        },
    )
    to = "olivia@shop.test"
    if template == "case_reassigned_owner":
        ben = make_user(session, name="Ben Baker", email="ben@shop.test")
        reassign_case(
            session,
            case,
            new_owner=ben,
            reason="Ben knows keyboards.",
            now=clock.now(),
            by_user=owner,
        )
        to = "ben@shop.test"
    else:
        context = {"breach": "acknowledge"} if template == "escalation" else None
        enqueue_email_to_user(
            session,
            owner,
            template=template,
            now=clock.now(),
            case=case,
            context=context,
        )
    session.commit()

    text, html = parts(send_and_read(app, runner, to=to))

    for body in (text, html):
        assert "How likely are you to recommend us to a friend or colleague?" in body
        assert "4 out of 10" in body
        assert "You are falling short" in body
        assert "that we should remember?" in body
        assert "Please call me after 5 pm." in body
    assert "You are falling short  (needs you)" in text  # negative answers marked, as in HTML
