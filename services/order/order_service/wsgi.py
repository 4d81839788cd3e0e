"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py order_service.wsgi:app`."""

from __future__ import annotations

import sys

from order_service.app import create_app
from order_service.config import Config, ConfigError

try:
    config = Config.from_env()
except ConfigError as exc:
    print(f'{{"level": "error", "service": "order", "msg": "bad configuration", "error": "{exc}"}}', file=sys.stderr)
    raise SystemExit(2) from None

app = create_app(config)
