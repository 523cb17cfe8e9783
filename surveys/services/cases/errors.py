"""The errors a case action raises: not found (404), wrong status (409), unacceptable value (422).

Pages and the API each map them to an answer once, in their blueprint's error handlers.
"""

from __future__ import annotations


class CaseError(Exception):
    """Base of the errors a case action raises; the message is meant for people."""


class CaseNotFound(CaseError):
    """No such case, or not one this user may see (both look the same from outside: 404)."""


class CaseStateError(CaseError):
    """The action does not fit the case's status (409)."""


class CaseInputError(CaseError):
    """A value given with the action is not acceptable (422); `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
