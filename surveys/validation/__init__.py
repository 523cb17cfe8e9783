"""The input types every door shares: text, addresses, moments, money, codes, whole numbers, JSON.

The API, the Delighted endpoints, webhooks in and CSV rows each describe what they
accept as pydantic models built from these types. Whatever the door, a NUL byte
(PostgreSQL cannot store one), a lone surrogate (no UTF-8 can encode one), a date
Python cannot hold, an amount our columns cannot store or a number past what the
database holds is refused at the door with a message, never met later as a 500.
"""
