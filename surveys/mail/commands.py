"""`flask worker`."""


def register_commands(app):
    pass
