"""Cost optimizer: schedules (time windows in IANA zones), reconcile of EKS node groups, and
the savings report. See docs/cost.md."""
