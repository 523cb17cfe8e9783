"""Admin: routing, who owns new cases: ordered rules, the default owner, and a tester
that asks the real routing decision about a sample purchase."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import SelectChoice

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.admin.forms import (
    ROUTING_FIELD_LABELS,
    DefaultOwnerForm,
    RoutingRuleForm,
    RoutingTesterForm,
)
from surveys.auth import acting_user
from surveys.db import db
from surveys.models import Customer, Purchase, PurchaseItem, RoutingRule, User
from surveys.services.routing import rules as routing_rules
from surveys.services.routing.decisions import NoOwnerAvailable, choose_owner, describe_rule
from surveys.services.settings import get_setting

# A rule's condition in the reader's words. The English of `describe_rule` stays what cases
# and the audit log store (`routed_by`); pages and flashes say the same in the admin's language.
_CONDITIONS = {
    "category": _l("category is %(value)s"),
    "sku": _l("SKU is %(value)s"),
    "total_at_least": _l("order total is at least %(value)s"),
    "email_domain": _l("email domain is %(value)s"),
}
# Why the default owner got a case, as `choose_owner` says it (stored in English on cases).
_DEFAULT_REASONS = {
    "default owner": _l("default owner"),
    "earliest admin, as the default owner is no longer active": _l(
        "earliest admin, as the default owner is no longer active"
    ),
    "earliest admin, as no default owner is chosen": _l(
        "earliest admin, as no default owner is chosen"
    ),
}


def rule_in_words(rule: RoutingRule) -> str:
    """A rule's condition for the admin reading it: "category is hardware"."""
    if rule.field == "property":
        return _("property %(name)s is %(value)s", name=rule.property_key, value=rule.value)
    condition = _CONDITIONS.get(rule.field)
    return condition % {"value": rule.value} if condition is not None else describe_rule(rule)


def default_reason(reason: str) -> str:
    """The default owner's reason in the reader's language (as stored when not one we know)."""
    known = _DEFAULT_REASONS.get(reason)
    return str(known) if known is not None else reason


def _people() -> list[User]:
    """Everyone who can own cases: active owners and admins."""
    return list(
        db.session().scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.id))
    )


def _owner_choices() -> list[SelectChoice]:
    return [SelectChoice(u.id, f"{u.name} ({u.email})") for u in _people()]


def _rule_form(*, submitted: bool) -> RoutingRuleForm:
    form = RoutingRuleForm() if submitted else RoutingRuleForm(formdata=None)
    form.owner_id.choices = _owner_choices()
    return form


def _default_form(formdata=None) -> DefaultOwnerForm:
    if formdata is None:
        current = get_setting(db.session(), "default_owner_id")
        form = DefaultOwnerForm(formdata=None, data={"owner_id": str(current or "")})
    else:
        form = DefaultOwnerForm(formdata=formdata)
    form.owner_id.choices = [SelectChoice("", _("The earliest admin (nobody chosen)"))] + [
        SelectChoice(str(u.id), f"{u.name} ({u.email})") for u in _people()
    ]
    return form


def _routing_page(
    *,
    rule_form=None,
    default_form=None,
    tester_form=None,
    decision=None,
    tester_error=None,
    tester_customer=None,
    status: int = 200,
):
    session = db.session()
    default_id = get_setting(session, "default_owner_id")
    return render_template(
        "admin/show_routing.html",
        rules=routing_rules.ordered_rules(session),
        rule_in_words=rule_in_words,
        default_reason=default_reason,
        field_labels=ROUTING_FIELD_LABELS,
        default_owner=session.get(User, int(default_id)) if default_id is not None else None,
        rule_form=rule_form or _rule_form(submitted=False),
        default_form=default_form or _default_form(),
        tester_form=tester_form or RoutingTesterForm(formdata=None),
        decision=decision,
        tester_error=tester_error,
        tester_customer=tester_customer,
    ), status


@bp.get("/routing")
def show_routing():
    """The rules in order, the default owner, and the "who would get this?" tester."""
    return _routing_page()


@bp.post("/routing/rules")
def add_routing_rule():
    """Add a rule at the end of the list."""
    session = db.session()
    form = _rule_form(submitted=True)
    if not form.validate():
        return _routing_page(rule_form=form, status=422)
    try:
        rule = routing_rules.add_rule(
            session,
            field=form.field.data,
            property_key=form.property_key.data,
            value=form.value.data,
            owner=session.get(User, form.owner_id.data),
            actor=acting_user(),
            now=clock.now(),
        )
    except routing_rules.RoutingRuleError as exc:
        getattr(form, exc.field).errors = [str(exc)]
        return _routing_page(rule_form=form, status=422)
    session.commit()
    flash(
        _(
            "Added: when the %(rule)s, cases go to %(owner)s.",
            rule=rule_in_words(rule),
            owner=rule.owner.name,
        )
    )
    return redirect(url_for(".show_routing"))


@bp.post("/routing/rules/<int:rule_id>/delete")
def delete_routing_rule(rule_id: int):
    """Remove a rule; the ones below move up."""
    session = db.session()
    rule = _rule_or_404(rule_id)
    words = rule_in_words(rule)
    routing_rules.delete_rule(session, rule, actor=acting_user(), now=clock.now())
    session.commit()
    flash(_("Removed the rule “%(rule)s”.", rule=words))
    return redirect(url_for(".show_routing"))


@bp.post("/routing/rules/<int:rule_id>/<any(up, down):direction>")
def move_routing_rule(rule_id: int, direction: str):
    """Move a rule one place up or down (the first matching rule wins)."""
    session = db.session()
    rule = _rule_or_404(rule_id)
    routing_rules.move_rule(
        session, rule, direction=direction, actor=acting_user(), now=clock.now()
    )
    session.commit()
    return redirect(url_for(".show_routing") + f"#rule-{rule.id}")


@bp.post("/routing/default-owner")
def set_default_owner():
    """Choose who owns the cases no account owner or rule claims."""
    session = db.session()
    form = _default_form(formdata=request.form)
    if not form.validate():
        return _routing_page(default_form=form, status=422)
    owner = session.get(User, int(form.owner_id.data)) if form.owner_id.data else None
    try:
        routing_rules.set_default_owner(session, owner, actor=acting_user(), now=clock.now())
    except routing_rules.RoutingRuleError as exc:
        form.owner_id.errors = [str(exc)]
        return _routing_page(default_form=form, status=422)
    session.commit()
    flash(
        _("Unclaimed cases now go to %(owner)s.", owner=owner.name)
        if owner
        else _("Unclaimed cases now go to the earliest admin.")
    )
    return redirect(url_for(".show_routing"))


@bp.get("/routing/test")
def test_routing():
    """Who would own a case from this sample purchase, and why: asks the real decision."""
    session = db.session()
    form = RoutingTesterForm(formdata=request.args)
    if not form.validate():
        return _routing_page(tester_form=form, status=422)
    total = _sample_total(form)
    if form.total.errors:
        return _routing_page(tester_form=form, status=422)
    customer = _sample_customer(form.email.data)
    properties = {form.property_name.data: form.property_value.data or ""}
    purchase = Purchase(
        order_id="sample",
        total=total,
        items=[],
        properties=properties if form.property_name.data else {},
    )
    if form.category.data or form.sku.data:
        purchase.items.append(
            PurchaseItem(category=form.category.data or None, sku=form.sku.data or None, quantity=1)
        )
    try:
        # The same function real cases use; nothing here is added to the session or saved.
        decision = choose_owner(session, customer=customer, purchase=purchase)
    except NoOwnerAvailable:
        return _routing_page(
            tester_form=form,
            tester_error=_(
                "Nobody could own this case: there is no active admin, and no rule or default "
                "owner claims it."
            ),
        )
    return _routing_page(
        tester_form=form,
        decision=decision,
        tester_customer=customer if customer.id is not None else None,
    )


def _sample_total(form: RoutingTesterForm) -> Decimal | None:
    if not form.total.data:
        return None
    try:
        total = Decimal(form.total.data.replace(",", ""))
    except InvalidOperation:
        total = None
    if total is None or not total.is_finite() or total < 0:
        form.total.errors = [_("Give an amount, like 129.90.")]
        return None
    return total


def _sample_customer(email: str) -> Customer:
    """The customer with this address, so their account owner counts; else an unsaved one."""
    email = email.strip().lower()
    existing = db.session().scalar(select(Customer).where(func.lower(Customer.email) == email))
    return existing if existing is not None else Customer(email=email)


def _rule_or_404(rule_id: int) -> RoutingRule:
    rule = db.session().get(RoutingRule, rule_id)
    if rule is None:
        abort(404)
    return rule
