"""openapi API."""
