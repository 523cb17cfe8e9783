"""Email: rendering, the SendGrid and file senders, and the worker that drains the outbox."""
