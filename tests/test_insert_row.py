"""`insert_row`: the one-statement insert the purchase path uses instead of the unit of work."""

from contextlib import contextmanager

from sqlalchemy import event, inspect, select

from surveys.db import insert_row, utcnow
from surveys.models import Customer


@contextmanager
def counting_statements(session):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(bind, "before_cursor_execute", count)


def test_the_row_comes_back_as_a_persistent_object_readable_without_a_query(session):
    now = utcnow()
    customer = insert_row(
        session, Customer, {"email": "ana@example.com", "name": "Ana Diaz", "created_at": now}
    )
    with counting_statements(session) as statements:
        assert inspect(customer).persistent
        assert (customer.email, customer.name) == ("ana@example.com", "Ana Diaz")
        assert customer.created_at == now
        assert customer.owner_id is None and customer.suppressed_at is None

    assert statements == []


def test_changes_to_the_returned_object_are_saved_like_any_other(session):
    customer = insert_row(session, Customer, {"email": "ben@example.com", "created_at": utcnow()})

    customer.name = "Ben Okafor"
    session.commit()
    session.expire_all()

    assert session.scalar(select(Customer.name).where(Customer.id == customer.id)) == "Ben Okafor"


def test_unless_exists_inserts_nothing_when_the_value_is_taken(session):
    first = insert_row(
        session,
        Customer,
        {"email": "cleo@example.com", "created_at": utcnow()},
        unless_exists="email",
    )
    second = insert_row(
        session,
        Customer,
        {"email": "cleo@example.com", "name": "Someone else", "created_at": utcnow()},
        unless_exists="email",
    )

    assert first is not None and second is None
    names = session.scalars(select(Customer.name).where(Customer.email == "cleo@example.com")).all()
    assert names == [None]
