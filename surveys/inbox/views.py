"""Owners' pages."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)
