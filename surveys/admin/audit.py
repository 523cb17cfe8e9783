"""Admin: audit."""
