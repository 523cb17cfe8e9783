"""Chat messages: one note (the customer's words, the score, the owner, a link) per format.

Slack gets Block Kit (`blocks` with a section per part and a context line, plus
`text`, the fallback Slack shows in notifications); Teams gets a message with one
Adaptive Card attachment, which both Workflows (Power Automate) and the older
Office 365 connectors accept. Nothing personal goes beyond what the case page
shows, and less: no name, no email address, only what the customer wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

SLACK = "slack"
TEAMS = "teams"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# What Teams renders in every client that posts through a webhook today.
ADAPTIVE_CARD_VERSION = "1.4"
# Slack refuses a section text over 3,000 characters; a long answer is cut well before.
MAX_QUOTE = 1500
MAX_FALLBACK = 300


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class ChatNote:
    """What one message says, before it is dressed for Slack or Teams.

    `quote`: the customer's own words, shown first; `facts`: label and value
    pairs (the score, the owner …); `link`: where to act on it.
    """

    headline: str
    quote: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    link: Link | None = None


def body_for(kind: str, note: ChatNote) -> dict:
    """The JSON body to post to a channel of `kind` (its quotation marks in the current
    language: the caller forces the shop's)."""
    if kind == SLACK:
        return slack_message(note)
    if kind == TEAMS:
        return teams_message(note)
    raise ValueError(f"unknown chat kind {kind!r}")


def shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- Slack: Block Kit --------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as markup: what a customer wrote is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(note: ChatNote) -> dict:
    """`{"text": fallback, "blocks": [quote section, headline section, context]}`."""
    blocks: list[dict] = []
    if note.quote:
        quoted = "\n".join(
            "> " + slack_escape(line) for line in shorten(note.quote, MAX_QUOTE).splitlines()
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": quoted}})
    blocks.append(
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack_escape(note.headline)}*"}}
    )
    context = [f"*{slack_escape(label)}:* {slack_escape(value)}" for label, value in note.facts]
    if note.link is not None:
        context.append(f"<{note.link.url}|{slack_escape(note.link.label)}>")
    if context:
        # A context block takes at most 10 elements.
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": text} for text in context[:10]],
            }
        )
    return {"text": fallback_text(note), "blocks": blocks}


def fallback_text(note: ChatNote) -> str:
    """The one line a notification shows: the words first, then what happened."""
    if note.quote:
        words = _(
            "“%(words)s” — %(headline)s", words=shorten(note.quote, 200), headline=note.headline
        )
        return shorten(words, MAX_FALLBACK)
    return shorten(note.headline, MAX_FALLBACK)


# --- Teams: an Adaptive Card -------------------------------------------------------------------


def teams_message(note: ChatNote) -> dict:
    """`{"type": "message", "attachments": [{contentType: adaptive card, content: the card}]}`."""
    body: list[dict] = []
    if note.quote:
        body.append(
            {
                "type": "TextBlock",
                "text": _("“%(words)s”", words=shorten(note.quote, MAX_QUOTE)),
                "wrap": True,
                "size": "Medium",
            }
        )
    body.append({"type": "TextBlock", "text": note.headline, "wrap": True, "weight": "Bolder"})
    if note.facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": label, "value": value} for label, value in note.facts],
            }
        )
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "body": body,
    }
    if note.link is not None:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": note.link.label, "url": note.link.url}
        ]
    return {
        "type": "message",
        # Shown in the activity feed and notifications, like Slack's `text`.
        "summary": fallback_text(note),
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }
