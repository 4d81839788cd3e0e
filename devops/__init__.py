"""devops: the delivery tool of the techitfactory e-commerce platform."""

from __future__ import annotations

__version__ = "0.1.0"
