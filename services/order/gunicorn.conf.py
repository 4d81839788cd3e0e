"""gunicorn settings (overridable with GUNICORN_CMD_ARGS or the variables below).

One worker process with threads: prometheus_client then needs no multiprocess mode, and the
service scales by replicas (Kubernetes HPA), not by forking inside the container.
"""

from __future__ import annotations

import json
import os
import sys

# The `gunicorn` console script does not put the working directory on sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from order_service.config import Config, ConfigError  # noqa: E402

# Check the configuration in the master: a bad variable stops the server at once (exit 2)
# instead of workers failing to boot in a loop.
try:
    Config.from_env()
except ConfigError as exc:
    print(json.dumps({"level": "error", "service": "order", "msg": "bad configuration", "error": str(exc)}),
          file=sys.stderr)
    sys.exit(2)

bind = f"0.0.0.0:{os.environ.get('PORT', '3003')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30
# SIGTERM: stop accepting, let in-flight requests finish for up to this long.
graceful_timeout = int(os.environ.get("SHUTDOWN_TIMEOUT_S", "20"))
keepalive = 65  # longer than the ALB's 60 s idle timeout
# Long URLs reach the app, which answers in the JSON error shape (gunicorn would send HTML).
limit_request_line = 8190
accesslog = None  # the app logs each request as JSON with its request id
# No runtime control socket: nothing in the container should reconfigure the server.
control_socket_disable = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "order_service.observability.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": ["stdout"], "propagate": False},
    },
}


def worker_exit(server, worker):  # noqa: ANN001 - gunicorn hook signature
    """Close the DB client when the worker stops (after in-flight requests finished)."""
    from order_service.app import close
    from order_service.wsgi import app

    close(app)
