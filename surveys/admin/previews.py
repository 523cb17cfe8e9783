"""Admin: previews."""
