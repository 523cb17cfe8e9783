"""Choosing the one owner of a new case, and saying why in words an admin can check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Customer, Purchase, RoutingRule, User
from surveys.services.settings import get_setting


@dataclass(frozen=True)
class RoutingDecision:
    owner: User
    # Why this owner, e.g. "account owner" or "routing rule 2: category is hardware".
    reason: str
    rule: RoutingRule | None = None


class NoOwnerAvailable(LookupError):
    """Nobody can own a case: no account owner, rule or default owner, and no active admin."""


def choose_owner(
    session: Session, *, customer: Customer, purchase: Purchase | None
) -> RoutingDecision:
    """Pick the owner: account owner, else the first matching rule, else the default owner."""
    if customer.owner is not None and customer.owner.active:
        return RoutingDecision(customer.owner, "account owner")
    rules = session.scalars(
        select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)
    ).all()
    # Rules are named by their place in the list an admin sees, whatever the stored positions.
    for number, rule in enumerate(rules, start=1):
        if rule.owner.active and rule_matches(rule, customer=customer, purchase=purchase):
            return RoutingDecision(
                rule.owner, f"routing rule {number}: {describe_rule(rule)}", rule
            )
    return _default_owner(session)


def rule_matches(rule: RoutingRule, *, customer: Customer, purchase: Purchase | None) -> bool:
    """Whether one routing rule claims this customer's purchase."""
    if rule.field == "property":
        return _property_matches(rule.property_key, rule.value, purchase)
    matcher = _MATCHERS.get(rule.field)
    return matcher is not None and matcher(rule.value, customer, purchase)


def describe_rule(rule: RoutingRule) -> str:
    """A rule in words: "category is hardware", "order total is at least 500"."""
    if rule.field == "property":
        return f"property {rule.property_key} is {rule.value}"
    wording = {
        "category": "category is",
        "sku": "SKU is",
        "total_at_least": "order total is at least",
        "email_domain": "email domain is",
    }.get(rule.field, f"{rule.field} is")
    return f"{wording} {rule.value}"


def _default_owner(session: Session) -> RoutingDecision:
    default_id = get_setting(session, "default_owner_id")
    if default_id is not None:
        owner = session.get(User, int(default_id))
        if owner is not None and owner.active:
            return RoutingDecision(owner, "default owner")
        why = "the default owner is no longer active"
    else:
        why = "no default owner is chosen"
    admin = session.scalars(
        select(User)
        .where(User.role == "admin", User.active.is_(True))
        .order_by(User.created_at, User.id)
        .limit(1)
    ).first()
    if admin is None:
        raise NoOwnerAvailable(f"no active admin, and {why}")
    return RoutingDecision(admin, f"earliest admin, as {why}")


def _category_matches(value: str, _customer: Customer, purchase: Purchase | None) -> bool:
    # Categories are words people type in several shops' back offices: compare loosely.
    wanted = value.strip().casefold()
    return purchase is not None and any(
        (item.category or "").strip().casefold() == wanted for item in purchase.items
    )


def _sku_matches(value: str, _customer: Customer, purchase: Purchase | None) -> bool:
    # SKUs are codes, where case can be significant.
    return purchase is not None and any(item.sku == value.strip() for item in purchase.items)


def _total_matches(value: str, _customer: Customer, purchase: Purchase | None) -> bool:
    if purchase is None or purchase.total is None:
        return False
    try:
        threshold = Decimal(value.strip())
    except InvalidOperation:
        return False
    return threshold.is_finite() and purchase.total >= threshold


def _email_domain_matches(value: str, customer: Customer, _purchase: Purchase | None) -> bool:
    domain = customer.email.rpartition("@")[2].casefold()
    return bool(domain) and domain == value.strip().lstrip("@").casefold()


def _property_matches(key: str | None, value: str, purchase: Purchase | None) -> bool:
    # The name as the sender spells it (names are keys in their systems); the value loosely,
    # as categories are: "Gold" and "gold " are one plan.
    if key is None or purchase is None:
        return False
    given = (purchase.properties or {}).get(key)
    return given is not None and given.strip().casefold() == value.strip().casefold()


_MATCHERS: dict[str, Callable[[str, Customer, Purchase | None], bool]] = {
    "category": _category_matches,
    "sku": _sku_matches,
    "total_at_least": _total_matches,
    "email_domain": _email_domain_matches,
}
