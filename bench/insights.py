"""Benchmark: the insight pages at a million responses, against the floor and their targets.

    .venv/bin/python bench/insights.py [--responses 1000000] [--runs 5] [--keep]

On a throw-away PostgreSQL database (`insights_bench` on the server of TEST_DATABASE_URL,
default postgresql://postgres@127.0.0.1:5432/test), migrated like production, it seeds in bulk
with SQL (INSERT … SELECT over generate_series, no ORM): 1,000,000 responses over three years
with their answers (the 0–10 score, the two choice questions, written answers drawn from a few
thousand varied sentences read by the app's own rule for sentiment and complaint words),
100,000 customers, 50,000 cases (one owner has 5,000 of them, a quarter still open),
2,000,000 touch points, the outbox rows and SendGrid events the app would hold. What the app
keeps beside its rows is kept too: each customer's touch tallies, each written answer's themes
(the same function the app calls when an answer is recorded) and the day rollups the worker
refreshes (the worker's own function).

Then it times each page through the real app (Flask's test client, logged in as the admin or
the owner; the API with a key): one warm-up, then the median of `--runs`. Beside each: the time
of a bare `SELECT count(*) FROM responses` (the floor) and the target.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dispatch import machine  # noqa: E402
from surveys import create_app  # noqa: E402
from surveys.cli import upgrade_database  # noqa: E402
from surveys.db import db  # noqa: E402

SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
NAME = "insights_bench"
CATEGORIES = ("hardware", "books", "garden", "kitchen", "toys", "clothing")
OWNERS = 20
KB = 1024
# What the seed steps learn from each other (question ids, how many texts of each kind).
STATE: dict = {}


def create_database(name: str) -> str:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- written answers ---------------------------------------------------------------------------

_ITEMS = (
    "keyboard",
    "lamp",
    "kettle",
    "jacket",
    "garden hose",
    "cookbook",
    "blender",
    "desk chair",
    "puzzle",
    "frying pan",
    "monitor",
    "backpack",
    "tent",
    "headphones",
    "toaster",
    "rain boots",
)
_PRAISE = (
    "Nothing, keep doing what you do.",
    "Honestly nothing, the {item} is perfect.",
    "Faster shipping would be nice.",
    "Faster delivery would be nice, the {item} took {days} days.",
    "More colours for the {item}.",
    "Send tracking updates sooner.",
    "A reusable box instead of plastic packaging for the {item}.",
    "Cheaper shipping costs for small orders.",
    "Better instructions for setting up the {item}.",
    "Lower prices on the {item} would be great.",
    "Maybe a discount for returning customers.",
    "The website search could find the {item} faster.",
    "Offer gift wrapping.",
    "Same day delivery in my area.",
    "Keep the customer service as friendly as it is.",
    "More sizes of the {item}, please.",
    "The checkout page asks for my address twice.",
    "Quicker replies to emails.",
    "A paper invoice in the box.",
    "Eco friendly packaging please.",
)
_COMPLAINTS = (
    "The {item} arrived broken and nobody answered my emails.",
    "Delivery was late by {days} days and the tracking never updated.",
    "The {item} stopped working after a week, very disappointed.",
    "Customer service was rude when I asked about the damaged {item}.",
    "The box arrived crushed and the {item} was scratched.",
    "Wrong {item} delivered, still waiting for a refund.",
    "Terrible packaging, the {item} was damaged in transit.",
    "The refund took {days} days, awful experience.",
    "I was charged twice for the {item} and support ignored me.",
    "The {item} is cheap quality and broke immediately.",
    "Late delivery again, the courier left the {item} in the rain.",
    "Missing parts for the {item}, the instructions are useless.",
)


def written_answers() -> tuple[list[str], list[str]]:
    """(praise and suggestions, complaints): a few thousand distinct sentences."""
    fills = [(item, days) for item in _ITEMS for days in (2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 21)]
    praise = sorted({t.format(item=i, days=d) for t in _PRAISE for i, d in fills})
    complaints = sorted({t.format(item=i, days=d) for t in _COMPLAINTS for i, d in fills})
    # People often say two things: a few thousand pairs make the long tail of phrases.
    dice = random.Random(42)
    praise += [f"{dice.choice(praise)} {dice.choice(praise)}" for _ in range(4000)]
    complaints += [f"{dice.choice(complaints)} {dice.choice(praise)}" for _ in range(2000)]
    return praise, complaints


def load_texts(conn, app) -> None:
    """The table `seed_texts` (id, body, sentiment, negative, negative_words, complaint) read
    by the one_thing question's own rule: a complaint the rule would not flag, or praise it
    would, is left out, so every response's `negative` is what the app would have stored."""
    from sqlalchemy import select

    from surveys.models import Question
    from surveys.services.insights.scores import RECOMMEND_KEY  # noqa: F401

    praise, complaints = written_answers()
    with app.app_context():
        question = db.session().scalar(
            select(Question).where(Question.id == STATE["questions"]["one_thing"])
        )
        rows = []
        for complaint, texts in ((False, praise), (True, complaints)):
            for body in texts:
                reading = question.read_text(body)
                if reading.negative != complaint:
                    continue
                words = reading.words or None
                rows.append((body, reading.score, reading.negative, words, complaint))
    conn.execute(
        "CREATE UNLOGGED TABLE seed_texts (id serial PRIMARY KEY, body text, sentiment float,"
        " negative boolean, negative_words json, complaint boolean, n int)"
    )
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO seed_texts (body, sentiment, negative, negative_words, complaint)"
            " VALUES (%s, %s, %s, %s::json, %s)",
            [
                (
                    body,
                    score,
                    negative,
                    None if words is None else psycopg.types.json.Json(words),
                    complaint,
                )
                for body, score, negative, words, complaint in rows
            ],
        )
    # Numbered within each pool, so a response can pick one with a random index.
    conn.execute(
        "UPDATE seed_texts s SET n = x.n FROM (SELECT id, row_number() OVER"
        " (PARTITION BY complaint ORDER BY id) - 1 AS n FROM seed_texts) x WHERE x.id = s.id"
    )
    counts = dict(conn.execute("SELECT complaint, count(*) FROM seed_texts GROUP BY 1"))
    STATE["texts"] = counts
    print(f"  written answers: {counts[False]:,} kinds of praise, {counts[True]:,} complaints")


# --- the seed ----------------------------------------------------------------------------------


class Seed:
    """What the timing needs to know about the seeded rows."""

    admin_id: int
    big_owner_id: int
    longest_customer_id: int
    api_key: str
    deep_cursor: str


def create_people(app, now: datetime) -> Seed:
    from surveys.services.users.accounts import create_user
    from surveys.services.users.api_keys import create_api_key

    seed = Seed()
    with app.app_context():
        session = db.session()
        admin = create_user(
            session,
            email="admin@bench.example",
            name="Ada Admin",
            role="admin",
            password="bench-password-1",
            now=now,
        )
        owners = [
            create_user(
                session,
                email=f"owner{n}@bench.example",
                name=f"Owner {n:02d}",
                role="owner",
                password="bench-password-1",
                now=now,
            )
            for n in range(1, OWNERS + 1)
        ]
        _key, raw = create_api_key(session, "bench", scope="read", now=now)
        session.commit()
        seed.admin_id, seed.big_owner_id, seed.api_key = admin.id, owners[0].id, raw
    return seed


def run(conn, label: str, sql: str, **params) -> None:
    started = time.perf_counter()
    result = conn.execute(sql, params)
    conn.commit()
    rows = f"{result.rowcount:,} rows" if result.rowcount and result.rowcount > 0 else ""
    print(f"  {label:<40}{rows:>16}  {time.perf_counter() - started:6.1f} s", flush=True)


def seed_rows(conn, seed: Seed, *, responses: int, now: datetime) -> None:
    """Every row, in bulk. Survey g (1 … S) has purchase g; five surveys in six are answered."""
    surveys = responses * 6 // 5
    customers = 100_000 * responses // 1_000_000 or 100
    start = now - timedelta(days=3 * 365)
    version = conn.execute(
        "SELECT v.id, s.id FROM question_set_versions v JOIN question_sets s"
        " ON s.id = v.question_set_id WHERE s.key = 'heart-to-heart'"
        " ORDER BY v.number DESC LIMIT 1"
    ).fetchone()
    questions = dict(
        conn.execute("SELECT key, id FROM questions WHERE version_id = %s", version[:1])
    )
    STATE["questions"] = questions
    owner_ids = [
        row[0] for row in conn.execute("SELECT id FROM users WHERE role = 'owner' ORDER BY id")
    ]
    p = {
        "S": surveys,
        "C": customers,
        "start": start,
        "now": now,
        "span": now - start,
        "version": version[0],
        "set": version[1],
        "owners": owner_ids,
        "big": seed.big_owner_id,
        "admin": seed.admin_id,
        "cats": list(CATEGORIES),
    }
    conn.execute("SELECT setseed(0.42)")
    # The customer of survey g: customer 1 has a long history (one survey in 400), the rest
    # are spread evenly. A third of customers have an account owner.
    customer_of = "(CASE WHEN g %% 400 = 7 THEN 1 ELSE 2 + (g * 7919) %% (%(C)s - 1) END)"
    at = "(%(start)s::timestamptz + %(span)s::interval * (g::float8 / %(S)s))"
    run(
        conn,
        "customers",
        "INSERT INTO customers (id, email, name, timezone, owner_id, created_at)"
        " SELECT g, 'customer' || g || '@bench.example', 'Customer ' || g, 'Europe/Madrid',"
        " CASE WHEN g %% 3 = 0 THEN"
        " (%(owners)s::int[])[1 + (g / 3) %% cardinality(%(owners)s::int[])] END,"
        " %(start)s::timestamptz - interval '30 days' + %(span)s::interval * random() / 2"
        " FROM generate_series(1, %(C)s::bigint) g",
        **p,
    )
    run(
        conn,
        "purchases",
        f"INSERT INTO purchases (id, order_id, customer_id, purchased_at, total, currency, source,"
        f" created_at) SELECT g, 'B-' || g, {customer_of}, {at} - interval '7 days',"
        f" round((10 + random() * 300)::numeric, 2), 'EUR', 'api', {at} - interval '7 days'"
        f" FROM generate_series(1, %(S)s::bigint) g",
        **p,
    )
    run(
        conn,
        "purchase items",
        "INSERT INTO purchase_items (purchase_id, sku, name, category, quantity, unit_price)"
        " SELECT g, 'SKU-' || (g %% 500), 'Item ' || (g %% 500),"
        " (%(cats)s::text[])[1 + (g * 31) %% 6], 1, 20 FROM generate_series(1, %(S)s::bigint) g",
        **p,
    )
    run(
        conn,
        "surveys",
        f"INSERT INTO surveys (id, kind, status, customer_id, purchase_id, question_set_id,"
        f" version_id, send_at, sent_at, expires_at, answered_at, delivered_at, opened_at,"
        f" clicked_at, created_at)"
        f" SELECT g, 'purchase', CASE WHEN g %% 6 = 0 THEN 'sent' ELSE 'answered' END,"
        f" {customer_of}, g, %(set)s, %(version)s, {at}, {at}, {at} + interval '30 days',"
        f" CASE WHEN g %% 6 <> 0 THEN {at} + interval '1 hour' * (1 + g %% 40) END,"
        f" {at} + interval '1 minute',"
        f" CASE WHEN g %% 6 <> 0 OR g %% 5 < 2 THEN {at} + interval '30 minutes' END,"
        f" CASE WHEN g %% 6 <> 0 THEN {at} + interval '40 minutes' END,"
        f" {at} - interval '7 days' FROM generate_series(1, %(S)s::bigint) g",
        **p,
    )
    # One row a response with what it says: one in twenty is unhappy (50,000 cases at a
    # million), and one in ten of those is the big owner's.
    run(
        conn,
        "plan of the answers",
        "CREATE UNLOGGED TABLE seed_responses AS SELECT s.id AS survey_id, s.customer_id,"
        " s.answered_at AS at, row_number() OVER (ORDER BY s.id) AS id FROM surveys s"
        " WHERE s.status = 'answered'",
    )
    conn.execute(
        "ALTER TABLE seed_responses ADD COLUMN unhappy boolean, ADD COLUMN r float8,"
        " ADD COLUMN q float8, ADD COLUMN w float8"
    )
    run(
        conn,
        "  (dice)",
        "UPDATE seed_responses SET unhappy = id %% 20 = 0, r = random(), q = random(),"
        " w = random()",
    )
    run(
        conn,
        "responses",
        "INSERT INTO responses (id, survey_id, version_id, customer_id, negative, submitted_at)"
        " SELECT id, survey_id, %(version)s, customer_id, unhappy, at FROM seed_responses",
        **p,
    )
    praise, complaints = STATE["texts"][False], STATE["texts"][True]
    answers = (
        # The 0-10 score: unhappy 0-6; else 9-10 (70%) or 7-8.
        "SELECT id, %(recommend)s, 3, (CASE WHEN unhappy THEN floor(r * 7)::int"
        " WHEN r < 0.7 THEN 9 + floor(r * 100)::int %% 2 ELSE 7 + floor(r * 100)::int %% 2"
        " END)::text, unhappy, NULL::float8, NULL::json FROM seed_responses"
        # Expectations (nine in ten answer): unhappy mostly short.
        " UNION ALL SELECT id, %(expectations)s, 0, CASE WHEN unhappy AND q < 0.8 THEN 'short'"
        " WHEN unhappy OR q < 0.5 THEN 'meeting' ELSE 'exceeding' END,"
        " unhappy AND q < 0.8, NULL, NULL FROM seed_responses WHERE q < 0.9 OR unhappy"
        # Time and money (most answer).
        " UNION ALL SELECT id, %(time_money)s, 2, CASE WHEN unhappy AND q < 0.5 THEN 'no'"
        " WHEN unhappy OR q > 0.75 THEN 'somewhat' ELSE 'yes' END, unhappy AND q < 0.5, NULL,"
        " NULL FROM seed_responses WHERE q < 0.85 OR unhappy"
        # The one thing we could do better: four in ten, nine in ten when unhappy.
        " UNION ALL SELECT r.id, %(one_thing)s, 1, t.body, t.negative, t.sentiment,"
        " t.negative_words FROM seed_responses r JOIN seed_texts t ON t.complaint = r.unhappy"
        " AND t.n = floor(r.w * 1000000)::int %% (CASE WHEN r.unhappy THEN %(complaints)s"
        " ELSE %(praise)s END) WHERE (r.unhappy AND r.w < 0.9) OR r.w < 0.4"
    )
    q = STATE["questions"]
    run(
        conn,
        "answers",
        "INSERT INTO answers (response_id, question_id, position, value, negative, sentiment,"
        f" negative_words) {answers}",
        recommend=q["recommend"],
        expectations=q["expectations"],
        time_money=q["time_money"],
        one_thing=q["one_thing"],
        praise=praise,
        complaints=complaints,
    )
    seed_cases(conn, p)
    seed_touches(conn, p)
    seed_mail(conn, p)
    for table in (
        "customers",
        "purchases",
        "purchase_items",
        "surveys",
        "responses",
        "answers",
        "cases",
        "case_events",
        "touchpoints",
        "outbox_messages",
        "email_events",
    ):
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" (SELECT coalesce(max(id), 1) FROM {table}))"
        )
    conn.commit()


def seed_cases(conn, p: dict) -> None:
    """A case for every unhappy response. The big owner has one in ten; their recent ones and a
    quarter of their older ones are still open. Everyone else's older cases are closed."""
    run(
        conn,
        "cases",
        "INSERT INTO cases (id, status, response_id, customer_id, purchase_id, owner_id,"
        " routed_by, acknowledge_by, resolve_by, acknowledged_at, resolved_at, closed_at,"
        " closed_reason, resolution, acknowledge_escalated_at, reassign_count, created_at)"
        " SELECT row_number() OVER (ORDER BY r.id), x.status, r.id, r.customer_id, r.survey_id,"
        " x.owner, 'default owner', r.at + interval '4 hours', r.at + interval '48 hours',"
        " CASE WHEN x.status <> 'open' THEN r.at + interval '1 hour' * (1 + r.q * 8) END,"
        " CASE WHEN x.status IN ('resolved', 'closed') THEN r.at + interval '1 hour'"
        " * (10 + r.q * 70) END,"
        " CASE WHEN x.status = 'closed' THEN r.at + interval '1 hour' * (80 + r.q * 70) END,"
        " CASE WHEN x.status = 'closed' THEN 'fix_confirmed' END,"
        " CASE WHEN x.status IN ('resolved', 'closed') THEN 'Replaced it and refunded the"
        " postage.' END, CASE WHEN r.q > 0.92 THEN r.at + interval '5 hours' END, 0, r.at"
        " FROM seed_responses r CROSS JOIN LATERAL (SELECT"
        "   CASE WHEN r.id %% 200 = 0 THEN %(big)s"
        "        ELSE (%(owners)s::int[])[2 + r.id %% (cardinality(%(owners)s::int[]) - 1)]"
        "   END AS owner,"
        "   CASE WHEN r.at > %(now)s::timestamptz - interval '10 days' THEN"
        "          (ARRAY['open', 'acknowledged', 'resolved'])[1 + floor(r.q * 3)::int]"
        "        WHEN r.id %% 200 = 0 AND r.w < 0.25 THEN"
        "          (ARRAY['open', 'acknowledged'])[1 + floor(r.q * 2)::int]"
        "        ELSE 'closed' END AS status) x"
        " WHERE r.unhappy",
        **p,
    )
    run(
        conn,
        "case events",
        "INSERT INTO case_events (case_id, kind, actor_user_id, body, created_at)"
        " SELECT id, 'opened', NULL::int, NULL::text, created_at FROM cases"
        " UNION ALL SELECT id, 'owner_notified', NULL, NULL, created_at FROM cases"
        " UNION ALL SELECT id, 'personal_reply', owner_id, 'Sorry about this; here is what I"
        " will do.', acknowledged_at FROM cases WHERE acknowledged_at IS NOT NULL"
        " UNION ALL SELECT id, 'resolution', owner_id, resolution, resolved_at FROM cases"
        " WHERE resolved_at IS NOT NULL"
        " UNION ALL SELECT id, 'fix_confirmed', NULL, NULL, closed_at FROM cases"
        " WHERE closed_at IS NOT NULL"
        " UNION ALL SELECT id, 'escalation', NULL, NULL, acknowledge_escalated_at FROM cases"
        " WHERE acknowledge_escalated_at IS NOT NULL"
        " UNION ALL SELECT id, 'reopened', NULL, NULL, resolved_at + interval '3 days' FROM"
        " cases WHERE closed_at IS NOT NULL AND id %% 17 = 0",
    )


def seed_touches(conn, p: dict) -> None:
    """Two million touch points: a thank-you (or a bad answer) for every response, the cases'
    replies and resolutions, and contacts elsewhere; then each customer's tally, as the app
    keeps it."""
    run(
        conn,
        "touch points",
        "INSERT INTO touchpoints (customer_id, kind, polarity, note, occurred_at, case_id,"
        " survey_id, created_at)"
        " SELECT customer_id, CASE WHEN unhappy THEN 'negative_answer' ELSE 'thank_you' END,"
        " CASE WHEN unhappy THEN 'negative' ELSE 'positive' END, NULL::text, at, NULL::int,"
        " survey_id, at"
        " FROM seed_responses"
        " UNION ALL SELECT customer_id, 'personal_reply', 'positive', NULL, acknowledged_at, id,"
        " NULL, acknowledged_at FROM cases WHERE acknowledged_at IS NOT NULL"
        " UNION ALL SELECT customer_id, 'resolution', 'positive', NULL, resolved_at, id, NULL,"
        " resolved_at FROM cases WHERE resolved_at IS NOT NULL"
        " UNION ALL SELECT c.customer_id, CASE WHEN g %% 9 = 0 THEN 'late_delivery' ELSE"
        " 'phone_call' END, CASE WHEN g %% 9 = 0 THEN 'negative' ELSE 'positive' END,"
        " 'Called about the order', c.created_at + interval '2 days', NULL, NULL,"
        " c.created_at + interval '2 days'"
        " FROM cases c CROSS JOIN generate_series(1, 2) g"
        " UNION ALL SELECT 2 + (g * 104729) %% (%(C)s - 1),"
        " CASE WHEN g %% 7 = 0 THEN 'complaint_call' ELSE 'birthday_card' END,"
        " CASE WHEN g %% 7 = 0 THEN 'negative' ELSE 'positive' END, NULL,"
        " %(start)s::timestamptz + %(span)s::interval * random(), NULL, NULL, %(now)s"
        " FROM generate_series(1, greatest(0, 2 * %(S)s * 5 / 6 - (SELECT count(*) FROM"
        " seed_responses) - 3 * (SELECT count(*) FROM cases))) g",
        **p,
    )
    run(
        conn,
        "customers' touch tallies",
        "UPDATE customers c SET positive_touches = t.positive, negative_touches = t.negative,"
        " last_positive_touch_at = t.last_positive FROM (SELECT customer_id,"
        " count(*) FILTER (WHERE polarity = 'positive') AS positive,"
        " count(*) FILTER (WHERE polarity = 'negative') AS negative,"
        " max(occurred_at) FILTER (WHERE polarity = 'positive') AS last_positive"
        " FROM touchpoints GROUP BY customer_id) t WHERE t.customer_id = c.id",
    )


def seed_mail(conn, p: dict) -> None:
    """The outbox as the app leaves it (every survey's email and each case's note to its
    owner, sent), and SendGrid's events: delivered, opens, clicks, a few bounces and
    unsubscribes (those customers are suppressed)."""
    run(
        conn,
        "outbox",
        "INSERT INTO outbox_messages (channel, template, to_email, context, customer_id,"
        " survey_id, case_id, status, attempts, next_attempt_at, sent_at, created_at)"
        " SELECT 'email', 'survey', 'customer' || customer_id || '@bench.example',"
        " json_build_object('survey_id', id), customer_id, id, NULL, 'sent', 1, sent_at,"
        " sent_at, sent_at FROM surveys"
        " UNION ALL SELECT 'email', 'owner_new_case', 'owner@bench.example',"
        " json_build_object('case_id', id), customer_id, NULL, id, 'sent', 1, created_at,"
        " created_at, created_at FROM cases",
    )
    run(
        conn,
        "email events",
        "INSERT INTO email_events (sg_event_id, event, email, survey_id, occurred_at, payload,"
        " created_at)"
        " SELECT 'd' || s.id, 'delivered', NULL, s.id, s.delivered_at, '{}'::json,"
        " s.delivered_at FROM surveys s"
        " UNION ALL SELECT 'o' || s.id, 'open', NULL, s.id, s.opened_at, '{}', s.opened_at"
        " FROM surveys s WHERE s.opened_at IS NOT NULL"
        " UNION ALL SELECT 'c' || s.id, 'click', NULL, s.id, s.clicked_at, '{}', s.clicked_at"
        " FROM surveys s WHERE s.clicked_at IS NOT NULL"
        " UNION ALL SELECT 'b' || s.id, 'bounce', NULL, s.id, s.delivered_at, '{}',"
        " s.delivered_at FROM surveys s WHERE s.status = 'sent' AND s.id %% 97 = 0"
        " UNION ALL SELECT 'u' || s.id, 'unsubscribe', NULL, s.id, s.sent_at + interval '1 day',"
        " '{}', s.sent_at + interval '1 day' FROM surveys s WHERE s.id %% 211 = 0",
    )
    run(
        conn,
        "suppressed customers",
        "UPDATE customers c SET suppressed_at = e.at, suppression_reason = e.event FROM"
        " (SELECT s.customer_id, max(e.occurred_at) AS at, max(e.event) AS event"
        " FROM email_events e JOIN surveys s ON s.id = e.survey_id"
        " WHERE e.event IN ('bounce', 'unsubscribe') GROUP BY s.customer_id) e"
        " WHERE e.customer_id = c.id",
    )


def derive(app, url: str, now: datetime) -> None:
    """What the app keeps beside the rows, through its own functions: the written answers'
    themes and the day rollups."""
    from sqlalchemy import func, select

    from surveys.models import AnswerTheme
    from surveys.services.insights.rollups import refresh_rollups
    from surveys.services.insights.themes import record_all_themes

    with app.app_context():
        session = db.session()
        if not session.scalar(select(func.count()).select_from(AnswerTheme)):
            # Migration 0013 read the answers there were then: none, in a fresh database.
            started = time.perf_counter()
            count = record_all_themes(session)
            session.commit()
            print(
                f"  {'themes of written answers':<40}{count:>11,} rows"
                f"  {time.perf_counter() - started:6.1f} s",
                flush=True,
            )
        started = time.perf_counter()
        refresh_rollups(session, now=now, full=True)
        session.commit()
        print(
            f"  {'day rollups (the worker refresh)':<40}{'':>16}"
            f"  {time.perf_counter() - started:6.1f} s",
            flush=True,
        )


def vacuum(url: str) -> None:
    """Fresh statistics and visibility maps, as autovacuum would have them on a live database."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("DROP TABLE IF EXISTS seed_texts, seed_responses")
        conn.execute("VACUUM ANALYZE")
        print(f"  {'VACUUM ANALYZE':<56}  {time.perf_counter() - started:6.1f} s", flush=True)


# --- timing ------------------------------------------------------------------------------------


def median_ms(action, runs: int) -> tuple[float, object]:
    result = action()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def floor_ms(url: str, runs: int) -> float:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return median_ms(lambda: conn.execute("SELECT count(*) FROM responses").fetchone(), runs)[0]


def find_targets(url: str, seed: Seed) -> None:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        seed.longest_customer_id = conn.execute(
            "SELECT customer_id FROM touchpoints GROUP BY customer_id ORDER BY count(*) DESC"
            " LIMIT 1"
        ).fetchone()[0]
        at, rid = conn.execute(
            "SELECT submitted_at, id FROM responses ORDER BY submitted_at, id"
            " OFFSET (SELECT count(*) / 2 FROM responses) LIMIT 1"
        ).fetchone()
    from surveys.api.inputs import encode_cursor

    seed.deep_cursor = encode_cursor(at, rid)


def log_in(client, user_id: int, app) -> None:
    from surveys.models import User

    with app.app_context():
        user = db.session().get(User, user_id)
        identity = user.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = identity
        session["_fresh"] = True


def pages(seed: Seed) -> list[tuple[str, str, str, float | None, int | None]]:
    """(label, who, path, target ms, most bytes)."""
    return [
        ("dashboard, last 90 days", "admin", "/admin/dashboard", 150, None),
        ("dashboard, all time", "admin", "/admin/dashboard?from=2000-01-01", 300, None),
        ("comment feed, first page", "admin", "/admin/responses", 150, None),
        ("inbox of the owner with 5,000 cases", "owner", "/inbox", 100, 50 * KB),
        ("neglected customers", "admin", "/admin/neglected", 300, None),
        (
            "customer with the longest history",
            "admin",
            f"/customers/{seed.longest_customer_id}",
            100,
            100 * KB,
        ),
        ("API responses, page 1", "api", "/api/v1/responses", 50, None),
        (
            "API responses, at row 500,000",
            "api",
            f"/api/v1/responses?cursor={seed.deep_cursor}",
            50,
            None,
        ),
        ("the owner's own dashboard", "owner", "/dashboard", None, None),
        ("the owner's own dashboard, all time", "owner", "/dashboard?from=2000-01-01", None, None),
    ]


def time_pages(app, seed: Seed, runs: int) -> list[tuple]:
    clients = {"admin": app.test_client(), "owner": app.test_client(), "api": app.test_client()}
    log_in(clients["admin"], seed.admin_id, app)
    log_in(clients["owner"], seed.big_owner_id, app)
    headers = {"api": {"Authorization": f"Bearer {seed.api_key}"}}
    results = []
    for label, who, path, target, most_bytes in pages(seed):
        client = clients[who]

        def fetch(client=client, path=path, who=who):
            return client.get(path, headers=headers.get(who, {}))

        ms, response = median_ms(fetch, runs)
        results.append(
            (label, path, ms, target, len(response.data), most_bytes, response.status_code)
        )
        print(
            f"  {label:<40}{ms:8.1f} ms  {len(response.data) / KB:7.1f} KB"
            f"  ({response.status_code})",
            flush=True,
        )
    return results


def report(results: list[tuple], floor: float) -> bool:
    print()
    print(f"{'page':<40}{'median':>10}{'floor':>9}{'target':>10}{'size':>10}{'at most':>9}  met")
    all_met = True
    for label, _path, ms, target, size, most, status in results:
        met = status == 200 and (target is None or ms < target) and (most is None or size <= most)
        all_met &= met
        print(
            f"{label:<40}{ms:>7.1f} ms{floor:>6.1f} ms"
            f"{(f'< {target} ms' if target else '–'):>10}{size / KB:>7.1f} KB"
            f"{(f'{most // KB} KB' if most else '–'):>9}  "
            f"{('yes' if met else 'NO') if target or most else ''}"
        )
    return all_met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="time the kept database again, without seeding"
    )
    args = parser.parse_args()

    print(f"machine: {machine()}", flush=True)
    now = datetime.now(UTC).replace(microsecond=0)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / NAME
    if args.reuse:
        base = SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        url = f"{base}/{NAME}"
    else:
        url = create_database(NAME)
    try:
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "bench", "THEMES_CACHE_SECONDS": 0},
            instance_path=str(workdir / "instance"),
        )
        if args.reuse:
            with app.app_context():
                upgrade_database()  # a newer schema's migrations fill what they add
            derive(app, url, now)
            vacuum(url)
            seed = reused_seed(app, url)
        else:
            with app.app_context():
                upgrade_database()
            seed = create_people(app, now)
            print(f"seeding {args.responses:,} responses…", flush=True)
            started = time.perf_counter()
            with psycopg.connect(url.replace("+psycopg", "")) as conn:
                seed_plan(conn, app, seed, responses=args.responses, now=now)
            derive(app, url, now)
            vacuum(url)
            print(f"  seeded in {(time.perf_counter() - started) / 60:.1f} minutes", flush=True)
        find_targets(url, seed)
        print_counts(url)
        floor = floor_ms(url, args.runs)
        print(f"floor, SELECT count(*) FROM responses: {floor:.1f} ms", flush=True)
        print(f"timing each page (median of {args.runs} after one warm-up)…", flush=True)
        results = time_pages(app, seed, args.runs)
        app.extensions["db"]["engine"].dispose()
    finally:
        if not (args.keep or args.reuse):
            drop_database(NAME)
    if not report(results, floor):
        raise SystemExit(1)


def seed_plan(conn, app, seed: Seed, *, responses: int, now: datetime) -> None:
    # The question ids are needed to read the written answers by their question's rule.
    STATE["questions"] = dict(
        conn.execute(
            "SELECT q.key, q.id FROM questions q WHERE q.version_id = (SELECT v.id FROM"
            " question_set_versions v JOIN question_sets s ON s.id = v.question_set_id"
            " WHERE s.key = 'heart-to-heart' ORDER BY v.number DESC LIMIT 1)"
        )
    )
    load_texts(conn, app)
    conn.commit()
    seed_rows(conn, seed, responses=responses, now=now)


def reused_seed(app, url: str) -> Seed:
    from surveys.services.users.api_keys import create_api_key

    seed = Seed()
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        seed.admin_id = conn.execute("SELECT id FROM users WHERE role = 'admin'").fetchone()[0]
        seed.big_owner_id = conn.execute(
            "SELECT owner_id FROM cases GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    with app.app_context():
        _key, seed.api_key = create_api_key(
            db.session(), "bench again", scope="read", now=datetime.now(UTC)
        )
        db.session().commit()
    return seed


def print_counts(url: str) -> None:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "responses",
                "answers",
                "customers",
                "cases",
                "touchpoints",
                "outbox_messages",
                "email_events",
            )
        }
    print("rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))


if __name__ == "__main__":
    main()
