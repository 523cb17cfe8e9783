"""Admin: neglected."""
