"""Survey and unsubscribe tokens stay out of logs: `/s/<token>` and `/u/<token>` are written masked.

A token in a link is the customer's key to their survey; an access log is read by more people
and kept longer than the database that stores only its hash. One filter masks the path in any
log line: werkzeug's request log (`make run` / `flask run`) and the app's own log get it here,
gunicorn's access and error logs through gunicorn.conf.py.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

# "/s/<token>" or "/u/<token>" at the start of a path: after the start of the text, a space,
# quote or bracket, or after "scheme://host" (a Referer, a URL in a message).
_TOKEN_PATH = re.compile(
    r"""(?P<before>(?:^|[\s"'(<\[=])(?:[A-Za-z][A-Za-z0-9+.-]*://[^/\s"'<>]*)?)"""
    r"""/(?P<kind>[su])/[^/?#\s"'<>\]\x1b]+"""
)


def mask_tokens(text: str) -> str:
    """`text` with every survey or unsubscribe token in a path replaced by `<token>`."""
    return _TOKEN_PATH.sub(r"\g<before>/\g<kind>/<token>", text)


class MaskTokens(logging.Filter):
    """Rewrites a record's message with its tokens masked (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


TOKEN_FILTER = MaskTokens()


def register(app: Flask) -> None:
    # A filter on a logger sees the records made by that logger: werkzeug's request log,
    # and the app's log ("Unhandled error on POST /s/…").
    for logger in (logging.getLogger("werkzeug"), app.logger):
        logger.addFilter(TOKEN_FILTER)  # once: addFilter ignores a filter already there
