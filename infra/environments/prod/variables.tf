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

variable "autoscaler" {
  description = "Node autoscaler (docs/platform.md): karpenter in prod. Must equal `autoscaler` in gitops/apps/values-prod.yaml (tests/platform); later given by devops from pipelines/devops.yaml."
  type        = string
  default     = "karpenter"
}

variable "node_groups" {
  description = "Managed node groups. `system` (protected, two nodes for the controllers' replicas): Argo CD, Karpenter and the controllers. Everything else runs on nodes Karpenter launches (gitops/platform/karpenter-nodes). desired_size is used at creation only."
  type = map(object({
    protected      = optional(bool, false)
    instance_types = optional(list(string), ["t3.medium"])
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
  }))
  default = {
    system = { protected = true, min_size = 2, max_size = 3, desired_size = 2 }
  }
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
