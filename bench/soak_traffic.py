"""The soak's simulated clients: survey links as customers find them, requests, timings.

Used by `bench/soak.py`; each `Client` is one thread with its own connection,
cookies and API key, looping over the mix of requests until told to stop.
"""

from __future__ import annotations

import email
import email.policy
import http.client
import json
import random
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from tests.fake_sendgrid import FakeSendGrid

OWNER_PASSWORD = "soak-owner-password"
OWNERS = ("olivia@soak.example", "omar@soak.example")
# How often each kind comes up, out of 100 requests.
MIX = {"purchase": 40, "survey page": 20, "survey answer": 15, "owner page": 25}
EXPECTED = {"purchase": 201, "survey page": 200, "survey answer": 200, "owner page": 200}
CSRF_INPUT = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
CASE_LINK = re.compile(rb'href="/cases/(\d+)"')
CUSTOMER_LINK = re.compile(rb'href="/customers/(\d+)"')


# --- survey links: from the fake SendGrid, or from the .eml files -----------------------------


class SurveyLinks:
    """Survey links the workers have sent, as a customer would find them in their email."""

    def __init__(self, base_url: str, fake: FakeSendGrid | None, outbox: Path) -> None:
        self.pattern = re.compile(re.escape(base_url) + r"(/s/[\w-]+)")
        self.fake = fake
        self.outbox = outbox
        self._seen_requests = 0
        self._seen_files: set[str] = set()
        self._fresh: list[str] = []
        self._all: list[str] = []
        self._lock = threading.Lock()

    def _collect(self) -> None:
        texts = []
        if self.fake is not None:
            requests = self.fake.recorded()
            for request in requests[self._seen_requests :]:
                for personalization in (request.body or {}).get("personalizations", []):
                    # A survey email's personal value: its link is BASE_URL/s/<token>.
                    token = personalization.get("substitutions", {}).get("[h2h:token]")
                    if token:
                        self._fresh.append(f"/s/{token}")
                        self._all.append(f"/s/{token}")
            self._seen_requests = len(requests)
        else:
            for path in self.outbox.glob("*.eml"):
                if path.name not in self._seen_files:
                    self._seen_files.add(path.name)
                    message = email.message_from_bytes(
                        path.read_bytes(), policy=email.policy.default
                    )
                    texts.append(message.get_body(preferencelist=("plain",)).get_content())
        for text in texts:
            for path in set(self.pattern.findall(text)):
                self._fresh.append(path)
                self._all.append(path)

    def fresh(self) -> str | None:
        """A link nobody has answered yet."""
        with self._lock:
            if not self._fresh:
                self._collect()
            return self._fresh.pop() if self._fresh else None

    def any(self) -> str | None:
        with self._lock:
            if not self._all:
                self._collect()
            return random.choice(self._all) if self._all else None


# --- the simulated clients ------------------------------------------------------------------


@dataclass
class Results:
    started: float
    durations: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    unexpected: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, at: float, seconds: float, status: int | str) -> None:
        with self.lock:
            self.durations[kind].append((at - self.started, seconds))
            if status != EXPECTED.get(kind, 200):
                self.unexpected[(kind, status)] += 1


class Client:
    """One simulated client: its own connection, cookies and API key."""

    def __init__(self, port: int, api_key: str, owner: str, links: SurveyLinks, results: Results):
        self.port = port
        self.api_key = api_key
        self.owner = owner
        self.links = links
        self.results = results
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.orders = 0
        self.logged_in = False

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            return type(exc).__name__, b""
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        return response.status, data

    def timed(self, kind: str, method: str, path: str, body=None, headers=None):
        started = time.perf_counter()
        status, data = self.request(method, path, body, headers)
        self.results.record(kind, started, time.perf_counter() - started, status)
        return status, data

    def purchase(self) -> None:
        self.orders += 1
        order = f"S-{self.api_key[-6:]}-{self.orders}"
        body = {
            "order_id": order,
            "customer": {"email": f"{order.lower()}@soak.example", "name": "Soak Customer"},
            "purchased_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "total": "129.90",
            "currency": "EUR",
            "items": [
                {
                    "sku": "KB-1",
                    "name": "Keyboard",
                    "category": "hardware",
                    "quantity": 1,
                    "unit_price": "129.90",
                }
            ],
            "owner_email": random.choice(OWNERS),
        }
        self.timed(
            "purchase",
            "POST",
            "/api/v1/purchases",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"},
        )

    def survey_page(self) -> None:
        link = self.links.any()
        if link is None:
            return self.purchase()  # nothing sent yet
        self.timed("survey page", "GET", link)

    def survey_answer(self) -> None:
        link = self.links.fresh()
        if link is None:
            return self.purchase()
        status, page = self.timed("survey page", "GET", link)
        token = CSRF_INPUT.search(page) if status == 200 else None
        if token is None:
            return None
        unhappy = random.random() < 0.2
        answers = {
            "csrf_token": token.group(1).decode(),
            "expectations": "short" if unhappy else random.choice(("exceeding", "meeting")),
            "one_thing": "The parcel came late." if unhappy else "",
            "time_money": "no" if unhappy else "yes",
            "recommend": str(random.randint(0, 5) if unhappy else random.randint(8, 10)),
            "preferences": "",
        }
        self.timed(
            "survey answer",
            "POST",
            link,
            urlencode(answers).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def owner_page(self) -> None:
        if not self.logged_in:
            self.log_in()
        status, inbox = self.timed("owner page", "GET", "/inbox")
        cases = CASE_LINK.findall(inbox) if status == 200 else []
        if not cases:
            return
        status, case = self.timed("owner page", "GET", f"/cases/{random.choice(cases).decode()}")
        customers = CUSTOMER_LINK.findall(case) if status == 200 else []
        if customers:
            self.timed("owner page", "GET", f"/customers/{customers[0].decode()}")

    def log_in(self) -> None:
        status, page = self.request("GET", "/login")
        token = CSRF_INPUT.search(page) if status == 200 else None
        form = {"email": self.owner, "password": OWNER_PASSWORD}
        if token:
            form["csrf_token"] = token.group(1).decode()
        status, _ = self.request(
            "POST",
            "/login",
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.logged_in = status == 302

    def run(self, until: float) -> None:
        kinds, weights = zip(*MIX.items(), strict=True)
        actions = {
            "purchase": self.purchase,
            "survey page": self.survey_page,
            "survey answer": self.survey_answer,
            "owner page": self.owner_page,
        }
        while time.perf_counter() < until:
            actions[random.choices(kinds, weights)[0]]()
