"""Every model, imported in one place so that the metadata is complete."""

from surveys.models.admin import (
    AuditEntry,
    ReceivedWebhook,
    RoutingRule,
    Setting,
    WebhookEndpoint,
)
from surveys.models.cases import Case, CaseAttachment, CaseEvent
from surveys.models.customers import Customer, CustomerNote, CustomerPreference, Touchpoint
from surveys.models.occasions import Gesture, RefusedDateSuggestion, RememberedDate
from surveys.models.outbox import OutboxMessage
from surveys.models.purchases import Purchase, PurchaseItem
from surveys.models.question_sets import (
    Question,
    QuestionSet,
    QuestionSetAssignment,
    QuestionSetVersion,
)
from surveys.models.surveys import Answer, EmailEvent, Response, Survey, SurveyToken
from surveys.models.users import ApiKey, User

__all__ = [
    "Answer",
    "ApiKey",
    "AuditEntry",
    "Case",
    "CaseAttachment",
    "CaseEvent",
    "Customer",
    "CustomerNote",
    "CustomerPreference",
    "EmailEvent",
    "Gesture",
    "OutboxMessage",
    "Purchase",
    "PurchaseItem",
    "Question",
    "QuestionSet",
    "QuestionSetAssignment",
    "QuestionSetVersion",
    "ReceivedWebhook",
    "RefusedDateSuggestion",
    "RememberedDate",
    "Response",
    "RoutingRule",
    "Setting",
    "Survey",
    "SurveyToken",
    "Touchpoint",
    "User",
    "WebhookEndpoint",
]
