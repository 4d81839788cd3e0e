terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  # No provider on purpose: this module only computes tags, labels and taints, so tests run it
  # with the real Terraform where the AWS provider cannot be downloaded (tests/platform).
}
