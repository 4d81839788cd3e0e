variable "cluster_name" {
  description = "Name of the EKS cluster, e.g. techitfactory-dev (must match environments.<env>.cluster.name in pipelines/devops.yaml)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and node group."
  type        = string
  default     = "1.31"
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (two AZs) for the control-plane ENIs and the worker nodes."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "EKS needs subnets in at least two availability zones."
  }
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach the public API endpoint. Empty (the default) disables the public endpoint: the API is then reachable only from inside the VPC."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.public_access_cidrs, "0.0.0.0/0")
    error_message = "public_access_cidrs must not contain 0.0.0.0/0; list the office or VPN ranges."
  }
}

variable "node_groups" {
  description = "Managed node groups by name. protected: the system capacity (Argo CD, the autoscaler, the controllers): tainted CriticalAddonsOnly, never scheduled by `devops cost`, never given Cluster Autoscaler discovery tags. desired_size is used at creation only."
  type = map(object({
    protected      = optional(bool, false)
    instance_types = optional(list(string), ["t3.medium"])
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
  }))

  validation {
    condition     = alltrue([for g in values(var.node_groups) : contains(["ON_DEMAND", "SPOT"], g.capacity_type)])
    error_message = "node_groups: capacity_type must be ON_DEMAND or SPOT."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.min_size >= 0 && g.max_size >= 1])
    error_message = "node_groups: min_size must be 0 or more and max_size 1 or more (EKS refuses a max of 0)."
  }
}

variable "autoscaler" {
  description = "Node autoscaler: none, cluster-autoscaler (discovery tags on the workload node groups, IRSA role) or karpenter (modules/karpenter). Must equal `autoscaler` in gitops/apps/values-<env>.yaml."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "cluster-autoscaler", "karpenter"], var.autoscaler)
    error_message = "autoscaler must be none, cluster-autoscaler or karpenter."
  }
}

variable "node_disk_size" {
  description = "Root volume size of the nodes in GiB."
  type        = number
  default     = 30
}

variable "admin_role_arns" {
  description = "IAM roles (e.g. the IAM Identity Center AdministratorAccess permission-set roles) given cluster-admin through EKS access entries."
  type        = list(string)
  default     = []
}

variable "cluster_log_types" {
  description = "Control-plane log types sent to CloudWatch."
  type        = list(string)
  default     = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
}

variable "log_retention_days" {
  description = "Retention of the control-plane log group."
  type        = number
  default     = 30
}

variable "hosted_zone_arns" {
  description = "Route53 hosted zones external-dns may change records in."
  type        = list(string)
  default     = []
}

variable "cost_schedule" {
  description = "Name of the cost schedule (pipelines/devops.yaml cost.schedules) this cluster follows; null: the cost optimizer's role may not touch it (production)."
  type        = string
  default     = null
}

variable "cost_schedule_tag" {
  description = "Tag key that marks a cluster and its node groups for scheduling (the cost role's IAM conditions test it)."
  type        = string
  default     = "devops.cost.schedule"
}

variable "cost_opt_out_tag" {
  description = "Tag key `devops cost` never touches (pipelines/devops.yaml cost.opt_out_tag); set on protected node groups."
  type        = string
  default     = "devops.cost.opt-out"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
