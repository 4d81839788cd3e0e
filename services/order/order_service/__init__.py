"""The order API of the techitfactory shop (Flask, MongoDB through pymongo)."""

from __future__ import annotations

from order_service.app import create_app
from order_service.config import Config

__all__ = ["Config", "create_app"]
