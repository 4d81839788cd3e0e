variable "cluster_name" {
  description = "Name of the EKS cluster (part of the Cluster Autoscaler discovery tag)."
  type        = string
}

variable "autoscaler" {
  description = "Node autoscaler of the cluster: none, cluster-autoscaler or karpenter (must equal `autoscaler` in gitops/apps/values-<env>.yaml)."
  type        = string

  validation {
    condition     = contains(["none", "cluster-autoscaler", "karpenter"], var.autoscaler)
    error_message = "autoscaler must be none, cluster-autoscaler or karpenter."
  }
}

variable "node_groups" {
  description = "Managed node groups by name; protected = the system capacity where Argo CD, the autoscaler and the controllers run (never scheduled down, tainted CriticalAddonsOnly)."
  type = map(object({
    protected = bool
  }))

  validation {
    condition     = length([for g in values(var.node_groups) : g if g.protected]) >= 1
    error_message = "At least one node group must be protected: Argo CD and the autoscaler need capacity that the cost schedule never takes away."
  }
}

variable "cost_schedule" {
  description = "Cost schedule of the cluster (pipelines/devops.yaml cost.schedules); null: nothing is scheduled."
  type        = string
  default     = null
}

variable "cost_schedule_tag" {
  description = "Tag key that marks a node group for the cost schedule (the cost role's IAM conditions test it)."
  type        = string
  default     = "devops.cost.schedule"
}

variable "opt_out_tag" {
  description = "Tag key (pipelines/devops.yaml cost.opt_out_tag) that `devops cost` never touches."
  type        = string
  default     = "devops.cost.opt-out"
}
