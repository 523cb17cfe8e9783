"""question_sets API."""
