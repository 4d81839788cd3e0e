"""Fixtures of the services' tests: the API images and a running shop on a Docker network."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.services import dockerkit as dk


@pytest.fixture(scope="session")
def api_images(shop_images: dict[str, str]) -> dk.Images:
    """The product, cart, order and MongoDB stand-in images of the run (tests/support/shop_images.py)."""
    return dk.Images(product=shop_images["product"], cart=shop_images["cart"], order=shop_images["order"],
                     mongo=shop_images["mongo-standin"])


@dataclass
class Stack:
    """A running shop: containers on one network, each API published on 127.0.0.1."""

    network: str
    names: dict[str, str]
    urls: dict[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.urls[service]


def _run(name: str, image: str, network: str, alias: str, env: dict[str, str], port: int | None) -> None:
    args = ["run", "-d", "--name", name, "--network", network, "--network-alias", alias,
            "--label", "devops-test=services"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    if port:
        args += ["-p", f"127.0.0.1::{port}"]
    dk.docker(*args, image)


@pytest.fixture(scope="module")
def api_stack(api_images: dk.Images) -> Iterator[Stack]:
    """mongo (stand-in, hostname `mongo`, 27017), product (seeded), cart, order."""
    run_id = uuid.uuid4().hex[:8]
    network = f"{dk.PREFIX}-net-{run_id}"
    names = {s: f"{dk.PREFIX}-{s}-{run_id}" for s in ("mongo", "product", "cart", "order")}
    dk.docker("network", "create", "--label", "devops-test=services", network)
    stack = Stack(network, names)
    try:
        common = {"MONGODB_URI": "mongodb://mongo:27017/shop", "LOG_LEVEL": "info", "MONGODB_TIMEOUT_MS": "2000"}
        _run(names["mongo"], api_images.mongo, network, "mongo", {}, None)
        _run(names["product"], api_images.product, network, "product", {**common, "SEED_CATALOG": "true"}, 3001)
        _run(names["cart"], api_images.cart, network, "cart",
             {**common, "PRODUCT_SERVICE_URL": "http://product:3001"}, 3002)
        _run(names["order"], api_images.order, network, "order",
             {**common, "CART_SERVICE_URL": "http://cart:3002", "PRODUCT_SERVICE_URL": "http://product:3001"}, 3003)
        for service, port in (("product", 3001), ("cart", 3002), ("order", 3003)):
            stack.urls[service] = f"http://127.0.0.1:{dk.host_port(names[service], port)}"
        for service in ("product", "cart", "order"):
            try:
                dk.wait_http(f"{stack.urls[service]}/ready", 200, timeout=120)
            except TimeoutError as exc:
                # Say why: the last lines of every container of the stack, and its network.
                logs = "\n".join(f"--- {name}\n{dk.docker('logs', '--tail', '15', name, check=False).stdout}"
                                  f"{dk.docker('logs', '--tail', '15', name, check=False).stderr}"
                                  for name in names.values())
                raise TimeoutError(f"{service}: {exc}\n{logs}") from None
        # The catalogue is seeded in the background once the indexes exist.
        dk.wait_http(f"{stack.urls['product']}/products?limit=1", 200, timeout=30)
        yield stack
    finally:
        for name in names.values():
            dk.docker("rm", "-f", "-v", name, check=False)
        dk.docker("network", "rm", network, check=False)
