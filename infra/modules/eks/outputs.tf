output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority" {
  description = "Base64 CA certificate of the API endpoint."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "Security group EKS created for the control plane and nodes."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider (for more IRSA roles)."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "node_groups" {
  description = "Managed node groups by name: protected or not, and their Auto Scaling group."
  value = {
    for name, group in aws_eks_node_group.this : name => {
      protected          = var.node_groups[name].protected
      autoscaling_groups = [for r in group.resources : r.autoscaling_groups[*].name]
    }
  }
}

output "protected_node_groups" {
  description = "Names of the protected node groups (never scheduled down by `devops cost`)."
  value       = module.capacity.protected
}

output "oidc_provider" {
  description = "Issuer host of the cluster's OIDC provider (the prefix of IRSA trust conditions)."
  value       = local.oidc_host
}

output "node_role_arn" {
  description = "IAM role of the worker nodes."
  value       = aws_iam_role.node.arn
}

output "irsa_role_arns" {
  description = "IRSA role ARN per controller (annotate the service accounts with them)."
  value       = { for name, role in aws_iam_role.irsa : name => role.arn }
}

output "secrets_kms_key_arn" {
  description = "KMS key that encrypts Kubernetes secrets."
  value       = aws_kms_key.secrets.arn
}
