"""The wiring: the one place that reads the environment (`settings.RuntimeSettings`, once per
run) and builds adapters from the configuration, one module per area."""
