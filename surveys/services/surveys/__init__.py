"""Surveys: deciding whether and when a customer is asked, quiet hours, the one reminder,
personal link tokens, and recording the answers."""
