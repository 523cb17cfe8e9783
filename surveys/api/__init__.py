"""The JSON API under /api/v1 (README's *Post a purchase*). One module per resource; each adds its
routes to `blueprint.bp` and describes them in its `OPENAPI_PATHS` for /api/v1/openapi.json;
`routes` gathers them for the app."""
