locals {
  tags = {
    cluster = var.cluster_name
  }
}

data "aws_s3_bucket" "state" {
  bucket = var.state_bucket
}

data "aws_dynamodb_table" "lock" {
  name = var.lock_table
}

data "aws_kms_alias" "state" {
  name = var.state_kms_alias
}

module "vpc" {
  source = "../../modules/vpc"

  name                 = var.cluster_name
  cluster_name         = var.cluster_name
  cidr_block           = "10.0.0.0/16"
  azs                  = var.azs
  public_subnet_cidrs  = ["10.0.1.0/24", "10.0.2.0/24"]
  private_subnet_cidrs = ["10.0.10.0/24", "10.0.20.0/24"]
  nat_gateway_count    = var.nat_gateway_count
  # Karpenter launches its nodes into the subnets that carry its discovery tag.
  private_subnet_tags = var.autoscaler == "karpenter" ? { "karpenter.sh/discovery" = var.cluster_name } : {}
  tags                = local.tags
}

module "dns" {
  source = "../../modules/dns"

  zone_name   = var.zone_name
  domain_name = var.domain_name
  tags        = local.tags
}

module "eks" {
  source = "../../modules/eks"

  cluster_name        = var.cluster_name
  kubernetes_version  = var.kubernetes_version
  vpc_id              = module.vpc.vpc_id
  private_subnet_ids  = module.vpc.private_subnet_ids
  public_access_cidrs = var.public_access_cidrs
  node_groups         = var.node_groups
  autoscaler          = var.autoscaler
  admin_role_arns     = var.admin_role_arns
  hosted_zone_arns    = [module.dns.zone_arn]
  cost_schedule       = var.cost_schedule
  tags                = local.tags
}

# Only with autoscaler = "karpenter": the controller's role, the node role and instance profile,
# the interruption queue and its EventBridge rules.
module "karpenter" {
  source = "../../modules/karpenter"
  count  = var.autoscaler == "karpenter" ? 1 : 0

  cluster_name              = module.eks.cluster_name
  oidc_provider_arn         = module.eks.oidc_provider_arn
  oidc_provider             = module.eks.oidc_provider
  cluster_security_group_id = module.eks.cluster_security_group_id
  tags                      = local.tags
}

module "github_oidc" {
  source = "../../modules/github-oidc"

  github_repository    = var.github_repository
  environment          = var.environment
  create_oidc_provider = var.create_github_oidc_provider
  cluster_name         = module.eks.cluster_name
  state_bucket_arn     = data.aws_s3_bucket.state.arn
  lock_table_arn       = data.aws_dynamodb_table.lock.arn
  state_kms_key_arn    = data.aws_kms_alias.state.target_key_arn
  tags                 = local.tags
}
