"""Gunicorn settings for Heart to Heart: `gunicorn -c gunicorn.conf.py … app:app` (README.md).

Gunicorn also reads this file by itself when started from this folder.
"""

from gunicorn.glogging import Logger

from surveys.log_masking import TOKEN_FILTER


class TokenMaskingLogger(Logger):
    """Gunicorn's logger, writing survey and unsubscribe links as /s/<token> and /u/<token>.

    The filter sees each access-log line fully formatted, so the request line, the path,
    the Referer and any header or environ value in a custom access_log_format are covered.
    """

    def setup(self, cfg):
        super().setup(cfg)
        self.access_log.addFilter(TOKEN_FILTER)
        self.error_log.addFilter(TOKEN_FILTER)


logger_class = TokenMaskingLogger

# Threaded workers: the worker's main loop keeps telling the master it is alive while a
# thread streams a response, so `timeout` (a hung worker) never cuts off a long CSV export.
# With the default sync worker a download longer than `timeout` (30 s) was killed midway,
# and a spreadsheet opened what had arrived as if it were whole.
worker_class = "gthread"
threads = 4
timeout = 30
# On a restart or deploy, a worker finishes the downloads it is streaming for up to this
# long (a million responses take under a minute to export; see bench/README.md).
graceful_timeout = 300
