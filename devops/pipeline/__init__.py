"""The delivery steps. Each takes settings and adapters and returns dataclasses; no I/O of its own."""
