"""Slack and Microsoft Teams channels (README's *Slack and Microsoft Teams*).

A channel is a `WebhookEndpoint` of kind "slack" or "teams": its messages are
outbox rows like any webhook out's, delivered and retried by
`surveys.outbox.webhook_delivery`, with a body formatted for the chat
(`messages`) instead of our JSON. `channels` holds the admins' changes,
`notify` queues the events where the cases and answers change.
"""
