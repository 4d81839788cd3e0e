"""The only modules that touch the outside world: one per system, typed results, specific errors."""
