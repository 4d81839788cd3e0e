"""End to end: the whole shop as containers, walked through by a customer in real Chromium.

Builds the five images (frontend, product, cart, order and the MongoDB stand-in) from their
Dockerfiles with the stand-in base images, starts them on one Docker network (`e2e-shop-*`),
and drives headless Chromium (Debian's `chromium`, through Playwright; no browser download)
through the catalogue, the cart and the checkout. Then it checks what the APIs recorded, each
API's /health, /ready and /metrics, and that /ready turns 503 while the database is stopped.

The database is the MongoDB-wire-compatible stand-in (tests/services/mongo-standin): a real
MongoDB cannot be installed here; the services talk to it with their official drivers.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.services.frontend.docker_helpers import (
    Container,
    docker,
    remove,
    run_container,
    suffix,
    wait_http,
)
from tests.support.stack import unavailable

pytestmark = [pytest.mark.docker, pytest.mark.slow]

APIS = {"product": 3001, "cart": 3002, "order": 3003}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SESSION_KEY = "techitfactory.sessionId"


@dataclass
class Shop:
    network: str
    mongo: Container
    apis: dict[str, Container]
    frontend: Container

    @property
    def url(self) -> str:
        return self.frontend.url(80)

    def api(self, service: str, path: str) -> str:
        return self.apis[service].url(APIS[service], path)

    def logs(self) -> str:
        parts = [f"--- {c.name}\n{c.logs()[-2500:]}" for c in (self.mongo, *self.apis.values(), self.frontend)]
        return "\n".join(parts)


@pytest.fixture(scope="module")
def shop(shop_images: dict[str, str]) -> Iterator[Shop]:
    images = shop_images  # built once per run (tests/support/shop_images.py)
    sfx = suffix()
    network = f"e2e-shop-{sfx}"
    names: list[str] = []
    docker("network", "create", "--label", "devops-test=e2e", network)
    try:

        def start(service: str, env: dict[str, str], publish: tuple[int, ...], alias: str) -> Container:
            name = f"e2e-{service}-{sfx}"
            names.append(name)
            return run_container(images[service], name, network=network, aliases=(alias,), env=env, publish=publish)

        mongo_uri = "mongodb://mongo:27017/shop"
        mongo = start("mongo-standin", {"HOST": "0.0.0.0", "PORT": "27017"}, (), "mongo")
        common = {"MONGODB_URI": mongo_uri, "LOG_LEVEL": "info"}
        apis = {
            "product": start("product", common | {"PORT": "3001", "SEED_CATALOG": "true"}, (3001,), "product"),
            "cart": start(
                "cart",
                common | {"PORT": "3002", "PRODUCT_SERVICE_URL": "http://product:3001"},
                (3002,),
                "cart",
            ),
            "order": start(
                "order",
                common
                | {
                    "PORT": "3003",
                    "CART_SERVICE_URL": "http://cart:3002",
                    "PRODUCT_SERVICE_URL": "http://product:3001",
                },
                (3003,),
                "order",
            ),
        }
        frontend = start(
            "frontend",
            {
                "PRODUCT_API_URL": "http://product:3001",
                "CART_API_URL": "http://cart:3002",
                "ORDER_API_URL": "http://order:3003",
            },
            (80,),
            "frontend",
        )
        shop = Shop(network, mongo, apis, frontend)
        try:
            for service, box in apis.items():
                wait_http(shop.api(service, "/ready"), container=box, timeout=90)
            wait_http(f"{shop.url}/health", container=frontend, timeout=30)
            # The catalogue is seeded after start-up; wait until the proxy serves it.
            deadline = time.monotonic() + 60
            while requests.get(f"{shop.url}/api/products", timeout=5).json().get("total", 0) == 0:
                assert time.monotonic() < deadline, "the product service never seeded its catalogue"
                time.sleep(0.5)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{shop.logs()}") from None
        yield shop
    finally:
        remove(*names)
        docker("network", "rm", network, check=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install playwright; the browser is Debian's chromium)")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as pw:
        # Debian's Chromium, never a downloaded one; Playwright adds its own --headless too.
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("E2E_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("e2e-screenshots")


def assert_accessible(page: Any, where: str) -> None:
    """axe-core's WCAG rules in the real browser (colour contrast included, unlike jsdom)."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        unavailable("axe-playwright-python is not installed (pip install axe-playwright-python)")
        return
    results = Axe().run(page, options={"resultTypes": ["violations"], "runOnly": ["wcag2a", "wcag2aa"]})
    found = [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in results.response["violations"]
    ]
    assert not found, f"accessibility violations on {where}: {found}"


def money(text: str) -> float:
    """'$1,234.50' -> 1234.5 (the storefront formats prices as en-US dollars)."""
    return float(re.sub(r"[^0-9.]", "", text))


@pytest.mark.parametrize("service", list(APIS))
def test_each_api_answers_its_probes_and_metrics(shop: Shop, service: str) -> None:
    health = requests.get(shop.api(service, "/health"), headers={"X-Request-Id": "e2e-probe-1"}, timeout=5)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert health.headers.get("X-Request-Id") == "e2e-probe-1"
    ready = requests.get(shop.api(service, "/ready"), timeout=5)
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert ready.headers.get("X-Request-Id")

    metrics = requests.get(shop.api(service, "/metrics"), timeout=5)
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    text = metrics.text
    assert "# TYPE" in text
    assert re.search(r"^process_\w+(\{[^}]*\})? ", text, re.M), "no process metrics"
    # Request counts and latency histograms by route and status.
    assert re.search(r'_bucket\{[^}]*route="[^"]+"[^}]*\}', text), "no latency histogram by route"
    assert re.search(r'status(_code)?="200"', text), "no request metric labelled with the status"


def test_frontend_health(shop: Shop) -> None:
    answer = requests.get(f"{shop.url}/health", timeout=5)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_customer_shops_and_checks_out(shop: Shop, browser: Any, screenshots: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    # The Idempotency-Key of every POST /api/orders the page sends.
    order_posts: list[str | None] = []
    page.on(
        "request",
        lambda r: (
            order_posts.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and "/api/orders" in r.url
            else None
        ),
    )
    try:
        # Homepage -> catalogue.
        page.goto(shop.url)
        page.get_by_role("heading", level=1).filter(has_text="Welcome").wait_for()
        page.get_by_test_id("shop-now").click()
        page.wait_for_url(re.compile(r"/products"))
        page.get_by_test_id("product-grid").wait_for()
        assert_accessible(page, "the catalogue")
        total_products = requests.get(f"{shop.url}/api/products", timeout=5).json()["total"]
        assert page.get_by_test_id("result-count").inner_text().startswith(f"{total_products} product")

        # The category filter narrows the list to that category, and back.
        categories = [
            o
            for o in page.get_by_test_id("category-select").locator("option").all_inner_texts()
            if o != "All categories"
        ]
        assert len(categories) >= 2, categories
        page.get_by_label("Category").select_option(categories[0])
        page.get_by_test_id("result-count").filter(has_text=f"in {categories[0]}").wait_for()
        shown = page.locator("[data-testid=product-card] .category").all_inner_texts()
        assert shown and {c.lower() for c in shown} == {categories[0].lower()}
        page.get_by_label("Category").select_option("")
        page.get_by_test_id("result-count").filter(has_text=f"{total_products} product").wait_for()

        # Add two different products that are in stock.
        cards = page.get_by_test_id("product-card")
        chosen: list[dict[str, Any]] = []
        for i in range(cards.count()):
            card = cards.nth(i)
            if card.get_by_test_id("add-to-cart").is_enabled():
                chosen.append(
                    {
                        "id": card.get_attribute("data-product-id"),
                        "name": card.locator(".product-name").inner_text(),
                        "price": money(card.get_by_test_id("product-price").inner_text()),
                    }
                )
            if len(chosen) == 2:
                break
        assert len(chosen) == 2, "the seeded catalogue has fewer than two products in stock"
        for n, product in enumerate(chosen, start=1):
            page.get_by_role("button", name=f"Add {product['name']} to cart").click()
            page.get_by_test_id("cart-count").filter(has_text=re.compile(rf"^{n}$")).wait_for()

        # A search by name finds the first product.
        page.get_by_label("Search by name").fill(chosen[0]["name"])
        page.get_by_role("button", name="Search", exact=True).click()
        page.get_by_test_id("result-count").filter(has_text=f"matching “{chosen[0]['name']}”").wait_for()
        found = page.locator("[data-testid=product-card] .product-name").all_inner_texts()
        assert chosen[0]["name"] in found and chosen[1]["name"] not in found, found

        # Cart: both items; raise the first one's quantity to 2.
        page.get_by_role("link", name=re.compile(r"^Cart")).click()
        page.get_by_test_id("cart-item").nth(1).wait_for()
        assert page.get_by_test_id("cart-item").count() == 2
        page.get_by_role("button", name=f"Increase quantity of {chosen[0]['name']}").click()
        page.get_by_test_id("cart-count").filter(has_text=re.compile(r"^3$")).wait_for()
        expected = round(chosen[0]["price"] * 2 + chosen[1]["price"], 2)
        page.get_by_test_id("cart-total").filter(has_text=f"{expected:,.2f}").wait_for()
        assert page.get_by_label(f"Quantity of {chosen[0]['name']}", exact=True).input_value() == "2"
        assert_accessible(page, "the cart")

        # Checkout: shipping details, then a double click on "Place order".
        page.get_by_test_id("go-to-checkout").click()
        page.get_by_label("Full name").wait_for()
        assert_accessible(page, "the checkout")
        page.get_by_label("Full name").fill("Ada Lovelace")
        page.get_by_label("Address").fill("12 Analytical Row, London")
        page.get_by_test_id("place-order").dblclick()
        page.get_by_test_id("order-confirmation").wait_for()
        order_id = page.get_by_test_id("order-id").inner_text().strip()
        assert re.fullmatch(r"[0-9a-f]{24}", order_id), order_id
        assert money(page.get_by_test_id("order-total").inner_text()) == pytest.approx(expected)
        assert page.get_by_test_id("cart-count").inner_text() == "0"
        assert_accessible(page, "the order confirmation")
        page.screenshot(path=str(screenshots / "order-confirmation.png"), full_page=True)

        # What the APIs recorded for this browser's session: exactly one order, the cart emptied.
        user = page.evaluate(f"window.localStorage.getItem('{SESSION_KEY}')")
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", user or "")
        headers = {"X-User-Id": user}
        orders = requests.get(shop.api("order", "/orders"), headers=headers, timeout=5).json()["items"]
        assert [o["id"] for o in orders] == [order_id], f"double click made {len(orders)} orders"
        # However many POSTs the double click produced, they all carried one key.
        assert order_posts and len(set(order_posts)) == 1 and order_posts[0], order_posts
        order = orders[0]
        assert order["status"] == "confirmed" and order["total"] == pytest.approx(expected)
        assert {i["productId"]: i["quantity"] for i in order["items"]} == {
            chosen[0]["id"]: 2,
            chosen[1]["id"]: 1,
        }
        cart = requests.get(shop.api("cart", "/cart"), headers=headers, timeout=5).json()
        assert cart["items"] == []

        # The confirmation survives a reload (fetched by id through the proxy), and the order is
        # the only one on the "Orders" page.
        page.reload()
        page.get_by_test_id("order-id").filter(has_text=order_id).wait_for()
        page.get_by_role("link", name="Orders", exact=True).click()
        page.get_by_test_id("order-row").first.wait_for()
        assert page.get_by_test_id("order-row").all_inner_texts()[0].startswith(order_id)
        assert page.get_by_test_id("order-row").count() == 1
    except Exception:
        page.screenshot(path=str(screenshots / "failure.png"), full_page=True)
        raise
    finally:
        context.close()


def test_idempotency_key_through_the_proxy(shop: Shop) -> None:
    headers = {"X-User-Id": f"e2e_{suffix()}"}
    product = requests.get(f"{shop.url}/api/products?limit=50", timeout=5).json()["items"]
    in_stock = next(p for p in product if p["stock"] > 0)
    added = requests.post(
        f"{shop.url}/api/cart", json={"productId": in_stock["id"], "quantity": 1}, headers=headers, timeout=10
    )
    assert added.status_code == 201, added.text
    key = {"Idempotency-Key": f"key-{suffix()}"}
    first = requests.post(
        f"{shop.url}/api/orders",
        json={"shipping": {"name": "A", "address": "B"}},
        headers=headers | key,
        timeout=10,
    )
    again = requests.post(
        f"{shop.url}/api/orders",
        json={"shipping": {"name": "A", "address": "B"}},
        headers=headers | key,
        timeout=10,
    )
    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    listed = requests.get(f"{shop.url}/api/orders", headers=headers, timeout=5).json()["items"]
    assert len(listed) == 1


def test_ready_turns_503_while_the_database_is_stopped(shop: Shop, browser: Any, screenshots: Path) -> None:
    """Last in the module: it stops and restarts the database container."""
    docker("stop", "-t", "2", shop.mongo.name)
    try:
        for service in APIS:
            answer = wait_http(shop.api(service, "/ready"), status=503, timeout=45, container=shop.apis[service])
            assert answer.json() == {"status": "not ready"}
            # Liveness does not depend on the database: Kubernetes must not restart the pod.
            assert requests.get(shop.api(service, "/health"), timeout=5).json() == {"status": "ok"}
        # A shopper sees an error state, not a blank page.
        page = browser.new_page()
        try:
            page.set_default_timeout(30_000)
            page.goto(f"{shop.url}/products")
            alert = page.get_by_test_id("error")
            alert.wait_for()
            assert "unavailable" in alert.inner_text() or "Please try again" in alert.inner_text()
            page.screenshot(path=str(screenshots / "database-down.png"))
        finally:
            page.close()
    finally:
        docker("start", shop.mongo.name)
    for service in APIS:
        assert wait_http(shop.api(service, "/ready"), timeout=90, container=shop.apis[service]).json() == {
            "status": "ready"
        }
