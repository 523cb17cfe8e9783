"""The errors services raise about cases and purchases, as problem documents: mapped here once
for every blueprint machines call (the API, Delighted's routes, the webhooks).

A case that is not there (or not this caller's to see) is 404, an action its status does not
allow 409, and a value that does not fit 422 naming the field, as is a purchase that cannot be
accepted. Views just call the services and let these errors rise.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response

from surveys.api.schemas import validation_problem
from surveys.db import db
from surveys.errors import ApiProblem
from surveys.services.cases.errors import CaseInputError, CaseNotFound, CaseStateError
from surveys.services.purchase_cancellations import PurchaseNotFound
from surveys.services.purchases import PurchaseRejected

# The services name a case's new owner `owner`; the API's body names it `owner_email`.
_FIELD_NAMES = {"owner": "owner_email"}

_PROBLEMS: dict[type[Exception], Callable[[Exception], ApiProblem]] = {
    CaseNotFound: lambda exc: ApiProblem(404, "Not Found", str(exc)),
    CaseStateError: lambda exc: ApiProblem(409, "Conflict", str(exc)),
    CaseInputError: lambda exc: validation_problem(
        {_FIELD_NAMES.get(exc.field, exc.field): [str(exc)]}
    ),
    PurchaseRejected: lambda exc: validation_problem(exc.errors),
    PurchaseNotFound: lambda exc: ApiProblem(404, "Not Found", str(exc)),
}


def answer_domain_errors(blueprint: Blueprint, answer: Callable[[ApiProblem], Response]) -> None:
    """Answer each of these errors raised under `blueprint` with `answer(problem)`, the
    blueprint's own shape of a problem.

    Whatever the refused action had changed is rolled back first, so nothing of it is kept.
    """
    for error, problem_for in _PROBLEMS.items():

        def handle(exc: Exception, problem_for=problem_for) -> Response:
            db.session().rollback()
            return answer(problem_for(exc))

        blueprint.register_error_handler(error, handle)
