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

variable "instance_types" {
  description = "Instance types of the managed node group (the first one is used for cost estimates)."
  type        = list(string)
  default     = ["t3.medium"]
}

variable "capacity_type" {
  description = "ON_DEMAND or SPOT."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.capacity_type)
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "node_min_size" {
  description = "Lower autoscaling bound of the node group. The cost optimizer may scale to 0 off-hours regardless (it changes the bounds itself and restores them)."
  type        = number
  default     = 1
}

variable "node_max_size" {
  description = "Upper autoscaling bound of the node group."
  type        = number
  default     = 3
}

variable "node_desired_size" {
  description = "Desired size at creation only: later changes are ignored (the cluster autoscaler and the cost optimizer own it)."
  type        = number
  default     = 2

  validation {
    condition     = var.node_desired_size >= 0
    error_message = "node_desired_size must be 0 or more."
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

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
