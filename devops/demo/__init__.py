"""`devops demo`: the whole delivery on one machine with nothing configured (docs/demo.md)."""
