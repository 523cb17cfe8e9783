"""Bringing Delighted's history over: `flask delighted import FILE`.

- `files`: reading the JSON Delighted's API returned or its CSV export, column by column.
- `rows`: one response checked and made a `HistoricAnswer` (or refused, field by field).
- `importing`: the whole file, a chunk at a time.
- `commands`: the command line, with its progress bar and report.

What an imported response becomes is `surveys.services.history`'s rule.
"""
