"""Question sets: their documents, published versions, drafts, assignments and history."""
