"""Links that leave the app: BASE_URL as written, then the route's path, request or not."""

from __future__ import annotations

import pytest

from surveys.external_urls import external_url
from surveys.mail.personal import Personal, personal_url


@pytest.mark.parametrize(
    "base",
    ["http://surveys.test", "https://x.example/feedback", "https://Shop.Example:8443/a/b"],
)
def test_an_external_url_is_base_url_then_the_routes_path(app, base):
    app.config["BASE_URL"] = base
    with app.app_context():  # as in the worker: no request
        assert external_url("inbox.show_case", case_id=12) == f"{base}/cases/12"
        assert external_url("inbox.show_customer", customer_id=3) == f"{base}/customers/3"
        assert external_url("public.show_survey", token="ab-_C9") == f"{base}/s/ab-_C9"
        assert external_url("public.show_unsubscribe", token="ab-_C9") == f"{base}/u/ab-_C9"


def test_inside_a_request_the_link_still_points_at_base_url_not_the_requests_host(app):
    app.config["BASE_URL"] = "https://x.example/feedback"
    with app.test_request_context("/inbox", base_url="http://internal:8000/elsewhere"):
        assert external_url("inbox.show_case", case_id=1) == "https://x.example/feedback/cases/1"


def test_a_personal_value_stays_a_tag_for_the_sender_to_fill_in(app):
    app.config["BASE_URL"] = "https://x.example/feedback"
    with app.app_context():
        url = personal_url("public.show_survey", token=Personal("token", "ab-_C9"))
    assert url == "https://x.example/feedback/s/[h2h:token]"
