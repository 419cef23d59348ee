"""A steady client that POSTs orders and records every answer by its request id (X-Request-ID).

The request id is stored on the order (correlation_id), so after a scenario each answer can
be matched with what the database holds: an order answered 202 must exist, and an order
that exists must not have been answered with an error.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

from bench.orders import order_payload

# The demo catalogue (manage.py seed_demo): product type → most styles any offer runs.
PRODUCT_TYPES = {"hoodie": 4, "tee": 5, "cap": 3, "tote": 2}
BULK_SIZE = 20


@dataclass
class Answer:
    request_id: str
    kind: str  # "order" or "bulk"
    sent_at: float
    status: int | None = None  # None: no answer (connection refused, reset, timed out)
    json_body: bool = False
    retry_after: str | None = None
    order_ids: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    error: str = ""
    token: str = ""
    body: dict | None = None  # kept for bulks, which are retried with their key

    @property
    def accepted(self) -> bool:
        return self.status in (200, 202)


class SteadyClient:
    """``rate`` requests a second over ``threads`` connections; every BULK_EVERY-th is a bulk with a key."""

    BULK_EVERY = 25

    def __init__(self, port: int, tokens: list[str], *, rate: float, threads: int = 4, timeout: float = 20):
        self.port = port
        self.tokens = tokens
        self.rate = rate
        self.threads = threads
        self.timeout = timeout
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._sent = 0
        self._lock = threading.Lock()

    def start(self) -> SteadyClient:
        for index in range(self.threads):
            thread = threading.Thread(target=self._run, args=(index,), daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def stop(self) -> list[Answer]:
        self._stop.set()
        for thread in self._workers:
            thread.join(self.timeout + 5)
        return self.answers

    def _next(self) -> int:
        with self._lock:
            self._sent += 1
            return self._sent

    def _run(self, index: int) -> None:
        rng = random.Random(index)
        interval = self.threads / self.rate
        conn = None
        next_at = time.monotonic()
        while not self._stop.is_set():
            next_at += interval
            number = self._next()
            if number % self.BULK_EVERY == 0:
                body = {"orders": [order_payload(rng, PRODUCT_TYPES) for _ in range(BULK_SIZE)]}
                token = rng.choice(self.tokens)
                answer, conn = self._post(conn, "/api/orders/bulk/", body, "bulk", token, key=uuid.uuid4().hex)
            else:
                body = order_payload(rng, PRODUCT_TYPES)
                answer, conn = self._post(conn, "/api/orders/", body, "order", rng.choice(self.tokens))
            with self._lock:
                self.answers.append(answer)
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def send_bulk(self, count: int) -> Answer:
        """One bulk of ``count`` orders with a key, sent now from the calling thread and recorded."""
        rng = random.Random()
        body = {"orders": [order_payload(rng, PRODUCT_TYPES) for _ in range(count)]}
        answer, conn = self._post(
            None, "/api/orders/bulk/", body, "bulk", rng.choice(self.tokens), key=uuid.uuid4().hex
        )
        if conn is not None:
            conn.close()
        with self._lock:
            self.answers.append(answer)
        return answer

    def retry_bulks(self, *, rounds: int = 5) -> int:
        """Send every bulk that got no 2xx again, with its key, body and buyer, as a client would.

        Returns how many retries were sent. Each retry is recorded like any other answer.
        """
        retries = 0
        conn = None
        for _ in range(rounds):
            keys_accepted = {a.idempotency_key for a in self.answers if a.kind == "bulk" and a.accepted}
            pending = {a.idempotency_key: a for a in self.answers if a.kind == "bulk" and not a.accepted}
            pending = {key: a for key, a in pending.items() if key not in keys_accepted}
            if not pending:
                break
            for key, failed in pending.items():
                answer, conn = self._post(conn, "/api/orders/bulk/", failed.body, "bulk", failed.token, key=key)
                self.answers.append(answer)
                retries += 1
            time.sleep(1)
        if conn is not None:
            conn.close()
        return retries

    def _post(self, conn, path: str, body: dict, kind: str, token: str, key: str | None = None):
        request_id = uuid.uuid4().hex
        answer = Answer(request_id=request_id, kind=kind, sent_at=time.time(), idempotency_key=key, token=token)
        if kind == "bulk":
            answer.body = body
        headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "X-Request-ID": request_id,
        }
        if key:
            headers["Idempotency-Key"] = key
        try:
            conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            conn.request("POST", path, json.dumps(body), headers)
            response = conn.getresponse()
            raw = response.read()
            answer.status = response.status
            answer.retry_after = response.getheader("Retry-After")
            content_type = response.getheader("Content-Type") or ""
            answer.json_body = content_type.startswith("application/json")
            if answer.json_body and response.status in (200, 202):
                data = json.loads(raw)
                answer.order_ids = [o["id"] for o in data["orders"]] if kind == "bulk" else [data["id"]]
            elif not answer.json_body:
                answer.error = raw[:200].decode(errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            answer.error = f"{type(exc).__name__}: {exc}"
            if conn is not None:
                conn.close()
            conn = None
        return answer, conn
