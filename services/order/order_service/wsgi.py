"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py order_service.wsgi:app`."""

from __future__ import annotations

import json
import sys

from order_service.app import create_app
from order_service.config import Config, ConfigError

try:
    config = Config.from_env()
except ConfigError as exc:
    print(json.dumps({"level": "error", "service": "order", "msg": "bad configuration", "error": str(exc)}),
          file=sys.stderr)
    # 3 is gunicorn's "worker failed to boot": the master stops instead of respawning.
    raise SystemExit(3) from None

app = create_app(config)
