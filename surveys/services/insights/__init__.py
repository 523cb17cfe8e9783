"""How the relationship is going: figures, trends and themes over a date range (the dashboard,
the comment feed, the weekly digest). `filters` says which answers, cases and touches count."""
