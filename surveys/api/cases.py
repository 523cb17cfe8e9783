"""cases API."""
