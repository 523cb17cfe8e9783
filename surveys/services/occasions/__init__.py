"""Keeping it personal: dates that matter to a customer, and the gestures owners make."""
