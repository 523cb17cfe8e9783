"""Customers: their profile and notes, touch points, surveying people by address,
unsubscribing, erasure, and who is neglected."""
