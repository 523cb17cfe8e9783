"""The signed address a case's emails are answered to: `case-<id>-<signature>@INBOUND_DOMAIN`.

The signature is an HMAC of the case id and who the address was given to (the
customer, or the case's owner), keyed from SECRET_KEY: nobody can guess the
address of a case they were not written to about, and a customer cannot forge
the owner's address (only the owner's address relays a reply to the customer).
It is 16 base-32 letters (80 bits), lower case, since mail systems may change
the case of an address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from flask import current_app

CUSTOMER = "customer"
OWNER = "owner"
AUDIENCES = (CUSTOMER, OWNER)
SIGNATURE_LENGTH = 16
# The owner's emails that invite an answer from their mailbox; an escalation goes to
# admins too, and their answers must not reach the customer.
OWNER_TEMPLATES = frozenset(
    {"owner_new_case", "case_reassigned_owner", "case_reopened", "customer_replied"}
)
# `case-12-abcd…`, or `case-12` with the signature lost (kept aside as unverified).
LOCAL_PART = re.compile(r"^case-(\d{1,18})(?:-([a-z0-9]*))?$")


@dataclass(frozen=True)
class CaseAddress:
    """What an address at INBOUND_DOMAIN names: a case, and to whom it was given (None: the
    signature is missing or wrong)."""

    case_id: int
    audience: str | None

    @property
    def verified(self) -> bool:
        return self.audience is not None


def _signature(secret_key: str, case_id: int, audience: str) -> str:
    # A key of its own, so this HMAC can never stand in for another use of SECRET_KEY.
    key = hmac.new(secret_key.encode(), b"heart-to-heart inbound reply address", "sha256").digest()
    digest = hmac.new(key, f"{case_id}:{audience}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:SIGNATURE_LENGTH]


def case_address(secret_key: str, domain: str, case_id: int, audience: str) -> str:
    """The address the customer (or the owner) of case `case_id` answers to."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    return f"case-{case_id}-{_signature(secret_key, case_id, audience)}@{domain.lower()}"


def read_case_address(secret_key: str, domain: str, address: str) -> CaseAddress | None:
    """The case an address at `domain` names, with its audience when signed; None for any
    other address."""
    local, _, at = address.strip().lower().rpartition("@")
    if at != domain.lower():
        return None
    match = LOCAL_PART.match(local)
    if match is None:
        return None
    case_id, signature = int(match.group(1)), match.group(2) or ""
    if case_id < 1 or case_id > 2**63 - 1:
        return None
    for audience in AUDIENCES:
        # Constant time, so the signature cannot be found a letter at a time.
        if hmac.compare_digest(_signature(secret_key, case_id, audience), signature):
            return CaseAddress(case_id, audience)
    return CaseAddress(case_id, None)


def reply_to_for(*, case_id: int | None, template: str, to_customer: bool) -> str | None:
    """The case's address for this email's Reply-To, or None when it keeps its own.

    Only with INBOUND_DOMAIN set, and only for emails about a case: every one to
    the customer, and to the owner those in OWNER_TEMPLATES.
    """
    config = current_app.config
    domain = config.get("INBOUND_DOMAIN")
    if not domain or case_id is None:
        return None
    if to_customer:
        audience = CUSTOMER
    elif template in OWNER_TEMPLATES:
        audience = OWNER
    else:
        return None
    return case_address(config["SECRET_KEY"], domain, case_id, audience)
