"""The order API against the MongoDB stand-in over the wire (pymongo)."""

from __future__ import annotations

import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests
from bson import ObjectId
from order_service.app import order_id_for
from order_service.config import Config, ConfigError

SHOE = "a" * 24
HAT = "b" * 24


@pytest.fixture
def stocked(shop):
    shop.products[SHOE] = {"id": SHOE, "name": "Shoe", "price": 19.99, "stock": 10, "category": "shoes",
                           "description": "", "imageUrl": ""}
    shop.products[HAT] = {"id": HAT, "name": "Hat", "price": 5.1, "stock": 10, "category": "hats",
                          "description": "", "imageUrl": ""}
    return shop


def post(service, user="alice", body=None, key=None, raw=None, headers=None):
    h = {"X-User-Id": user} if user is not None else {}
    if key is not None:
        h["Idempotency-Key"] = key
    h.update(headers or {})
    if raw is not None:
        h.setdefault("Content-Type", "application/json")
        return requests.post(f"{service.url}/orders", data=raw, headers=h, timeout=10)
    return requests.post(f"{service.url}/api/orders", json=body, headers=h, timeout=10)


def test_health_and_ready(service):
    assert requests.get(f"{service.url}/health", timeout=5).json() == {"status": "ok"}
    r = requests.get(f"{service.url}/ready", timeout=5)
    assert (r.status_code, r.json()) == (200, {"status": "ready"})


def test_place_order_totals_in_cents_and_cart_emptied(service, stocked):
    stocked.add("alice", SHOE, 3)
    stocked.add("alice", HAT, 3)
    r = post(service, body={"shipping": {"name": "Alice", "address": "1 Main St"}})
    assert r.status_code == 201, r.text
    order = r.json()
    assert re.fullmatch(r"[0-9a-f]{24}", order["id"])
    assert order["userId"] == "alice"
    assert order["status"] == "confirmed"
    assert order["total"] == 75.27  # 3 x 19.99 + 3 x 5.10, exact in cents
    lines = [(i["name"], i["quantity"], i["lineTotal"]) for i in order["items"]]
    assert lines == [("Shoe", 3, 59.97), ("Hat", 3, 15.3)]
    assert order["shipping"] == {"name": "Alice", "address": "1 Main St"}
    assert datetime.fromisoformat(order["createdAt"].replace("Z", "+00:00")).tzinfo is not None
    assert order["createdAt"].endswith("Z")
    assert r.headers["Location"] == f"/api/orders/{order['id']}"
    assert stocked.deletes == ["alice"]
    got = requests.get(f"{service.url}/orders/{order['id']}", headers={"X-User-Id": "alice"}, timeout=5)
    assert got.json() == order


def test_list_orders_newest_first_and_only_mine(service, stocked):
    ids = []
    for _ in range(3):
        stocked.add("bob", SHOE, 1)
        ids.append(post(service, user="bob").json()["id"])
    stocked.add("carol", HAT, 1)
    post(service, user="carol")
    r = requests.get(f"{service.url}/api/orders", headers={"X-User-Id": "bob"}, timeout=5)
    assert [o["id"] for o in r.json()["items"]] == list(reversed(ids))


def test_another_users_order_is_404(service, stocked):
    stocked.add("alice", SHOE, 1)
    order = post(service).json()
    r = requests.get(f"{service.url}/orders/{order['id']}", headers={"X-User-Id": "mallory"}, timeout=5)
    assert r.status_code == 404
    assert r.json()["error"]["field"] == "id"
    for bad in ("nope", str(ObjectId())):
        r = requests.get(f"{service.url}/orders/{bad}", headers={"X-User-Id": "alice"}, timeout=5)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")


def test_empty_cart_is_400_naming_cart(service, stocked):
    r = post(service)
    assert r.status_code == 400
    assert r.json() == {"error": {"code": "validation_failed", "message": "the cart is empty", "field": "cart"}}
    assert service.db.orders.count_documents({}) == 0


@pytest.mark.parametrize(
    ("headers_user", "field"),
    [(None, "X-User-Id"), ("", "X-User-Id"), ("a" * 65, "X-User-Id"), ("no spaces", "X-User-Id")],
)
def test_bad_user_header(service, stocked, headers_user, field):
    r = post(service, user=headers_user)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == field
    headers = {} if headers_user is None else {"X-User-Id": headers_user}
    r = requests.get(f"{service.url}/orders", headers=headers, timeout=5)
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shipping": "home"}, "shipping"),
        ({"shipping": {"name": "A"}}, "shipping.address"),
        ({"shipping": {"name": 7, "address": "x"}}, "shipping.name"),
        ({"shipping": {"name": "A", "address": "x" * 501}}, "shipping.address"),
        ({"shipping": {"name": "A" * 201, "address": "x"}}, "shipping.name"),
        ({"shipping": {"name": "A", "address": "x", "phone": "1"}}, "shipping.phone"),
        ({"total": 0.01}, "total"),
        ([1, 2], "body"),
    ],
)
def test_bad_bodies_are_400_naming_the_field_and_write_nothing(service, stocked, body, field):
    stocked.add("alice", SHOE, 1)
    r = post(service, body=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == {"code": "validation_failed", "message": r.json()["error"]["message"], "field": field}
    assert service.db.orders.count_documents({}) == 0
    assert stocked.deletes == []


def test_invalid_json_and_wrong_content_type(service, stocked):
    stocked.add("alice", SHOE, 1)
    r = post(service, raw='{"shipping": ')
    assert r.status_code == 400
    assert r.json()["error"] == {"code": "invalid_json", "message": "the body is not valid JSON", "field": "body"}
    r = post(service, raw="shipping=x", headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.json()["error"]["field"]) == (400, "body")
    r = post(service, raw=json.dumps({"shipping": {"name": "A", "address": "x" * 70000}}))
    assert (r.status_code, r.json()["error"]["field"]) == (413, "body")
    assert service.db.orders.count_documents({}) == 0


@pytest.mark.parametrize("key", ["", "k" * 101, "has space", "tab\tkey"])
def test_bad_idempotency_key(service, stocked, key):
    stocked.add("alice", SHOE, 1)
    r = post(service, key=key)
    assert (r.status_code, r.json()["error"]["field"]) == (400, "Idempotency-Key")


def test_same_idempotency_key_returns_the_first_order(service, stocked):
    stocked.add("alice", SHOE, 2)
    first = post(service, key="checkout-1")
    assert first.status_code == 201
    # The cart is empty now, yet the retry succeeds: it returns the stored order.
    again = post(service, key="checkout-1")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert service.db.orders.count_documents({}) == 1
    # Another user with the same key gets their own order.
    stocked.add("bob", HAT, 1)
    bob = post(service, user="bob", key="checkout-1")
    assert bob.status_code == 201
    assert bob.json()["id"] != first.json()["id"]
    assert service.db.orders.count_documents({}) == 2


def test_concurrent_duplicates_make_one_order(service, stocked):
    # Uniqueness here rests on the order _id derived from (user, key): the stand-in ignores
    # secondary unique indexes, and under concurrency does not always report a duplicate _id,
    # so the service also serialises a key in-process and checks the stored order is its own.
    stocked.add("alice", SHOE, 1)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: post(service, key="double-click"), range(6)))
    assert sorted(r.status_code for r in results) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in results}) == 1
    assert service.db.orders.count_documents({"userId": "alice"}) == 1


def test_order_id_is_derived_from_user_and_key():
    assert order_id_for("a", "k") == order_id_for("a", "k")
    assert order_id_for("a", "k") != order_id_for("b", "k")
    assert order_id_for("a", "k") != order_id_for("a", "k2")


@pytest.mark.reprice
def test_reprices_from_the_product_service(service, stocked):
    stocked.add("alice", SHOE, 2)
    stocked.products[SHOE]["price"] = 21.5  # the price changed since it went into the cart
    r = post(service)
    assert r.status_code == 201
    assert r.json()["total"] == 43.0


@pytest.mark.reprice
def test_product_gone_since_added_is_409(service, stocked):
    stocked.add("alice", SHOE, 1)
    del stocked.products[SHOE]
    r = post(service)
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["field"]) == (409, "conflict", "cart")
    assert service.db.orders.count_documents({}) == 0


@pytest.mark.parametrize(("fault", "status", "code"),
                         [("error", 502, "upstream_failed"), ("hang", 502, "upstream_failed"),
                          ("garbage", 502, "upstream_failed"), ("unavailable", 503, "unavailable")])
def test_cart_service_failing(service, stocked, fault, status, code):
    stocked.add("alice", SHOE, 1)
    stocked.cart_fault = fault
    r = post(service, key="k1")
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    assert service.db.orders.count_documents({}) == 0
    assert stocked.deletes == []


def test_database_gone_mid_request_is_503_and_nothing_written(service, stocked, proxy):
    stocked.add("alice", SHOE, 1)
    # The cart has been read; the database dies before the order is stored.
    stocked.before_cart_answer = proxy.cut
    r = post(service)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "unavailable"
    assert r.headers["Retry-After"] == "5"
    assert requests.get(f"{service.url}/ready", timeout=10).status_code == 503
    stocked.before_cart_answer = None
    proxy.heal()
    assert service.db.orders.count_documents({}) == 0
    assert stocked.deletes == []  # the cart is kept: the customer can retry
    assert stocked.carts["alice"]


def test_connection_cut_as_the_insert_travels(service, stocked, proxy):
    stocked.add("alice", SHOE, 1)
    proxy.cut_on(b"insert")
    r = post(service, key="retry-me")
    assert r.status_code == 503, r.text
    proxy.heal()
    assert service.db.orders.count_documents({}) == 0
    assert stocked.deletes == []
    retried = post(service, key="retry-me")
    assert retried.status_code == 201
    assert service.db.orders.count_documents({}) == 1


def test_request_id_echoed_forwarded_and_logged(service, stocked, caplog):
    stocked.add("alice", SHOE, 1)
    lines: list[dict[str, object]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(vars(record))

    logger = logging.getLogger("order")
    handler = Keep()
    logger.addHandler(handler)
    try:
        r = post(service, headers={"X-Request-Id": "trace-7"})
    finally:
        logger.removeHandler(handler)
    assert r.headers["X-Request-Id"] == "trace-7"
    assert "trace-7" in stocked.request_ids
    line = next(li for li in lines if li.get("request_id") == "trace-7")
    assert (line["method"], line["route"], line["status"]) == ("POST", "/api/orders", 201)
    assert isinstance(line["duration_ms"], float)
    generated = requests.get(f"{service.url}/health", timeout=5).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", generated)


def test_json_log_format():
    from order_service.observability import JsonFormatter

    record = logging.LogRecord("order", logging.INFO, __file__, 1, "request", None, None)
    record.request_id = "r1"
    record.status = 200
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "request"
    assert entry["request_id"] == "r1"
    assert entry["level"] == "info"
    assert entry["service"] == "order"


def test_metrics(service, stocked):
    requests.get(f"{service.url}/orders/nope", headers={"X-User-Id": "a"}, timeout=5)
    text = requests.get(f"{service.url}/metrics", timeout=5).text
    assert re.search(r'http_requests_total\{method="GET",route="/orders/<order_id>",status="404"\} 1\.0', text)
    bucket = 'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/orders/<order_id>",status="404"}'
    assert bucket in text
    assert "process_resident_memory_bytes" in text
    assert "python_info" in text


def test_unknown_route_and_method_are_json(service):
    r = requests.get(f"{service.url}/nope", timeout=5)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = requests.delete(f"{service.url}/orders", headers={"X-User-Id": "a"}, timeout=5)
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_config_from_env():
    c = Config.from_env({"MONGODB_URI": "mongodb://db:27017/shop", "CART_SERVICE_URL": "http://cart:3002/",
                         "PRODUCT_SERVICE_URL": "http://product:3001", "LOG_LEVEL": "DEBUG"})
    got = (c.cart_service_url, c.product_service_url, c.log_level)
    assert got == ("http://cart:3002", "http://product:3001", "debug")
    assert Config.from_env({}).mongodb_uri == "mongodb://localhost:27017/shop"
    with pytest.raises(ConfigError, match="CART_SERVICE_URL"):
        Config.from_env({"CART_SERVICE_URL": "cart:3002"})
    with pytest.raises(ConfigError, match="MONGODB_TIMEOUT_MS"):
        Config.from_env({"MONGODB_TIMEOUT_MS": "soon"})


def test_indexes_created_idempotently(service):
    from order_service.app import create_indexes

    create_indexes(service.db)
    create_indexes(service.db)
    assert "user_created" in service.db.orders.index_information()


def test_lock_is_released_after_failures(service, stocked):
    # A failed keyed request must not leave its key lock held (the next one would hang).
    stocked.cart_fault = "error"
    stocked.add("alice", SHOE, 1)
    assert post(service, key="again").status_code == 502
    stocked.cart_fault = None
    done = threading.Event()
    result = {}

    def go():
        result["r"] = post(service, key="again")
        done.set()

    threading.Thread(target=go, daemon=True).start()
    assert done.wait(10)
    assert result["r"].status_code == 201
