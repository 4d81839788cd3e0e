"""Light shopping traffic against the running services, so `devops verify` has requests to judge.

A few API requests per second, like a shopper: list products, open one, put it in the cart,
look at the cart, now and then place an order (which empties the cart) and list the orders,
and load the storefront. Only while the stand-in Argo CD reports every service healthy.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devops.errors import DevopsError

ANY_STATUS = tuple(range(100, 600))


@dataclass
class Traffic:
    urls: Callable[[str], str]          # service -> base URL
    ready: Callable[[], bool]
    pause: float = 0.4
    counts: Counter[str] = field(default_factory=Counter)   # "cart 2xx" -> n
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _products: list[str] = field(default_factory=list)
    started_at: float | None = None      # monotonic time of the first request

    def flowing_for(self) -> float:
        """Seconds since the first request (0 before it)."""
        return 0.0 if self.started_at is None else time.monotonic() - self.started_at

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="devops-demo-traffic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def _loop(self) -> None:
        from devops.adapters.http import RetryPolicy, session

        http = session(RetryPolicy(total=0, timeout=5))
        users = (f"demo-shopper-{n}" for n in itertools.count(1))
        user = next(users)
        for round_number in itertools.count():
            if self._stop.wait(self.pause):
                return
            if not self.ready():
                continue
            if self.started_at is None:
                self.started_at = time.monotonic()
            try:
                self._round(http, user, round_number)
            except DevopsError:
                self.counts["unreachable"] += 1
            except (KeyError, TypeError, ValueError):  # an answer not shaped as documented
                self.counts["unexpected answer"] += 1
            if round_number % 4 == 3:
                user = next(users)  # the order emptied the cart: a new shopper

    def _round(self, http: Any, user: str, n: int) -> None:
        headers = {"X-User-Id": user}
        products = self._send(http, "product", "GET", "/api/products?limit=20")
        if products is not None and not self._products:
            self._products = [item["id"] for item in products.get("items", []) if "id" in item]
        if not self._products:
            return
        product_id = random.choice(self._products)
        self._send(http, "product", "GET", f"/api/products/{product_id}")
        self._send(http, "cart", "POST", "/api/cart", headers=headers, json={"productId": product_id, "quantity": 1})
        self._send(http, "cart", "GET", "/api/cart", headers=headers)
        if n % 4 == 3:
            self._send(http, "order", "POST", "/api/orders", headers=headers,
                       json={"shipping": {"name": "Demo Shopper", "address": "1 Local Street"}})
        self._send(http, "order", "GET", "/api/orders", headers=headers)
        self._send(http, "frontend", "GET", "/")

    def _send(self, http: Any, service: str, method: str, path: str, **kwargs: Any) -> Any:
        from devops.adapters.http import request

        response = request(http, method, f"{self.urls(service)}{path}", ok=ANY_STATUS,
                           what=f"{method} {service}{path}", **kwargs)
        self.counts[f"{service} {response.status_code // 100}xx"] += 1
        if response.status_code == 200 and response.headers.get("content-type", "").startswith("application/json"):
            try:
                return response.json()
            except ValueError:
                return None
        return None


def start_traffic(urls: Callable[[str], str], ready: Callable[[], bool]) -> Traffic:
    """Shoppers in a thread of their own, sending only while `ready()` says the shop is up."""
    traffic = Traffic(urls, ready)
    traffic.start()
    return traffic
