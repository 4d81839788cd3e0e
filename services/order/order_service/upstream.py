"""Calls to the cart and product services (timeouts, no retries: the caller can retry with
its Idempotency-Key). Failures become ApiError: 502 upstream_failed, or 503 when the other
service says its database is gone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from order_service.errors import ApiError


@dataclass(frozen=True)
class CartLine:
    """One cart line as the cart service reports it (price in integer cents)."""

    id: str
    product_id: str
    name: str
    price_cents: int
    quantity: int


def _fail(what: str, response: requests.Response | None = None, exc: Exception | None = None) -> ApiError:
    if response is not None and response.status_code == 503:
        return ApiError(503, "unavailable", f"{what} is unavailable, try again later")
    detail = f"answered {response.status_code}" if response is not None else f"unreachable ({type(exc).__name__})"
    return ApiError(502, "upstream_failed", f"{what} {detail}")


def _cents(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    cents = round(value * 100)
    return cents if abs(cents - value * 100) < 1e-6 else None


class Upstreams:
    """HTTP clients of the cart and product services sharing one pooled session."""

    def __init__(self, cart_url: str, product_url: str | None, timeout_ms: int) -> None:
        self.cart_url = cart_url
        self.product_url = product_url
        self.timeout = timeout_ms / 1000
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _headers(self, user_id: str, request_id: str) -> dict[str, str]:
        return {"X-User-Id": user_id, "X-Request-Id": request_id, "Accept": "application/json"}

    def cart(self, user_id: str, request_id: str) -> list[CartLine]:
        """The caller's cart lines; raises ApiError when the cart service fails or lies."""
        try:
            r = self.session.get(
                f"{self.cart_url}/cart", headers=self._headers(user_id, request_id), timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise _fail("cart service", exc=exc) from None
        if r.status_code != 200:
            raise _fail("cart service", r)
        try:
            body = r.json()
            lines = []
            for item in body["items"]:
                cents = _cents(item["price"])
                qty = item["quantity"]
                if (
                    cents is None
                    or isinstance(qty, bool)
                    or not isinstance(qty, int)
                    or not 1 <= qty <= 99
                    or not isinstance(item["productId"], str)
                    or not isinstance(item["name"], str)
                    or not isinstance(item["id"], str)
                ):
                    raise ValueError(item)
                lines.append(CartLine(item["id"], item["productId"], item["name"], cents, qty))
        except (ValueError, KeyError, TypeError):
            raise ApiError(502, "upstream_failed", "cart service sent an unexpected cart") from None
        return lines

    def price(self, product_id: str, request_id: str) -> tuple[str, int] | None:
        """(name, price in cents) from the product service, None when the product is gone."""
        assert self.product_url is not None
        try:
            r = self.session.get(
                f"{self.product_url}/products/{product_id}",
                headers={"X-Request-Id": request_id, "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise _fail("product service", exc=exc) from None
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise _fail("product service", r)
        try:
            body = r.json()
            cents = _cents(body["price"])
            if cents is None or not isinstance(body["name"], str):
                raise ValueError(body)
        except (ValueError, KeyError, TypeError):
            raise ApiError(502, "upstream_failed", "product service sent an unexpected product") from None
        return body["name"], cents

    def clear_cart(self, user_id: str, request_id: str, attempts: int = 3) -> bool:
        """Empty the caller's cart (DELETE /cart is idempotent, so retrying is safe)."""
        for _ in range(attempts):
            try:
                r = self.session.delete(
                    f"{self.cart_url}/cart", headers=self._headers(user_id, request_id), timeout=self.timeout
                )
                if r.status_code in (200, 204):
                    return True
            except requests.RequestException:
                pass
        return False
