"""Admin: question_sets."""
