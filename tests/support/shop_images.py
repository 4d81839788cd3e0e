"""The shop's images, built once per test run for every module that runs them.

`services/test_images.py`, `observability/e2e`, `services/test_e2e_shop.py` and
`services/frontend/test_frontend_image.py` all run the same Dockerfiles with the same stand-in
bases: one set of tags serves them all (the demo builds through `devops`, which is what it
tests). The builds run under a machine-wide lock: those modules share one xdist group
(tests/support/scheduling.py), and the lock also covers two runs on one machine.
"""

from __future__ import annotations

from pathlib import Path

from tests.services.dockerkit import build
from tests.support.stack import machine_lock

REPO = Path(__file__).resolve().parents[2]
TAG = "devops-test/{name}:shop"

CONTEXTS: dict[str, Path] = {
    "frontend": REPO / "services" / "frontend",
    "product": REPO / "services" / "product",
    "cart": REPO / "services" / "cart",
    "order": REPO / "services" / "order",
    "mongo-standin": REPO / "tests" / "services" / "mongo-standin",
}


def build_shop_images(standin_args: dict[str, str]) -> dict[str, str]:
    """Build every image of the shop (one after the other: two cores, and each build is mostly
    `npm ci` or `pip install`); return the tag of each, by name."""
    missing = [str(context / "Dockerfile") for context in CONTEXTS.values() if not (context / "Dockerfile").is_file()]
    if missing:
        raise FileNotFoundError(f"the shop images need these Dockerfiles: {', '.join(missing)}")
    tags: dict[str, str] = {}
    with machine_lock("shop-images"):
        for name, context in CONTEXTS.items():
            tags[name] = TAG.format(name=name)
            # Only the stand-in bases the Dockerfile declares (the others would only warn).
            declared = (context / "Dockerfile").read_text()
            build(context, tags[name], {key: value for key, value in standin_args.items() if f"ARG {key}" in declared})
    return tags
