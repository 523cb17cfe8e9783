"""`flask demo`: a small shop's first week, so a new install has something to show.

It goes through the real paths: purchases are recorded as the API records
them, the worker delivers the surveys (to `instance/outbox/` without
SendGrid), and two customers answer, one of them unhappy, which opens a case
for an owner; the owner replies, and the customer's email back lands on the case.
Running it again changes nothing and prints the logins again.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage

import click
from flask import Flask, current_app
from sqlalchemy import select

from surveys import clock
from surveys.db import db
from surveys.external_urls import external_url
from surveys.mail.inbound import read_mime
from surveys.mail.senders import sender_for
from surveys.models import Case, Customer, Survey, User
from surveys.outbox.worker import Worker
from surveys.services.cases.actions import reply_to_customer
from surveys.services.cases.inbound import receive_case_email
from surveys.services.purchases import CustomerInput, ItemInput, PurchaseInput, record_purchase
from surveys.services.routing.rules import add_rule, set_default_owner
from surveys.services.surveys.responses import submit_response
from surveys.services.users.accounts import create_user
from surveys.services.users.api_keys import create_api_key

ADMIN = ("alex@shop.example", "Alex Morgan", "admin", "demo-admin-2026")
OWNERS = [
    ("olivia@shop.example", "Olivia Bennett", "owner", "demo-olivia-2026"),
    ("omar@shop.example", "Omar Haddad", "owner", "demo-omar-2026"),
]

PURCHASES = [
    # (order id, email, name, time zone, days ago, items)
    (
        "DEMO-1001",
        "ana.diaz@example.com",
        "Ana Diaz",
        "Europe/Madrid",
        2,
        [("KB-1", "Mechanical keyboard", "hardware", 1, "129.90")],
    ),
    (
        "DEMO-1002",
        "ben.okafor@example.com",
        "Ben Okafor",
        "Europe/London",
        1,
        [("DESK-2", "Standing desk", "furniture", 1, "489.00")],
    ),
    (
        "DEMO-1003",
        "chloe.martin@example.com",
        "Chloé Martin",
        "Europe/Paris",
        1,
        [
            ("MON-27", "27-inch monitor", "hardware", 1, "299.00"),
            ("CBL-1", "USB-C cable", "accessories", 2, "12.50"),
        ],
    ),
    (
        "DEMO-1004",
        "dev.patel@example.com",
        "Dev Patel",
        "America/New_York",
        0,
        [("CHAIR-1", "Ergonomic chair", "furniture", 1, "349.00")],
    ),
]

ANSWERS = {
    "ana.diaz@example.com": {
        "expectations": "exceeding",
        "time_money": "yes",
        "recommend": "10",
        "one_thing": "Nothing really. Maybe offer gift wrapping?",
        "preferences": "I prefer email to phone calls, and I'm usually free after 6pm.",
    },
    "ben.okafor@example.com": {
        "expectations": "short",
        "time_money": "no",
        "recommend": "3",
        "one_thing": "The desk arrived with a scratched top and one leg is missing its screws.",
        "preferences": "My daughter graduates in June, so I'm setting up her study room.",
    },
}


def seed_demo(now) -> dict:
    """Create the demo people, key and purchases; deliver the surveys; answer two of them."""
    session = db.session()
    admin = create_user(
        session, email=ADMIN[0], name=ADMIN[1], role=ADMIN[2], password=ADMIN[3], now=now
    )
    owners = [
        create_user(session, email=e, name=n, role=r, password=p, now=now) for e, n, r, p in OWNERS
    ]
    _key, raw_key = create_api_key(session, "demo shop", now=now, actor=admin)
    set_default_owner(session, owners[0], actor=admin, now=now)
    add_rule(session, field="category", value="furniture", owner=owners[1], actor=admin, now=now)
    for order_id, email, name, _timezone, days_ago, items in PURCHASES:
        record_purchase(
            session,
            PurchaseInput(
                order_id=order_id,
                # The time zone is set after delivery: at night it would hold the
                # survey until morning, and the demo answers two surveys at once.
                customer=CustomerInput(email=email, name=name),
                purchased_at=now - timedelta(days=days_ago, hours=3),
                total=sum((Decimal(price) * qty for _s, _n, _c, qty, price in items), Decimal(0)),
                currency="EUR",
                items=tuple(
                    ItemInput(
                        sku=sku,
                        name=item_name,
                        category=category,
                        quantity=qty,
                        unit_price=Decimal(price),
                    )
                    for sku, item_name, category, qty, price in items
                ),
            ),
            now=now,
            source="demo",
        )
    session.commit()

    # Deliver the surveys the way the worker does, so the answers below go to sent surveys.
    Worker(sender_for(current_app)).run_pass()

    session = db.session()
    session.expire_all()
    for _order_id, email, _name, timezone, _days_ago, _items in PURCHASES:
        session.scalars(select(Customer).where(Customer.email == email)).one().timezone = timezone
    for email, answers in ANSWERS.items():
        survey = session.scalar(
            select(Survey).join(Survey.customer).where(Survey.customer.has(email=email))
        )
        submit_response(session, survey, answers, now=clock.now())
    session.commit()
    _reply_and_hear_back(db.session(), now=clock.now())
    return {"api_key": raw_key}


def _reply_and_hear_back(session, *, now) -> None:
    """Omar answers Ben's case, and Ben's email back lands on it (as `flask mail receive`
    would put it there), quoted history and signature stripped."""
    ben = session.scalars(select(Customer).where(Customer.email == BEN_REPLY["From"])).one()
    case = session.scalars(select(Case).where(Case.customer_id == ben.id)).one()
    reply_to_customer(session, case, message=OMAR_REPLY, now=now, by_user=case.owner)
    email, _recipients = read_mime(demo_reply_mime(case))
    receive_case_email(session, email, case_id=case.id, audience="customer", now=now)
    session.commit()


OMAR_REPLY = (
    "Dear Ben,\n\nI am sorry the desk arrived scratched and without its screws. A new top and "
    "the screws leave our warehouse tomorrow morning. Could you tell me which leg it is?\n\nOmar"
)
BEN_REPLY = {
    "From": "ben.okafor@example.com",
    "Subject": "Re: Your standing desk",
    "Body": "Thank you, Omar! It is the front left leg. Tuesday afternoon suits me.\n\n"
    "Best regards,\nBen\n\n"
    "On Mon, Nov 23, 2026 at 10:00 AM Omar Haddad <omar@shop.example> wrote:\n"
    "> Dear Ben,\n> I am sorry the desk arrived scratched.\n",
}


def demo_reply_mime(case) -> bytes:
    """Ben's answer to Omar, as his mail program would send it."""
    message = EmailMessage()
    message["From"] = f"Ben Okafor <{BEN_REPLY['From']}>"
    message["To"] = f"case-{case.id}@reply.demo.invalid"
    message["Subject"] = BEN_REPLY["Subject"]
    message.set_content(BEN_REPLY["Body"])
    return message.as_bytes()


def register_commands(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command():
        """Seed the demo data (an admin, two owners, an API key, a few purchases)."""
        session = db.session()
        if session.scalar(select(User).where(User.email == ADMIN[0])) is not None:
            click.echo("The demo data is already there.")
            _print_logins(api_key=None)
            return
        click.echo("Seeding the demo data…")
        seeded = seed_demo(clock.now())
        click.echo(f"Delivered the demo surveys to {current_app.config['MAIL_OUTBOX_DIR']}/.")
        _print_logins(api_key=seeded["api_key"])


def _print_logins(api_key: str | None) -> None:
    click.echo("")
    click.echo(f"Log in at {external_url('inbox.login')} with:")
    for email, name, role, password in [ADMIN, *OWNERS]:
        click.echo(f"  {role:<6} {email:<22} password: {password}   ({name})")
    if api_key:
        click.echo(f"API key (shown once): {api_key}")
    else:
        click.echo(
            "API key: shown when the demo was first seeded; "
            "make another with `flask --app app api-keys create NAME`."
        )
