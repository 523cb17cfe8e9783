"""Admin: dashboard."""
