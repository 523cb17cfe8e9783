"""gunicorn settings for tests: each worker leaves a file once its app is loaded."""

import os
from pathlib import Path


def post_worker_init(worker):
    """Mark this worker ready to take requests (see tests/gunicorn_server.py)."""
    Path(os.environ["GUNICORN_READY_DIR"], str(worker.pid)).touch()
