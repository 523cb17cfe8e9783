"""Routing: who owns a new case.

- `decisions`: choosing the one owner of a case, and saying why in words an admin can check.
- `rules`: changing what that choice reads, the ordered routing rules and the default owner.
"""
