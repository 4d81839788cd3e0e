# What each node group is, as tags, labels and taints:
# - protected (system capacity): label techitfactory.com/capacity=system, taint
#   CriticalAddonsOnly (only the controllers that tolerate it run there), the cost opt-out tag and
#   NO schedule tag (the cost role's IAM conditions then refuse to touch it);
# - workload capacity: label techitfactory.com/capacity=workload, the schedule tag when the
#   cluster follows a schedule, and in cluster-autoscaler mode the auto-discovery tags on its
#   Auto Scaling group (what Cluster Autoscaler reads) and on the node group (what `devops cost`
#   and `devops cluster status` read through the EKS API).
locals {
  ca_tags = {
    "k8s.io/cluster-autoscaler/enabled"             = "true"
    "k8s.io/cluster-autoscaler/${var.cluster_name}" = "owned"
  }

  schedule_tags = var.cost_schedule == null ? {} : { (var.cost_schedule_tag) = var.cost_schedule }

  discovery = {
    for name, group in var.node_groups : name => (
      !group.protected && var.autoscaler == "cluster-autoscaler" ? local.ca_tags : {}
    )
  }

  node_group_tags = {
    for name, group in var.node_groups : name => merge(
      group.protected ? { (var.opt_out_tag) = "true" } : local.schedule_tags,
      local.discovery[name],
    )
  }

  labels = {
    for name, group in var.node_groups : name => {
      "techitfactory.com/capacity" = group.protected ? "system" : "workload"
    }
  }

  taints = {
    for name, group in var.node_groups : name => group.protected ? [{
      key    = "CriticalAddonsOnly"
      value  = "true"
      effect = "NO_SCHEDULE"
    }] : []
  }
}
