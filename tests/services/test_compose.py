"""docker-compose.yml (the whole shop for users who can pull images) agrees with the
services: build contexts, ports, the URLs each service is given, and the variables the
frontend's nginx entrypoint reads. (Docker Hub cannot be pulled here, so compose is not run.)"""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return YAML(typ="safe").load((REPO / "docker-compose.yml").read_text())


def _pipeline_ports() -> dict[str, int]:
    services = YAML(typ="safe").load((REPO / "pipelines" / "devops.yaml").read_text())["services"]
    return {name: int(s["port"]) for name, s in services.items()}


def test_every_service_builds_from_its_folder_with_a_dockerfile():
    services = _compose()["services"]
    assert set(services) == {"mongo", "product", "cart", "order", "frontend"}
    assert services["mongo"]["image"].startswith("mongo:")
    for name in ("product", "cart", "order", "frontend"):
        context = REPO / services[name]["build"]
        assert context == REPO / "services" / name
        assert (context / "Dockerfile").is_file() or name == "frontend"


def test_ports_and_urls_match_the_pipeline_config():
    services = _compose()["services"]
    ports = _pipeline_ports()
    for name in ("product", "cart", "order"):
        env = services[name]["environment"]
        assert int(env["PORT"]) == ports[name]
        assert env["MONGODB_URI"] == "mongodb://mongo:27017/shop"
        assert any(p.endswith(f":{ports[name]}") for p in services[name]["ports"])
    assert services["cart"]["environment"]["PRODUCT_SERVICE_URL"] == f"http://product:{ports['product']}"
    assert services["order"]["environment"]["CART_SERVICE_URL"] == f"http://cart:{ports['cart']}"
    assert services["frontend"]["ports"][0].endswith(":80")
    assert services["product"]["environment"]["SEED_CATALOG"] == "true"


def test_frontend_upstreams_are_the_variables_its_nginx_reads():
    env = _compose()["services"]["frontend"]["environment"]
    ports = _pipeline_ports()
    assert env == {
        "PRODUCT_API_URL": f"http://product:{ports['product']}",
        "CART_API_URL": f"http://cart:{ports['cart']}",
        "ORDER_API_URL": f"http://order:{ports['order']}",
    }
    entrypoint = REPO / "services" / "frontend" / "nginx" / "entrypoint.sh"
    if entrypoint.is_file():  # written by the frontend's engineer
        text = entrypoint.read_text()
        for variable in env:
            assert re.search(rf"\b{variable}\b", text), variable
