"""The order API (docs/services-api.md, "order").

POST /orders reads the caller's cart from the cart service, re-prices it in integer cents,
stores the order and then empties the cart. With an Idempotency-Key the order's `_id` is
derived from (user, key): MongoDB's primary key makes a second order for the same key
impossible, on any MongoDB and on the test stand-in alike (which ignores secondary unique
indexes), and a retried POST returns the first order with 200.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from flask import Blueprint, Flask, Response, g, jsonify, request
from pymongo import DESCENDING, MongoClient
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ExecutionTimeout, PyMongoError
from werkzeug.exceptions import HTTPException

from order_service.config import Config
from order_service.errors import ApiError, bad_input
from order_service.observability import Metrics, configure_logging, exposition
from order_service.upstream import CartLine, Upstreams

USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}")
OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
MAX_BODY = 64 * 1024

# Striped locks: two requests with the same (user, key) in this process run one after the
# other, so the second sees the first's order. Across replicas the primary key decides.
_KEY_LOCKS = [threading.Lock() for _ in range(64)]


def order_id_for(user_id: str, key: str) -> ObjectId:
    """The order id of (user, Idempotency-Key): the same key from the same user, the same id."""
    return ObjectId(hashlib.sha256(f"order\0{user_id}\0{key}".encode()).digest()[:12])


def _now_ms() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _money(cents: int) -> float:
    return cents / 100


def to_order(doc: dict[str, Any]) -> dict[str, Any]:
    """Order document -> the contract's `Order`."""
    created: datetime = doc["createdAt"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return {
        "id": str(doc["_id"]),
        "userId": doc["userId"],
        "items": [
            {
                "id": i["id"],
                "productId": i["productId"],
                "name": i["name"],
                "price": _money(i["priceCents"]),
                "quantity": i["quantity"],
                "lineTotal": _money(i["priceCents"] * i["quantity"]),
            }
            for i in doc["items"]
        ],
        "total": _money(doc["totalCents"]),
        "status": doc["status"],
        "createdAt": created.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "shipping": doc.get("shipping"),
    }


def _user() -> str:
    user = request.headers.get("X-User-Id")
    if user is None:
        raise bad_input("the X-User-Id header is required", "X-User-Id")
    if not USER_ID.fullmatch(user):
        raise bad_input("X-User-Id must be 1-64 characters [A-Za-z0-9_-]", "X-User-Id")
    return user


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise bad_input("Idempotency-Key must be 1-100 visible ASCII characters", "Idempotency-Key")
    return key


def _body() -> dict[str, Any]:
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise bad_input("send a JSON object with Content-Type: application/json", "body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "the body is not valid JSON", "body") from None
    if not isinstance(body, dict):
        raise bad_input("the body must be a JSON object", "body")
    return body


def _shipping(body: dict[str, Any]) -> dict[str, str] | None:
    for key in body:
        if key != "shipping":
            raise bad_input(f'unknown field "{key[:50]}"', key[:50])
    shipping = body.get("shipping")
    if shipping is None:
        return None
    if not isinstance(shipping, dict):
        raise bad_input("shipping must be an object", "shipping")
    out: dict[str, str] = {}
    for key in shipping:
        if key not in ("name", "address"):
            raise bad_input(f'unknown field "shipping.{key[:40]}"', f"shipping.{key[:40]}")
    for key, limit in (("name", 200), ("address", 500)):
        value = shipping.get(key)
        field = f"shipping.{key}"
        if not isinstance(value, str):
            raise bad_input(f"{field} must be a string", field)
        value = value.strip()
        if not value:
            raise bad_input(f"{field} must not be empty", field)
        if len(value) > limit:
            raise bad_input(f"{field} must be at most {limit} characters", field)
        out[key] = value
    return out


def create_indexes(db: Database[dict[str, Any]]) -> None:
    """Indexes the queries use (create_index with the same spec is a no-op)."""
    db.orders.create_index([("userId", 1), ("createdAt", DESCENDING)], name="user_created")


def create_app(config: Config | None = None, *, metrics: Metrics | None = None) -> Flask:
    """Build the Flask app; the Mongo client connects lazily (safe to build before forking)."""
    config = config or Config.from_env()
    log = configure_logging(config.log_level)
    metrics = metrics or Metrics()
    client: MongoClient[dict[str, Any]] = MongoClient(
        config.mongodb_uri,
        serverSelectionTimeoutMS=config.db_timeout_ms,
        connectTimeoutMS=config.db_timeout_ms,
        socketTimeoutMS=config.db_timeout_ms,
        appname="order",
        connect=False,
    )
    db = client.get_default_database(default="shop")
    upstreams = Upstreams(config.cart_service_url, config.product_service_url, config.upstream_timeout_ms)

    app = Flask("order_service")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["mongo"] = client
    app.extensions["order_db"] = db
    app.extensions["upstreams"] = upstreams

    stop = threading.Event()
    app.extensions["stop_index_thread"] = stop

    def ensure_indexes() -> None:
        # Retried in the background so the service starts (and answers /health) without its DB.
        while not stop.is_set():
            try:
                create_indexes(db)
                log.info("indexes ensured")
                return
            except PyMongoError as exc:
                log.warning("index creation failed, retrying", extra={"error": str(exc)[:200]})
                stop.wait(2)

    threading.Thread(target=ensure_indexes, name="ensure-indexes", daemon=True).start()

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())

    @app.after_request
    def _finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        started = getattr(g, "started", time.perf_counter())
        seconds = metrics.observe(request.method, route, response.status_code, started)
        response.headers["X-Request-Id"] = getattr(g, "request_id", "")
        fields = {
            "request_id": getattr(g, "request_id", None),
            "method": request.method,
            "route": route,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
        }
        if getattr(g, "error_detail", None):
            fields["error"] = g.error_detail
        if response.status_code >= 500:
            log.error("request", extra=fields)
        elif route in ("/health", "/ready", "/metrics"):
            log.debug("request", extra=fields)
        else:
            log.info("request", extra=fields)
        return response

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Response, int]:
        if exc.status >= 500:
            g.error_detail = exc.message
        response = jsonify(exc.body())
        if exc.status == 503:
            response.headers["Retry-After"] = "5"
        return response, exc.status

    @app.errorhandler(ConnectionFailure)
    @app.errorhandler(ExecutionTimeout)
    def _db_down(exc: PyMongoError) -> tuple[Response, int]:
        g.error_detail = str(exc)[:300]
        return _api_error(ApiError(503, "unavailable", "the database is unavailable, try again later"))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        if status == 413:
            return _api_error(ApiError(413, "validation_failed", "the body is larger than 64 kB", "body"))
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "bad_request")
        message = f"no route {request.method} {request.path}" if status in (404, 405) else exc.description
        return jsonify({"error": {"code": code, "message": message, "field": None}}), status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.error("unhandled error", exc_info=exc, extra={"request_id": getattr(g, "request_id", None)})
        g.error_detail = str(exc)[:300]
        return jsonify({"error": {"code": "internal_error", "message": "internal error", "field": None}}), 500

    probes = Blueprint("probes", __name__)

    @probes.get("/health")
    def health() -> Response:
        return jsonify(status="ok")

    @probes.get("/ready")
    def ready() -> tuple[Response, int]:
        try:
            client.admin.command("ping")
        except PyMongoError as exc:
            g.error_detail = str(exc)[:200]
            return jsonify(status="not ready"), 503
        return jsonify(status="ready"), 200

    @probes.get("/metrics")
    def prometheus() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(exposition(metrics), mimetype=None, content_type=CONTENT_TYPE_LATEST)

    app.register_blueprint(probes)

    api = Blueprint("orders", __name__)

    def price_lines(lines: list[CartLine]) -> list[dict[str, Any]]:
        items = []
        for line in lines:
            name, cents = line.name, line.price_cents
            if upstreams.product_url:
                current = upstreams.price(line.product_id, g.request_id)
                if current is None:
                    raise ApiError(409, "conflict", f"product {line.product_id} is no longer sold", "cart")
                name, cents = current
            items.append(
                {"id": line.id, "productId": line.product_id, "name": name,
                 "priceCents": cents, "quantity": line.quantity}
            )
        return items

    def place(user: str, key: str | None, shipping: dict[str, str] | None) -> tuple[dict[str, Any], bool]:
        """Returns (order document, created?)."""
        order_id = order_id_for(user, key) if key else ObjectId()
        if key:
            existing = db.orders.find_one({"_id": order_id})
            if existing is not None:
                return existing, False
        lines = upstreams.cart(user, g.request_id)
        if not lines:
            raise bad_input("the cart is empty", "cart")
        items = price_lines(lines)
        doc: dict[str, Any] = {
            "_id": order_id,
            "userId": user,
            "items": items,
            "totalCents": sum(i["priceCents"] * i["quantity"] for i in items),
            "status": "confirmed",
            # MongoDB keeps milliseconds: truncate now so the answer equals what is stored.
            "createdAt": _now_ms(),
            "shipping": shipping,
            "idempotencyKey": key,
            "nonce": uuid.uuid4().hex,
        }
        try:
            db.orders.insert_one(doc)
        except DuplicateKeyError:
            stored = db.orders.find_one({"_id": order_id})
            if stored is None:
                raise
            return stored, False
        if key:
            # The stand-in does not always report a duplicate _id under concurrency: check
            # that the stored order is ours before calling it new.
            stored = db.orders.find_one({"_id": order_id})
            if stored is not None and stored.get("nonce") != doc["nonce"]:
                return stored, False
        return doc, True

    @api.post("/orders")
    def create_order() -> tuple[Response, int]:
        user = _user()
        key = _idempotency_key()
        shipping = _shipping(_body())
        if key:
            with _KEY_LOCKS[hash((user, key)) % len(_KEY_LOCKS)]:
                doc, created = place(user, key, shipping)
        else:
            doc, created = place(user, key, shipping)
        if created and not upstreams.clear_cart(user, g.request_id):
            # The order is stored and is the source of truth; a client retry with the same
            # Idempotency-Key returns it. The stale cart is logged for follow-up.
            log.warning("order placed but the cart was not emptied",
                        extra={"request_id": g.request_id, "order_id": str(doc["_id"]), "user_id": user})
        response = jsonify(to_order(doc))
        if created:
            response.headers["Location"] = f"{request.path}/{doc['_id']}"
        return response, 201 if created else 200

    @api.get("/orders")
    def list_orders() -> Response:
        user = _user()
        docs = db.orders.find({"userId": user}).sort([("createdAt", DESCENDING), ("_id", DESCENDING)]).limit(100)
        return jsonify(items=[to_order(d) for d in docs])

    @api.get("/orders/<order_id>")
    def get_order(order_id: str) -> Response:
        user = _user()
        if not OBJECT_ID.fullmatch(order_id):
            raise ApiError(404, "not_found", f"no order {order_id[:40]}", "id")
        doc = db.orders.find_one({"_id": ObjectId(order_id), "userId": user})
        if doc is None:
            # Another user's order is 404 too: its existence is not the caller's business.
            raise ApiError(404, "not_found", f"no order {order_id}", "id")
        return jsonify(to_order(doc))

    app.register_blueprint(api)
    app.register_blueprint(api, name="api_orders", url_prefix="/api")
    return app


def close(app: Flask) -> None:
    """Stop the background work and close the DB client (gunicorn's worker_exit hook)."""
    app.extensions["stop_index_thread"].set()
    app.extensions["mongo"].close()
    app.extensions["upstreams"].session.close()
