"""What a case's status allows: the `can_*` checks pages use to show an action, and the
`ensure_*` ones actions use to refuse with a message (`CaseStateError`, 409).

A case waiting for an owner (`owner_id` None, see `surveys.services.cases.opening`)
has no deadlines and nobody to write as: it can take notes and be handed to
someone (which starts its deadlines), and nothing else until it has an owner.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from surveys.models import Case
from surveys.models.cases import CaseStatus
from surveys.services.cases.errors import CaseStateError

# Cases the owner still has to act on, or is waiting on the customer for.
UNFINISHED_STATUSES = (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED)
WAITING_FOR_OWNER_MESSAGE = _l(
    "Nobody owns this case yet: hand it to someone first. They then acknowledge it, "
    "reply and resolve it."
)


def can_acknowledge(case: Case) -> bool:
    """Whether the case's status lets it be acknowledged (by its owner: it needs one)."""
    return case.status == CaseStatus.OPEN and case.owner_id is not None


def can_resolve(case: Case) -> bool:
    """Whether the case's status lets it be resolved (it needs an owner)."""
    return case.status in (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED) and case.owner_id is not None


def can_reply(case: Case) -> bool:
    """Whether the owner may still write to the customer about this case (there is one)."""
    return (
        case.status in UNFINISHED_STATUSES
        and case.customer.erased_at is None
        and case.owner_id is not None
    )


def can_reassign(case: Case) -> bool:
    """Whether the case may move to another owner (a closed case needs nobody)."""
    return case.status in UNFINISHED_STATUSES


def ensure_can_acknowledge(case: Case) -> None:
    """Raise CaseStateError unless the case's status lets it be acknowledged."""
    _ensure_has_owner(case)
    if not can_acknowledge(case):
        raise CaseStateError(_not_open_message(case))


def ensure_can_resolve(case: Case) -> None:
    """Raise CaseStateError unless the case's status lets it be resolved."""
    _ensure_has_owner(case)
    if not can_resolve(case):
        if case.status == CaseStatus.RESOLVED:
            raise CaseStateError(_("This case is already resolved; there is nothing to resolve."))
        raise CaseStateError(_("This case is already closed; there is nothing to resolve."))


def ensure_can_reply(case: Case) -> None:
    """Raise CaseStateError unless the owner may still write to the customer."""
    if case.customer.erased_at is not None:
        raise CaseStateError(
            _("This customer's personal data was erased; we can no longer write to them.")
        )
    _ensure_has_owner(case)
    if not can_reply(case):
        raise CaseStateError(_("This case is closed, so there is no reply to send from it."))


def ensure_can_reassign(case: Case) -> None:
    """Raise CaseStateError unless the case may move to another owner."""
    if not can_reassign(case):
        raise CaseStateError(_("This case is closed; there is nothing left to hand over."))


def _ensure_has_owner(case: Case) -> None:
    if case.owner_id is None:
        raise CaseStateError(str(WAITING_FOR_OWNER_MESSAGE))


def _not_open_message(case: Case) -> str:
    if case.status == CaseStatus.ACKNOWLEDGED:
        taken = [event for event in case.events if event.kind == "acknowledged"]
        if taken:
            return _("%(name)s already acknowledged this case.", name=taken[-1].actor_label)
        return _("This case is already acknowledged.")
    if case.status == CaseStatus.RESOLVED:
        return _("This case is already resolved; there is nothing to acknowledge.")
    return _("This case is already closed; there is nothing to acknowledge.")
