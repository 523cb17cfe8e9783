"""Every model, imported in one place so that the metadata is complete."""

from surveys.models.admin import (
    AuditEntry,
    ReceivedWebhook,
    RoutingRule,
    Setting,
    WebhookEndpoint,
)
from surveys.models.autopilot import AutopilotMembership
from surveys.models.brand import BrandLogo, EmailWording
from surveys.models.cases import Case, CaseAttachment, CaseEvent
from surveys.models.customers import (
    Customer,
    CustomerNote,
    CustomerPreference,
    Goodbye,
    Touchpoint,
)
from surveys.models.insights import (
    AnswerTheme,
    InsightDay,
    InsightOwnerCase,
    InsightOwnerCustomer,
    InsightOwnerDay,
    InsightRollup,
    OwnerThemeTally,
    ThemeTally,
)
from surveys.models.occasions import Gesture, RefusedDateSuggestion, RememberedDate
from surveys.models.outbox import OutboxMessage
from surveys.models.purchases import Purchase, PurchaseItem
from surveys.models.question_sets import (
    Question,
    QuestionSet,
    QuestionSetAssignment,
    QuestionSetVersion,
)
from surveys.models.surveys import (
    Answer,
    EmailEvent,
    Response,
    ResponseNote,
    ReviewLinkClick,
    Survey,
    SurveyToken,
)
from surveys.models.users import ApiKey, User, WeeklyDigest

__all__ = [
    "Answer",
    "AnswerTheme",
    "ApiKey",
    "AuditEntry",
    "AutopilotMembership",
    "BrandLogo",
    "Case",
    "CaseAttachment",
    "CaseEvent",
    "Customer",
    "CustomerNote",
    "Goodbye",
    "CustomerPreference",
    "EmailEvent",
    "EmailWording",
    "InsightDay",
    "InsightOwnerCase",
    "InsightOwnerCustomer",
    "InsightOwnerDay",
    "InsightRollup",
    "Gesture",
    "OutboxMessage",
    "OwnerThemeTally",
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
    "ResponseNote",
    "ReviewLinkClick",
    "RoutingRule",
    "Setting",
    "Survey",
    "SurveyToken",
    "ThemeTally",
    "Touchpoint",
    "User",
    "WebhookEndpoint",
    "WeeklyDigest",
]
