"""Whom each owner's tallies were counted for, and how that differs from now.

An owner's figures are their customers' answers, surveys and touch points (scope.owner_customers:
their account customers and their cases' customers) and their own cases. Both sets change with
every hand-over and with each new case, and a customer who joins an owner brings all their
history along. So the worker keeps, beside each owner's day tallies, the customers and cases it
counted them for (`insight_owner_customers`, `insight_owner_cases`), and a page adds what
joined since and takes away what left, read from the rows of just those few customers and
cases. The figures are then exact whatever changed since the count; the worker's next pass
counts the changed owners' days again and the difference is empty once more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, insert, literal, select, union, union_all
from sqlalchemy.orm import Session

from surveys.models import Case, Customer, InsightOwnerCase, InsightOwnerCustomer
from surveys.services.insights.scope import owner_customers


@dataclass(frozen=True)
class ScopeChanges:
    """An owner's customers and cases now, against those their tallies were counted for."""

    joined_customers: tuple[int, ...] = ()
    left_customers: tuple[int, ...] = ()
    joined_cases: tuple[int, ...] = ()
    left_cases: tuple[int, ...] = ()

    def parts(self) -> list[tuple[int, tuple[int, ...], tuple[int, ...]]]:
        """(sign, customer ids, case ids): what to add (+1) and to take away (-1)."""
        found = []
        if self.joined_customers or self.joined_cases:
            found.append((1, self.joined_customers, self.joined_cases))
        if self.left_customers or self.left_cases:
            found.append((-1, self.left_customers, self.left_cases))
        return found


def scope_changes(session: Session, owner_id: int) -> ScopeChanges:
    """What changed in the owner's customers and cases since their tallies were counted: one
    statement (each side read by its index), once per session."""
    cache = session.info.setdefault("owner_scope_changes", {})
    if owner_id in cache:
        return cache[owner_id]
    customers_now = owner_customers(owner_id)
    customers_counted = select(InsightOwnerCustomer.customer_id).where(
        InsightOwnerCustomer.owner_id == owner_id
    )
    cases_now = select(Case.id).where(Case.owner_id == owner_id)
    cases_counted = select(InsightOwnerCase.case_id).where(InsightOwnerCase.owner_id == owner_id)

    def tagged(tag: str, difference):
        rows = difference.subquery()
        return select(literal(tag).label("tag"), rows.c[0].label("id"))

    differences = union_all(
        tagged("+customer", select(customers_now.subquery()).except_(customers_counted)),
        tagged("-customer", customers_counted.except_(select(customers_now.subquery()))),
        tagged("+case", cases_now.except_(cases_counted)),
        tagged("-case", cases_counted.except_(cases_now)),
    )
    found: dict[str, list[int]] = {"+customer": [], "-customer": [], "+case": [], "-case": []}
    for tag, row_id in session.execute(differences):
        found[tag].append(row_id)
    changes = ScopeChanges(*(tuple(sorted(found[tag])) for tag in found))
    cache[owner_id] = changes
    return changes


def forget_scope_changes(session: Session) -> None:
    session.info.pop("owner_scope_changes", None)


def _members_now():
    """(owner_id, customer_id) of every owner, by scope.owner_customers' rule."""
    return union(
        select(Customer.owner_id.label("owner_id"), Customer.id.label("customer_id")).where(
            Customer.owner_id.is_not(None)
        ),
        select(Case.owner_id, Case.customer_id).where(Case.owner_id.is_not(None)),
    ).subquery("members_now")


def bring_up_to_date(session: Session, *, recounted_from: datetime) -> set[int]:
    """Make the counted customers and cases those of now; returns the owners whose days before
    `recounted_from` must be counted again (the days from it are counted for everyone anyway):
    those whose customers changed, and those whose cases changed other than by a case opened
    since `recounted_from`."""
    forget_scope_changes(session)
    now = _members_now()
    counted = InsightOwnerCustomer
    joined = session.execute(
        select(now.c.owner_id, now.c.customer_id).except_(
            select(counted.owner_id, counted.customer_id)
        )
    ).all()
    left = session.execute(
        select(counted.owner_id, counted.customer_id).except_(
            select(now.c.owner_id, now.c.customer_id)
        )
    ).all()
    changed = {owner for owner, _customer in joined} | {owner for owner, _customer in left}
    if left:
        still_account = exists().where(
            Customer.id == counted.customer_id, Customer.owner_id == counted.owner_id
        )
        still_case = exists().where(
            Case.customer_id == counted.customer_id, Case.owner_id == counted.owner_id
        )
        session.execute(delete(counted).where(~still_account, ~still_case))
    if joined:
        session.execute(insert(counted), [{"owner_id": o, "customer_id": c} for o, c in joined])

    kept = exists().where(
        InsightOwnerCase.case_id == Case.id, InsightOwnerCase.owner_id == Case.owner_id
    )
    new_cases = session.execute(
        select(Case.id, Case.owner_id, Case.created_at).where(Case.owner_id.is_not(None), ~kept)
    ).all()
    same_owner = exists().where(
        Case.id == InsightOwnerCase.case_id, Case.owner_id == InsightOwnerCase.owner_id
    )
    gone = session.execute(
        select(InsightOwnerCase.case_id, InsightOwnerCase.owner_id).where(~same_owner)
    ).all()
    changed |= {owner for _case, owner in gone}
    changed |= {owner for _case, owner, opened in new_cases if opened < recounted_from}
    if gone:
        session.execute(delete(InsightOwnerCase).where(~same_owner))
    if new_cases:
        session.execute(
            insert(InsightOwnerCase),
            [{"case_id": case_id, "owner_id": owner} for case_id, owner, _opened in new_cases],
        )
    return changed
