output "oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC provider."
  value       = local.provider_arn
}

output "release_role_arn" {
  description = "Role for `devops release` (repository variable AWS_RELEASE_ROLE_ARN_<ENV>, docs/workflows.md)."
  value       = aws_iam_role.release.arn
}

output "cost_role_arn" {
  description = "Role for the scheduled `devops cost schedule` workflow."
  value       = aws_iam_role.cost.arn
}

output "plan_role_arn" {
  description = "Role for `devops infra plan` in pull requests."
  value       = aws_iam_role.plan.arn
}
