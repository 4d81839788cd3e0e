variable "github_repository" {
  description = "The repository whose workflows may assume the roles, as owner/name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, e.g. techitfactory/techitfactory-shop (no wildcards)."
  }
}

variable "environment" {
  description = "Environment these roles serve (dev or prod); also the GitHub deployment environment allowed to assume the release role."
  type        = string
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (one per account: true in exactly one root)."
  type        = bool
  default     = true
}

variable "release_branches" {
  description = "Branches whose workflows may assume the release role (besides the GitHub environment)."
  type        = list(string)
  default     = ["main"]
}

variable "plan_branches" {
  description = "Branches whose workflows may assume the Terraform plan role; pull requests may always assume it."
  type        = list(string)
  default     = ["main"]
}

variable "cost_branches" {
  description = "Branches whose (scheduled) workflows may assume the cost optimizer role."
  type        = list(string)
  default     = ["main"]
}

variable "cluster_name" {
  description = "EKS cluster of this environment (the release role may describe it)."
  type        = string
}

variable "cost_schedule_tag" {
  description = "Tag key marking clusters and node groups the cost optimizer may scale."
  type        = string
  default     = "devops.cost.schedule"
}

variable "cost_tag_prefixes" {
  description = "Tag key prefixes the cost optimizer may write on a scheduled cluster (its saved sizes and holds)."
  type        = list(string)
  default     = ["devops.cost/", "devops.cost.hold/"]
}

variable "state_bucket_arn" {
  description = "ARN of the Terraform state bucket (the plan role reads state and writes locks)."
  type        = string
}

variable "lock_table_arn" {
  description = "ARN of the Terraform lock table."
  type        = string
}

variable "state_kms_key_arn" {
  description = "ARN of the KMS key of state and locks."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
