"""Admins' pages under /admin/ (README's *Who sees what*). One module per page family;
`blueprint` holds the blueprint they add their routes to, `routes` gathers them for the app."""
