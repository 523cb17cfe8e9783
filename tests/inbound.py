"""What the tests of the machine doors share: row counts, signed deliveries, hostile values.

The doors are the Delighted-compatible endpoints and the webhooks in (Shopify,
Stripe, SendGrid). A request they refuse must change nothing, so their tests
compare the rows of every table those doors write to before and after.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from surveys.models import Customer, EmailEvent, OutboxMessage, Purchase, ReceivedWebhook, Survey
from tests.factories import make_api_key
from tests.test_delighted import basic
from tests.test_sendgrid_events import SendGridSigner
from tests.test_webhooks_shopify import SECRET as SHOPIFY_SECRET
from tests.test_webhooks_shopify import delivery as shopify_delivery
from tests.test_webhooks_stripe import SECRET as STRIPE_SECRET
from tests.test_webhooks_stripe import signed as stripe_signed

TABLES = (Customer, Purchase, Survey, OutboxMessage, ReceivedWebhook, EmailEvent)
NOTHING = dict.fromkeys((model.__name__ for model in TABLES), 0)
LONE_SURROGATE = "\ud800"
NUL = "\x00"

__all__ = ["shopify_delivery", "stripe_signed"]


def row_counts(session) -> dict[str, int]:
    """Rows in every table a door writes to, by model name."""
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) for model in TABLES
    }


def raw_json(payload) -> bytes:
    """JSON as a client writes it: a lone surrogate goes out as the escape `\\ud800`."""
    return json.dumps(payload).encode()


def nested_json(depth: int) -> str:
    """An object nested `depth` levels deep, written out by hand (json.dumps would recurse)."""
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.fixture
def auth(session) -> dict[str, str]:
    """Basic auth with a fresh API key, as Delighted's clients send it."""
    _key, raw = make_api_key(session, "delighted migration")
    session.commit()
    return basic(raw)


@pytest.fixture
def doors(app, clock) -> SendGridSigner:
    """Shopify, Stripe and SendGrid configured; returns the SendGrid signer."""
    signer = SendGridSigner()
    app.config.update(
        SHOPIFY_WEBHOOK_SECRET=SHOPIFY_SECRET,
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
        SENDGRID_WEBHOOK_PUBLIC_KEY=signer.public_key,
    )
    return signer


def assert_refused_in_delighted_shape(response, status: int = 422, field: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == status
    if field is not None:
        assert field in body["errors"], body


def assert_refused_as_problem(response, status: int = 422, field: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    if field is not None:
        assert field in response.get_json()["errors"], response.get_json()


# --- hostile values for the hypothesis tests ------------------------------------------------

# Bounded so that `make test` stays fast; derandomized so that CI sees the same examples.
HOSTILE = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What has broken a door before, or nearly: drawn often, not left to chance.
SPECIAL_TEXT = [
    "",
    " ",
    NUL,
    LONE_SURROGATE,
    "Ana\r\nDiaz",
    "\x1b[2J",
    "x" * 301,
    "ana@example.com",
    "ANA@example.com ",
    "ñandú@example.com",
    "ana@bücher.de",
    "ana@example",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-11-23T03:54:10-05:00",
    "253402300799",
    "-5",
    "1e309",
    "NaN",
    "9" * 40,
    "1" * 5000,
    "EUR",
    "€",
    "true",
    "person",
]
SPECIAL_NUMBERS = [0, -1, -5, 1, 2**31, 2**63, -(2**63), 10**200, 253402300799, -62135596800]
DELETE = object()


@dataclass(frozen=True)
class Poison:
    """A character slipped into whatever text the field held (or put there alone)."""

    character: str
    at: float


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _texts(*, sendable: bool):
    characters = st.characters(exclude_categories=("Cs",) if sendable else ())
    specials = [text for text in SPECIAL_TEXT if _encodable(text) or not sendable]
    return st.one_of(st.sampled_from(specials), st.text(characters, max_size=12))


def _poisons(*, sendable: bool):
    characters = [NUL, "\r\n", "\x1b", "\u2028"] + ([] if sendable else [LONE_SURROGATE])
    return st.builds(Poison, st.sampled_from(characters), st.floats(0, 1))


any_text = _texts(sendable=False)
# Form fields and query strings travel as UTF-8: no lone surrogate survives the trip.
sendable_text = st.one_of(
    _texts(sendable=True),
    st.builds(
        lambda text, poison: _poisoned(text, poison), _texts(sendable=True), _poisons(sendable=True)
    ),
)
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from(SPECIAL_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
)
any_json = st.one_of(
    st.recursive(
        json_leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3), st.dictionaries(any_text, children, max_size=3)
        ),
        max_leaves=8,
    ),
    st.sampled_from([json.loads(nested_json(40))]),
)


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, each drawn in proportion to its weight (one_of draws evenly)."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


# What a field of a JSON document is changed to; poison, the likeliest to break it, most often.
json_changes = weighted(
    (2, _poisons(sendable=False)),
    (1, any_text),
    (1, st.sampled_from(SPECIAL_NUMBERS)),
    (1, any_json),
    (1, st.just(DELETE)),
)
# The same for form fields and query strings, where every value is text.
text_changes = weighted(
    (2, _poisons(sendable=True)),
    (1, sendable_text),
    (2, st.sampled_from(SPECIAL_NUMBERS).map(str)),
    (1, st.integers().map(str)),
    (1, st.just(DELETE)),
)


def with_changes(base: dict, paths: list[tuple], changes=json_changes):
    """The base document with a few of its fields changed by hostile values, or removed."""

    def apply(chosen: list[tuple[tuple, object]]) -> dict:
        document = copy.deepcopy(base)
        for path, value in chosen:
            parent: object = document
            for key in path[:-1]:
                parent = _child(parent, key)
            key = path[-1]
            if isinstance(value, Poison):
                value = _poisoned(_child(parent, key), value)
            if value is not DELETE:
                value = copy.deepcopy(value)  # drawn twice, a value must not end up inside itself
            if isinstance(parent, dict) and value is DELETE:
                parent.pop(key, None)
            elif isinstance(parent, dict):
                parent[key] = value
            elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
                parent[key] = None if value is DELETE else value
        return document

    change = st.tuples(st.sampled_from(paths), changes)
    # One change alone most often: another bad field would have the request refused earlier.
    return weighted(
        (2, st.lists(change, min_size=1, max_size=1)), (1, st.lists(change, max_size=4))
    ).map(apply)


def _child(parent: object, key: object) -> object:
    if isinstance(parent, dict):
        return parent.get(key)
    if isinstance(parent, list) and isinstance(key, int) and key < len(parent):
        return parent[key]
    return None


def _poisoned(original: object, poison: Poison) -> str:
    if not isinstance(original, str):
        return poison.character
    at = round(poison.at * len(original))
    return original[:at] + poison.character + original[at:]


def json_body(document: object) -> bytes:
    """JSON as a careless client writes it: NaN and Infinity go out as bare words."""
    return json.dumps(document, allow_nan=True).encode()
