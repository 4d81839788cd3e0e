"""Observability tests: manifests (O1), rules (O2), end to end (O3); fixtures live in each subfolder."""
