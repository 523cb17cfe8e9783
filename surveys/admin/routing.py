"""Admin: routing."""
