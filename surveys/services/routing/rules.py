"""Changing who owns new cases: the ordered routing rules and the default owner.

Deciding is `surveys.services.routing.decisions.choose_owner`'s job; this module only
edits what it reads, keeping rule positions 1..n in the order admins see. A
new rule or default owner may be the someone a case was waiting for, so each
such change routes the cases waiting for an owner at once.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import RoutingRule, User
from surveys.models.admin import ROUTING_FIELDS
from surveys.services.audit import record_admin_change
from surveys.services.cases.opening import assign_waiting_cases
from surveys.services.routing.decisions import describe_rule
from surveys.services.settings import get_setting, set_setting
from surveys.validation.properties import MAX_PROPERTY_NAME, MAX_PROPERTY_VALUE
from surveys.validation.text import unstorable_text_reason

DOMAIN_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
MAX_TOTAL = Decimal("999999999999.99")


class RoutingRuleError(ValueError):
    """A rule or owner an admin asked for that cannot be used; the message says why.

    `field` names what was wrong: "value", "property_key" or "owner".
    """

    def __init__(self, message: str, *, field: str = "value") -> None:
        super().__init__(message)
        self.field = field


def ordered_rules(session: Session) -> list[RoutingRule]:
    """The rules in the order they are tried: the first that matches wins."""
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def clean_rule_value(field: str, value: str) -> str:
    """The value as the rule stores it, or RoutingRuleError saying what is wrong with it."""
    if field not in ROUTING_FIELDS:
        raise RoutingRuleError(_("Choose what the rule looks at."))
    value = (value or "").strip()
    if not value:
        raise RoutingRuleError(_("Give the value the rule looks for."))
    if field in ("category", "sku"):
        if len(value) > 128:
            raise RoutingRuleError(_("Keep it to %(num)s characters.", num=128))
        return value
    if field == "property":
        if unstorable_text_reason(value, multiline=False):
            raise RoutingRuleError(_("Give the value as one line of text."))
        if len(value) > MAX_PROPERTY_VALUE:
            raise RoutingRuleError(_("Keep it to %(num)s characters.", num=MAX_PROPERTY_VALUE))
        return value
    if field == "total_at_least":
        try:
            amount = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise RoutingRuleError(_("Give an amount, like 500 or 99.90.")) from None
        if not amount.is_finite() or amount < 0 or amount > MAX_TOTAL:
            raise RoutingRuleError(_("Give an amount of 0 or more, like 500 or 99.90."))
        if amount != amount.quantize(Decimal("0.01")):
            raise RoutingRuleError(_("Use at most two decimals."))
        return format(amount.normalize(), "f")
    domain = value.lstrip("@").lower()
    if not DOMAIN_PATTERN.match(domain) or len(domain) > 253:
        raise RoutingRuleError(_("Give a domain like example.com (the part after the @)."))
    return domain


def clean_property_key(field: str, key: str | None) -> str | None:
    """The property a "property" rule reads (None for other rules), or RoutingRuleError."""
    if field != "property":
        return None
    key = (key or "").strip()
    if not key:
        raise RoutingRuleError(
            _("Give the name of the property the rule reads."), field="property_key"
        )
    if unstorable_text_reason(key, multiline=False) or len(key) > MAX_PROPERTY_NAME:
        raise RoutingRuleError(
            _(
                "A property name is one line of at most %(num)s characters.",
                num=MAX_PROPERTY_NAME,
            ),
            field="property_key",
        )
    return key


def _assignable_owner(owner: User | None) -> User:
    if owner is None or not owner.active:
        raise RoutingRuleError(_("Choose an active person to own these cases."), field="owner_id")
    return owner


def _snapshot(rule: RoutingRule, number: int) -> dict:
    return {
        "number": number,
        "field": rule.field,
        **({"property": rule.property_key} if rule.property_key is not None else {}),
        "value": rule.value,
        "owner": rule.owner.email,
        "rule": describe_rule(rule),
    }


def _renumber(rules: list[RoutingRule]) -> None:
    for position, rule in enumerate(rules, start=1):
        rule.position = position


def add_rule(
    session: Session,
    *,
    field: str,
    value: str,
    owner: User | None,
    actor: User,
    now: datetime,
    property_key: str | None = None,
) -> RoutingRule:
    """Add a rule at the end of the list (tried after every existing rule).

    A "property" rule also names the purchase property it reads (`property_key`).
    """
    value = clean_rule_value(field, value)
    property_key = clean_property_key(field, property_key)
    owner = _assignable_owner(owner)
    last = session.scalar(select(func.max(RoutingRule.position))) or 0
    rule = RoutingRule(
        position=last + 1,
        field=field,
        property_key=property_key,
        value=value,
        owner_id=owner.id,
        created_at=now,
    )
    session.add(rule)
    session.flush()
    session.refresh(rule, ["owner"])
    rules = ordered_rules(session)
    record_admin_change(
        session,
        actor_user=actor,
        action="routing_rule.added",
        target=f"routing rule {describe_rule(rule)}",
        before=None,
        after=_snapshot(rule, rules.index(rule) + 1),
        now=now,
    )
    assign_waiting_cases(session, now)
    return rule


def delete_rule(session: Session, rule: RoutingRule, *, actor: User, now: datetime) -> None:
    """Remove a rule; the rules after it move up one place."""
    rules = ordered_rules(session)
    before = _snapshot(rule, rules.index(rule) + 1)
    session.delete(rule)
    session.flush()
    _renumber([r for r in rules if r.id != rule.id])
    session.flush()
    record_admin_change(
        session,
        actor_user=actor,
        action="routing_rule.deleted",
        target=f"routing rule {before['rule']}",
        before=before,
        after=None,
        now=now,
    )


def move_rule(
    session: Session, rule: RoutingRule, *, direction: str, actor: User, now: datetime
) -> None:
    """Swap a rule with the one above ("up") or below ("down"); at either end nothing moves."""
    if direction not in ("up", "down"):
        raise RoutingRuleError(_("A rule moves up or down."))
    rules = ordered_rules(session)
    index = rules.index(rule)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rules):
        return
    rules[index], rules[other] = rules[other], rules[index]
    _renumber(rules)
    session.flush()
    record_admin_change(
        session,
        actor_user=actor,
        action="routing_rule.moved",
        target=f"routing rule {describe_rule(rule)}",
        before={"number": index + 1},
        after={"number": other + 1},
        now=now,
    )


def set_default_owner(session: Session, owner: User | None, *, actor: User, now: datetime) -> None:
    """Choose who owns cases nobody else claims; None means the earliest active admin."""
    if owner is not None:
        _assignable_owner(owner)
    before_id = get_setting(session, "default_owner_id")
    after_id = owner.id if owner is not None else None
    if before_id == after_id:
        return
    before = session.get(User, int(before_id)) if before_id is not None else None
    set_setting(session, "default_owner_id", after_id)
    record_admin_change(
        session,
        actor_user=actor,
        action="setting.changed",
        target="setting default_owner_id",
        before={"default_owner": before.email if before else None},
        after={"default_owner": owner.email if owner else None},
        now=now,
    )
    assign_waiting_cases(session, now)
