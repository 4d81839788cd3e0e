output "vpc_id" {
  value = module.vpc.vpc_id
}

output "private_subnet_ids" {
  value = module.vpc.private_subnet_ids
}

output "public_subnet_ids" {
  value = module.vpc.public_subnet_ids
}

output "cluster_name" {
  value = module.eks.cluster_name
}

output "cluster_endpoint" {
  value = module.eks.cluster_endpoint
}

output "irsa_role_arns" {
  description = "IRSA role per controller; `devops cluster values` writes them into gitops/environments/<env>/platform/ (gitops/platform/terraform-outputs.yaml)."
  value = merge(
    module.eks.irsa_role_arns,
    var.autoscaler == "karpenter" ? { karpenter = module.karpenter[0].controller_role_arn } : {},
  )
}

output "region" {
  description = "AWS region of the cluster."
  value       = var.region
}

output "autoscaler" {
  description = "Node autoscaler of this environment (must equal gitops/apps/values-<env>.yaml `autoscaler`)."
  value       = var.autoscaler
}

output "node_groups" {
  description = "Managed node groups: protected or not, and their Auto Scaling groups."
  value       = module.eks.node_groups
}

output "route53_zone_id" {
  description = "Hosted zone external-dns may change (its --zone-id-filter)."
  value       = module.dns.zone_id
}

output "domain_name" {
  description = "Name the environment is served at (external-dns domain filter)."
  value       = module.dns.domain_name
}

output "karpenter" {
  description = "Karpenter's AWS side (null unless autoscaler = karpenter)."
  value = var.autoscaler == "karpenter" ? {
    interruption_queue_name    = module.karpenter[0].interruption_queue_name
    node_instance_profile_name = module.karpenter[0].node_instance_profile_name
    node_role_arn              = module.karpenter[0].node_role_arn
  } : null
}

output "certificate_arn" {
  value = module.dns.certificate_arn
}

output "github_role_arns" {
  description = "Set these as the repository variables AWS_RELEASE_ROLE_ARN_DEV, AWS_COST_ROLE_ARN_DEV and AWS_PLAN_ROLE_ARN_DEV (docs/workflows.md)."
  value = {
    release = module.github_oidc.release_role_arn
    cost    = module.github_oidc.cost_role_arn
    plan    = module.github_oidc.plan_role_arn
  }
}
