output "node_group_tags" {
  description = "Tags per node group (on the EKS node group resource)."
  value       = local.node_group_tags
}

output "asg_tags" {
  description = "Tags per node group to put on its Auto Scaling group (Cluster Autoscaler discovers ASGs by these)."
  value       = local.discovery
}

output "labels" {
  description = "Kubernetes node labels per node group."
  value       = local.labels
}

output "taints" {
  description = "Kubernetes node taints per node group (EKS taint objects)."
  value       = local.taints
}

output "protected" {
  description = "Names of the protected node groups."
  value       = sort([for name, group in var.node_groups : name if group.protected])
}
