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
  value = module.eks.irsa_role_arns
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
