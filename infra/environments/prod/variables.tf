# Given by `devops infra` from pipelines/devops.yaml: environment, region, cluster_name,
# state_bucket, lock_table, state_kms_alias. The rest come from infra.environments.prod.variables.

variable "environment" {
  description = "Environment name; a plan for another environment is refused by devops and by this check."
  type        = string

  validation {
    condition     = var.environment == "prod"
    error_message = "This root is the prod environment."
  }
}

variable "region" {
  description = "AWS region (environments.prod.cluster.region)."
  type        = string
  default     = "ap-south-1"
}

variable "azs" {
  description = "The two availability zones; AZ-A (first) holds the NAT gateway."
  type        = list(string)
  default     = ["ap-south-1a", "ap-south-1b"]
}

variable "cluster_name" {
  description = "EKS cluster name (environments.prod.cluster.name)."
  type        = string
  default     = "techitfactory-prod"
}

variable "nat_gateway_count" {
  description = "2 in prod: one NAT gateway per AZ, so losing AZ-A does not cut the other AZ's egress."
  type        = number
  default     = 2
}

variable "node_min_size" {
  type    = number
  default = 2
}

variable "node_max_size" {
  type    = number
  default = 6
}

variable "node_desired_size" {
  description = "Initial size only (later owned by the cluster autoscaler)."
  type        = number
  default     = 3
}

variable "instance_types" {
  type    = list(string)
  default = ["t3.medium"]
}

variable "kubernetes_version" {
  type    = string
  default = "1.31"
}

variable "public_access_cidrs" {
  description = "Office/VPN ranges allowed on the public API endpoint; empty = private endpoint only."
  type        = list(string)
  default     = []
}

variable "admin_role_arns" {
  description = "IAM Identity Center (SSO) administrator role ARNs given cluster-admin access entries."
  type        = list(string)
  default     = []
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows assume the GitHub roles."
  type        = string
}

variable "create_github_oidc_provider" {
  description = "The account's GitHub OIDC provider is created by dev; prod, in the same account, looks it up (set true when prod has its own account)."
  type        = bool
  default     = false
}

variable "cost_schedule" {
  description = "Production is never scheduled: null leaves the cluster untagged, so the cost role cannot touch it."
  type        = string
  default     = null
}

variable "zone_name" {
  type    = string
  default = "techitfactory.com"
}

variable "domain_name" {
  type    = string
  default = "techitfactory.com"
}

variable "state_bucket" {
  description = "Terraform state bucket (given by devops)."
  type        = string
}

variable "lock_table" {
  description = "Terraform lock table (given by devops)."
  type        = string
}

variable "state_kms_alias" {
  description = "Alias of the state KMS key (given by devops)."
  type        = string
}
