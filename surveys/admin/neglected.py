"""Admin: neglected customers: short of ten positive touches per negative one, or untouched
for 90 days, a page at a time (longest without a positive touch first, or furthest short of
ten to one); invite the ones chosen to a relationship review."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import ngettext

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.auth import acting_user
from surveys.db import db
from surveys.forms import AppForm
from surveys.models.surveys import SurveyStatus
from surveys.services.customers import neglect
from surveys.templating import format_datetime
from surveys.web_input import database_id


class InviteForm(AppForm):
    """Only the CSRF token: the chosen customers are the checked `customer_ids` boxes."""


def _chosen_ids() -> list[int]:
    # A value that names no customer that can exist is left out, like an unticked box.
    ids = (database_id(value) for value in request.form.getlist("customer_ids"))
    return [customer_id for customer_id in ids if customer_id is not None]


def _neglected_page(
    *, error: str | None = None, chosen: list[int] | None = None, status: int = 200
):
    now = clock.now()
    listed = neglect.neglected_page(
        db.session(),
        now=now,
        sort=request.args.get("sort", "quiet"),
        page=database_id(request.args.get("page")) or 1,
    )
    return render_template(
        "admin/show_neglected.html",
        listed=listed,
        neglected=listed.rows,
        sorts=neglect.SORTS,
        now=now,
        form=InviteForm(formdata=None),
        error=error,
        chosen=set(chosen or ()),
        aim=neglect.AIM,
        neglect_days=neglect.NEGLECT_DAYS,
    ), status


@bp.get("/neglected")
def show_neglected():
    """Customers who need some care, most neglected first."""
    return _neglected_page()


@bp.post("/neglected/invite")
def invite_neglected():
    """Invite the chosen customers to a relationship review (suppression and throttle hold)."""
    session = db.session()
    chosen = _chosen_ids()
    try:
        result = neglect.invite_to_relationship_review(
            session, chosen, actor=acting_user(), now=clock.now()
        )
    except neglect.InviteError as exc:
        return _neglected_page(error=str(exc), chosen=chosen, status=422)
    session.commit()
    flash(_invite_summary(result))
    return redirect(url_for(".show_neglected", **_listing_args()))


def _listing_args() -> dict:
    """The sort and page the invitation was sent from, to come back to them."""
    return {key: request.args[key] for key in ("sort", "page") if request.args.get(key)}


def _invite_summary(result: neglect.InviteResult) -> str:
    """'Invited 3 customers. 1 was surveyed recently: their invitation goes on 12 Jan 2027.'"""
    counts = result.counts
    waiting = result.waiting
    invited = counts.get(SurveyStatus.SCHEDULED, 0)
    # Whole sentences, each in the reader's language, one after the other.
    parts = []
    if invited or not result.already_invited:
        parts.append(
            ngettext(
                "Invited %(num)d customer to a relationship review.",
                "Invited %(num)d customers to a relationship review.",
                invited,
            )
        )
    if result.already_invited:
        parts.append(
            ngettext(
                "%(num)d already had an invitation on its way, so was not invited twice "
                "(the first goes on %(first)s).",
                "%(num)d already had an invitation on its way, so were not invited twice "
                "(the first goes on %(first)s).",
                len(result.already_invited),
                first=format_datetime(min(result.already_invited.values())),
            )
        )
    if waiting:
        parts.append(
            ngettext(
                "%(num)d was surveyed recently: the invitation waits and goes on %(first)s.",
                "%(num)d were surveyed recently: their invitations wait and go from %(first)s.",
                len(waiting),
                first=format_datetime(waiting[0].send_at),
            )
        )
    if counts.get(SurveyStatus.SUPPRESSED):
        parts.append(
            ngettext(
                "%(num)d has unsubscribed or bounced, so is never asked.",
                "%(num)d have unsubscribed or bounced, so are never asked.",
                counts[SurveyStatus.SUPPRESSED],
            )
        )
    return " ".join(parts)
