"""Observability as code: the SLO queries shared by the alert rules and `devops verify`."""
