"""purchases API."""
