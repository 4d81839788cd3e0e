variable "region" {
  description = "Region of the state bucket, lock table and KMS key."
  type        = string
  default     = "ap-south-1"
}

variable "project" {
  description = "Project name, used in tags."
  type        = string
  default     = "techitfactory-shop"
}

variable "state_bucket" {
  description = "Name of the S3 bucket that holds every Terraform state of the project (from infra.state.bucket)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "state_bucket must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)."
  }
}

variable "lock_table" {
  description = "Name of the DynamoDB table Terraform uses for state locking (from infra.state.lock_table)."
  type        = string
}

variable "kms_alias" {
  description = "Alias of the KMS key that encrypts state and locks, e.g. alias/techitfactory-shop-tfstate."
  type        = string

  validation {
    condition     = startswith(var.kms_alias, "alias/")
    error_message = "kms_alias must start with \"alias/\"."
  }
}

variable "noncurrent_version_days" {
  description = "Days old state versions are kept (they are how a broken state is rolled back)."
  type        = number
  default     = 90
}
