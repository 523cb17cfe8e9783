"""The outbox: mail and webhooks queued in the caller's transaction, and the worker delivering them.

`enqueue` puts rows in; `claims` leases them to one worker and records what
became of them, for mail and webhooks alike; `worker` runs the passes,
`webhook_delivery` POSTs the webhooks; `admin` is what the outbox page shows
and does. Rendering and sending email stay in `surveys.mail`.
"""
