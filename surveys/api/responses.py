"""responses API."""
