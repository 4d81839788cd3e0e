terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.81.0, < 6.0.0"
    }
  }

  # Empty on purpose: `devops infra bootstrap` runs this root on local state first (through
  # an override file) and then moves the state into the bucket it created, with the backend
  # configuration generated from pipelines/devops.yaml.
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project    = var.project
      managed-by = "terraform"
      component  = "terraform-state"
    }
  }
}
