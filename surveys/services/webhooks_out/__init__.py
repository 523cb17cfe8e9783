"""Webhooks out: queueing events for the endpoints that listen, and the endpoints admins keep."""
