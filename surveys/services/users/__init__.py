"""Who may act: people who log in (admins and owners) and integrators' API keys."""
