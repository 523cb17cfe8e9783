"""`flask users create`, `flask api-keys create`."""


def register_commands(app):
    pass
