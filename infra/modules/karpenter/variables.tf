variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (modules/eks output oidc_provider_arn)."
  type        = string
}

variable "oidc_provider" {
  description = "Issuer host of that provider, without https:// (modules/eks output oidc_provider)."
  type        = string
}

variable "cluster_security_group_id" {
  description = "The cluster security group EKS created; tagged karpenter.sh/discovery so Karpenter's nodes join it."
  type        = string
}

variable "namespace" {
  description = "Namespace of the Karpenter controller (gitops/apps/values.yaml platform.karpenter.namespace)."
  type        = string
  default     = "kube-system"
}

variable "service_account" {
  description = "Service account of the Karpenter controller (gitops/platform/karpenter/values.yaml serviceAccount.name)."
  type        = string
  default     = "karpenter"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
