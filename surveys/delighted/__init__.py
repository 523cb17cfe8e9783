"""Delighted-compatible endpoints under /v1, for teams leaving Delighted.

The same paths, parameters and shapes Delighted's API had, with HTTP Basic
auth (an API key as the user name, the password left empty), mapped onto our
purchases, surveys, responses and suppressions.
"""
