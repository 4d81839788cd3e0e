# Given by `devops infra` from pipelines/devops.yaml: environment, region, cluster_name,
# state_bucket, lock_table, state_kms_alias. The rest come from infra.environments.dev.variables.

variable "environment" {
  description = "Environment name; a plan for another environment is refused by devops and by this check."
  type        = string

  validation {
    condition     = var.environment == "dev"
    error_message = "This root is the dev environment."
  }
}

variable "region" {
  description = "AWS region (environments.dev.cluster.region)."
  type        = string
  default     = "ap-south-1"
}

variable "azs" {
  description = "The two availability zones; AZ-A (first) holds the NAT gateway."
  type        = list(string)
  default     = ["ap-south-1a", "ap-south-1b"]
}

variable "cluster_name" {
  description = "EKS cluster name (environments.dev.cluster.name)."
  type        = string
  default     = "techitfactory-dev"
}

variable "nat_gateway_count" {
  description = "1 in dev: a single NAT gateway in AZ-A (about 33 USD/month saved; egress stops if AZ-A fails)."
  type        = number
  default     = 1
}

variable "autoscaler" {
  description = "Node autoscaler (docs/platform.md): cluster-autoscaler in dev. Must equal `autoscaler` in gitops/apps/values-dev.yaml (tests/platform); later given by devops from pipelines/devops.yaml."
  type        = string
  default     = "cluster-autoscaler"
}

variable "node_groups" {
  description = "Managed node groups. `system` (protected): Argo CD, Cluster Autoscaler and the controllers, up at night. `general`: the shop and monitoring, scaled by Cluster Autoscaler and set to zero off-hours by `devops cost`. desired_size is used at creation only."
  type = map(object({
    protected      = optional(bool, false)
    instance_types = optional(list(string), ["t3.medium"])
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
  }))
  default = {
    system  = { protected = true, min_size = 1, max_size = 2, desired_size = 1 }
    general = { min_size = 1, max_size = 3, desired_size = 1 }
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
  description = "The account's GitHub OIDC provider is created by dev (prod, in the same account, looks it up)."
  type        = bool
  default     = true
}

variable "cost_schedule" {
  description = "Cost schedule of this cluster (pipelines/devops.yaml cost.schedules)."
  type        = string
  default     = "office-hours"
}

variable "zone_name" {
  type    = string
  default = "techitfactory.com"
}

variable "domain_name" {
  type    = string
  default = "dev.techitfactory.com"
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
