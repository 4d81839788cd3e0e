"""Output: console (rich), GitHub Actions (annotations, summary, outputs), JSON, SARIF."""
