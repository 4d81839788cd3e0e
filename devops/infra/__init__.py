"""Terraform workflow of `devops infra`: backend generation, plan summary, cost, safe apply."""
