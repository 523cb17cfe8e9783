"""The owners' blueprint: login, the inbox, cases and customers add their routes to it."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)
