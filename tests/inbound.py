"""What the tests of the machine doors share: row counts, signed deliveries, hostile values.

The doors are the Delighted-compatible endpoints and the webhooks in (Shopify,
Stripe, SendGrid). A request they refuse must change nothing, so their tests
compare the rows of every table those doors write to before and after.
"""

from __future__ import annotations

import json

import pytest
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
