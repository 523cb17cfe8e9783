"""What the API accepts: one pydantic model per request body and per query string.

The models are built from the shared input types (`surveys.validation`), so a NUL
byte, a lone surrogate, a date Python cannot hold or a number past what the database
holds is refused here with a 422 naming the field by its dotted path
(`items.0.quantity`), before any service runs. /api/v1/openapi.json is generated from
these same models (`openapi_schemas`, `query_parameters`). Rules no schema can state
(an unknown owner, a purchase in the future, a case in the wrong status) stay in the
services.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from flask import request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import PydanticCustomError

from surveys.api.json_body import read_json_body
from surveys.api.schemas import validation_problem
from surveys.models.cases import CASE_STATUSES
from surveys.services import purchase_cancellations, purchases
from surveys.services.cases import actions as case_actions
from surveys.services.cases import replies
from surveys.services.cases.inbox import MAX_SEARCH_LENGTH
from surveys.services.customers import touchpoints
from surveys.services.question_sets.document import QuestionSetInput
from surveys.validation.addresses import EmailAddress, EmailToLookUp, OptionalEmailToLookUp
from surveys.validation.codes import Currency, LocaleTag, TimeZoneName
from surveys.validation.errors import field_errors, problem
from surveys.validation.moments import OptionalTimestamp
from surveys.validation.money import Money
from surveys.validation.numbers import MAX_DATABASE_ID, WholeNumber
from surveys.validation.properties import Properties
from surveys.validation.text import OptionalText, Text

MAX_ORDER_ID = 128
MAX_NAME = 200
MAX_ITEMS = 1000
MAX_QUANTITY = 1_000_000
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
COMPONENTS = "#/components/schemas/{model}"


class ApiInput(BaseModel):
    """A request body or query string. Fields we do not know are ignored, as they always were."""

    model_config = ConfigDict(extra="ignore")


# --- POST /purchases ----------------------------------------------------------------------


def _null_as_empty(value: Any) -> Any:
    # `"customer": null` names the field that is missing: customer.email.
    return {} if value is None else value


class CustomerInput(ApiInput):
    """Who bought. Only the email is required; other fields update a known customer."""

    email: EmailAddress
    name: OptionalText(MAX_NAME) = None
    id: OptionalText(MAX_ORDER_ID) = Field(None, description="The customer's id in your system.")
    timezone: TimeZoneName = None
    locale: LocaleTag = None


class ItemInput(ApiInput):
    """One line of the order; its category can choose the question set and the owner."""

    sku: OptionalText(128) = None
    name: OptionalText(300) = None
    category: OptionalText(128) = None
    quantity: WholeNumber(1, MAX_QUANTITY) = 1
    unit_price: Money = None


class PurchaseInput(ApiInput):
    """Only `order_id` and `customer.email` are required; unknown fields are ignored."""

    order_id: Text(MAX_ORDER_ID) = Field(
        description="Your order id; posting it again creates nothing."
    )
    customer: Annotated[CustomerInput, BeforeValidator(_null_as_empty)]
    purchased_at: OptionalTimestamp = Field(
        None,
        description="RFC 3339 with an offset; defaults to now, and at most a day ahead. "
        "Purchases older than the age limit (30 days by default) are recorded but not "
        "surveyed.",
    )
    total: Money = None
    currency: Currency = None
    items: list[ItemInput] | None = Field(None, max_length=MAX_ITEMS)
    owner_email: OptionalEmailToLookUp = Field(
        None,
        description="An existing active owner (or admin), who becomes the customer's "
        "account owner.",
    )
    properties: Properties = None

    def to_service_input(self) -> purchases.PurchaseInput:
        """The purchase as record_purchase takes it."""
        customer = self.customer
        return purchases.PurchaseInput(
            order_id=self.order_id,
            customer=purchases.CustomerInput(
                email=customer.email,
                name=customer.name,
                external_id=customer.id,
                timezone=customer.timezone,
                locale=customer.locale,
            ),
            purchased_at=self.purchased_at,
            total=self.total,
            currency=self.currency,
            items=tuple(
                purchases.ItemInput(
                    sku=item.sku,
                    name=item.name,
                    category=item.category,
                    quantity=item.quantity,
                    unit_price=item.unit_price,
                )
                for item in self.items or ()
            ),
            owner_email=self.owner_email,
            properties=self.properties,
        )


def check_purchase(data: object) -> tuple[purchases.PurchaseInput | None, dict[str, list[str]]]:
    """A purchase in the API's shape as record_purchase's input, or None and every bad field.

    The rules the API answers 422 with; the CSV import checks each row with them too.
    """
    try:
        return read_model(PurchaseInput, data).to_service_input(), {}
    except InvalidInput as exc:
        return None, exc.errors


class CancelPurchaseInput(ApiInput):
    """Why the order was refunded or cancelled: its survey and reminder are not sent."""

    reason: Text(purchase_cancellations.MAX_REASON_LENGTH, multiline=False) = Field(
        description='Why, in a few words ("returned: wrong size"); kept as the survey\'s '
        "reason, and on the customer's ledger for a refund."
    )
    refunded: StrictBool = Field(
        False,
        description="True when the money went back to the customer: the refund is then "
        "recorded as a negative touch on the customer's ledger (once per order).",
    )


_ORDER_ID = TypeAdapter(Text(MAX_ORDER_ID))


def order_id_in_path(value: str) -> str | None:
    """The order id of an address as stored, or None when no order can have it (too long, a
    control character, spaces around it): such an address has nothing at it."""
    try:
        return value if _ORDER_ID.validate_python(value) == value else None
    except ValidationError:
        return None


# --- case actions -------------------------------------------------------------------------


class AcknowledgeInput(ApiInput):
    """Nothing to say: the body may be `{}` or empty."""


def _absent_by_default(schema: dict) -> None:
    # Optional, but not nullable: the field is left out rather than sent as null.
    schema.pop("default", None)


# A reply is one of two shapes; the schema says so (oneOf), and `_one_shape` refuses others.
_REPLY_SHAPES = [
    {
        "required": ["message"],
        "not": {"anyOf": [{"required": ["understood"]}, {"required": ["will_do"]}]},
    },
    {"required": ["understood", "will_do"], "not": {"required": ["message"]}},
]


class ReplyInput(ApiInput):
    """Either `message`, or the two parts `understood` and `will_do`."""

    model_config = ConfigDict(json_schema_extra={"oneOf": _REPLY_SHAPES})

    message: Text(case_actions.MAX_REPLY_LENGTH, multiline=True) = Field(
        None,
        json_schema_extra=_absent_by_default,
        description="Emailed to the customer in the owner's name, as it is (with a greeting "
        "and the owner's signature around it).",
    )
    understood: Text(replies.MAX_UNDERSTOOD_LENGTH, multiline=True) = Field(
        None,
        json_schema_extra=_absent_by_default,
        description="What the owner understood from the customer's words, in their own words. "
        "422 when it is essentially a copy of what the customer wrote.",
    )
    will_do: Text(replies.MAX_WILL_DO_LENGTH, multiline=True) = Field(
        None,
        json_schema_extra=_absent_by_default,
        description="What the owner will do about it, and when. With `understood`, it becomes "
        "one letter to the customer.",
    )

    @model_validator(mode="after")
    def _one_shape(self) -> ReplyInput:
        parts = [name for name in ("understood", "will_do") if getattr(self, name) is not None]
        if self.message is not None and parts:
            raise problem("must hold either `message`, or `understood` and `will_do`, not both")
        if self.message is None and len(parts) < 2:
            missing = " and ".join(
                f"`{name}`" for name in ("understood", "will_do") if name not in parts
            )
            raise problem(
                f"must hold `message`, or `understood` and `will_do` (missing: {missing})"
                if parts
                else "must hold `message`, or `understood` and `will_do`"
            )
        return self


class CommentInput(ApiInput):
    body: Text(case_actions.MAX_NOTE_LENGTH, multiline=True) = Field(
        description="An internal note; never shown to the customer."
    )


class ReassignInput(ApiInput):
    owner_email: EmailToLookUp = Field(
        description="An active owner or admin, not the current owner."
    )
    reason: Text(case_actions.MAX_REASON_LENGTH, multiline=True) = Field(
        description="Why the case moves; shown to the new owner."
    )


class ResolveInput(ApiInput):
    resolution: Text(case_actions.MAX_RESOLUTION_LENGTH, multiline=True) = Field(
        description="What was done to fix it; the fix-check email quotes it to the customer."
    )
    ask_in_days: WholeNumber(0, case_actions.MAX_ASK_IN_DAYS) = Field(
        None,
        json_schema_extra=_absent_by_default,
        description="When to ask the customer whether the fix worked: 0 at once, else this "
        "many days from now (held past their quiet hours). Default: the "
        "`fix_check_delay_days` setting (2 days unless an admin changed it).",
    )


# --- touch points -------------------------------------------------------------------------


class TouchpointInput(ApiInput):
    customer_email: EmailToLookUp = Field(description="A customer we know.")
    kind: Text(touchpoints.MAX_KIND_LENGTH) = Field(
        description="What the contact was, e.g. `invoice`, `phone_call`."
    )
    polarity: Literal["positive", "negative", "neutral"] = Field(
        description="An invoice is a negative one; `neutral` for a contact that only asked or "
        "told (counted on the ledger, not in the ratio)."
    )
    note: OptionalText(touchpoints.MAX_NOTE_LENGTH, multiline=True) = None
    occurred_at: OptionalTimestamp = Field(
        None, description="RFC 3339 with an offset; defaults to now; not in the future."
    )


# --- query strings ------------------------------------------------------------------------


def QueryNumber(minimum: int, maximum: int) -> Any:  # noqa: N802
    """A whole number in a query string (ASCII digits), between the bounds inclusive."""
    message = f"must be a whole number from {minimum} to {maximum}"

    def read(value: Any) -> int:
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise PydanticCustomError("invalid", message)
        if not minimum <= value <= maximum:
            raise PydanticCustomError("invalid", message)
        return value

    return Annotated[
        int,
        BeforeValidator(read),
        WithJsonSchema({"type": "integer", "minimum": minimum, "maximum": maximum}),
    ]


def _blank_as_absent(value: Any) -> Any:
    # `?status=` is how a form with nothing chosen sends a filter: no filter.
    return None if value == "" else value


# A position in a list: the microseconds since 1970 of its timestamp and its id, as
# `<microseconds>_<id>`. Any cursor of this shape names a position, so the description
# can state it exactly; it names no row, and a client should pass back what it got.
CURSOR_PATTERN = r"^[0-9]{1,17}_[0-9]{1,10}$"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(moment: datetime, row_id: int) -> str:
    """The position just at (moment, id) in a list ordered by them."""
    micros = (moment.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{row_id}"


def _read_cursor(value: Any) -> tuple[datetime, int] | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(CURSOR_PATTERN, value):
        raise PydanticCustomError("invalid", "is not a cursor this API gave out")
    micros, _, row_id = value.partition("_")
    # Cursors this API gives out hold real ids; a larger one is past every row there is.
    return EPOCH + timedelta(microseconds=int(micros)), min(int(row_id), MAX_DATABASE_ID)


Cursor = Annotated[
    tuple[datetime, int] | None,
    BeforeValidator(_read_cursor),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CURSOR_PATTERN,
            "description": "The `next_cursor` of the previous page.",
        }
    ),
]
PageSize = QueryNumber(1, MAX_PAGE_SIZE)


class CaseListQuery(ApiInput):
    status: Annotated[Literal[CASE_STATUSES] | None, BeforeValidator(_blank_as_absent)] = None
    owner: OptionalEmailToLookUp = Field(None, description="The owner's email address.")
    waiting_on: Annotated[
        Literal["owner", "customer"] | None, BeforeValidator(_blank_as_absent)
    ] = Field(None, description="Only cases whose turn it is of the owner or of the customer.")
    q: OptionalText(MAX_SEARCH_LENGTH) = Field(
        None, description="Part of the customer's name or email address, or of the order id."
    )
    limit: PageSize = Field(DEFAULT_PAGE_SIZE, description="Page size.")
    cursor: Cursor = None


class ResponseListQuery(ApiInput):
    since: Annotated[OptionalTimestamp, BeforeValidator(_blank_as_absent)] = Field(
        None, description="Only responses submitted at or after this RFC 3339 moment."
    )
    limit: PageSize = Field(DEFAULT_PAGE_SIZE, description="Page size.")
    cursor: Cursor = None


class CustomerQuery(ApiInput):
    email: EmailToLookUp = Field(description="The customer's email address.")


class QuestionSetQuery(ApiInput):
    version: QueryNumber(1, MAX_DATABASE_ID) | None = Field(
        None, description="A published version's number; the newest when absent."
    )


# --- reading ------------------------------------------------------------------------------


M = TypeVar("M", bound=BaseModel)


class InvalidInput(ValueError):
    """The input does not fit its model; `errors` names each field by its dotted path."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def read_model(model: type[M], data: object) -> M:
    """The data as the model, or InvalidInput naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidInput({"body": ["must be a JSON object"]})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None


def parse_body(model: type[M], *, optional: bool = False) -> M:
    """The request's JSON body as the model: 415, 400 or 413 as read_json_body, else 422."""
    if optional and not request.get_data(cache=True):
        return model()
    try:
        return read_model(model, read_json_body())
    except InvalidInput as exc:
        raise validation_problem(exc.errors) from None


def parse_query(model: type[M]) -> M:
    """The query string as the model (the first of repeated parameters), else a 422."""
    try:
        return read_model(model, request.args.to_dict())
    except InvalidInput as exc:
        raise validation_problem(exc.errors) from None


# --- the OpenAPI description --------------------------------------------------------------

BODY_MODELS = (
    PurchaseInput,
    CancelPurchaseInput,
    AcknowledgeInput,
    ReplyInput,
    CommentInput,
    ReassignInput,
    ResolveInput,
    TouchpointInput,
    QuestionSetInput,
)


class _OpenApiJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON schema, without the titles it derives from field names."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def openapi_schemas(models: tuple[type[BaseModel], ...] = BODY_MODELS) -> dict[str, dict]:
    """The component schemas of every request body (or of `models`), keyed by model name."""
    _, top = models_json_schema(
        [(model, "validation") for model in models],
        ref_template=COMPONENTS,
        schema_generator=_OpenApiJsonSchema,
    )
    return top["$defs"]


def body_ref(model: type[BaseModel]) -> dict:
    """The `$ref` to a request body's component schema."""
    return {"$ref": COMPONENTS.format(model=model.__name__)}


def query_parameters(model: type[BaseModel]) -> list[dict]:
    """The query string model as OpenAPI parameters."""
    schema = model.model_json_schema(schema_generator=_OpenApiJsonSchema)
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema["properties"].items():
        field_schema = dict(field_schema)
        description = field_schema.pop("description", None)
        parameter = {"name": name, "in": "query", "required": name in required}
        if description:
            parameter["description"] = description
        parameter["schema"] = _without_null(field_schema)
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict) -> dict:
    """A query parameter's schema: absent is how a query string says null."""
    schema = dict(schema)
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    if "anyOf" in schema:
        others = [option for option in schema.pop("anyOf") if option != {"type": "null"}]
        if len(others) == 1:
            schema.update(others[0])
        else:
            schema["anyOf"] = others
    if isinstance(schema.get("type"), list):
        types = [kind for kind in schema["type"] if kind != "null"]
        schema["type"] = types[0] if len(types) == 1 else types
    if "enum" in schema:
        schema["enum"] = [value for value in schema["enum"] if value is not None]
    return schema
