"""The blueprint of the Delighted-compatible endpoints under /v1."""

from flask import Blueprint

bp = Blueprint("delighted", __name__, url_prefix="/v1")
