data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  issuer    = "token.actions.githubusercontent.com"
  repo      = "repo:${var.github_repository}"

  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn

  # `sub` claims: exact branches, the deployment environment, pull requests. Never `repo:*`.
  release_subjects = concat(
    [for b in var.release_branches : "${local.repo}:ref:refs/heads/${b}"],
    ["${local.repo}:environment:${var.environment}"],
  )
  plan_subjects = concat(
    [for b in var.plan_branches : "${local.repo}:ref:refs/heads/${b}"],
    ["${local.repo}:pull_request"],
  )
  cost_subjects = [for b in var.cost_branches : "${local.repo}:ref:refs/heads/${b}"]

  cluster_arns   = "arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"
  nodegroup_arns = "arn:${local.partition}:eks:${local.region}:${local.account}:nodegroup/*/*/*"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS validates GitHub's certificate through its own trust store and ignores these; they
  # are set so provider versions that still require the argument accept the resource.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
  tags            = var.tags
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1
  url   = "https://${local.issuer}"
}

data "aws_iam_policy_document" "trust" {
  for_each = {
    release = local.release_subjects
    plan    = local.plan_subjects
    cost    = local.cost_subjects
  }

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
    # StringEquals, not StringLike: no wildcard can widen the subjects.
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = each.value
    }
  }
}

# ---- release: what `devops release --env E` needs in AWS: find the cluster. --------------
resource "aws_iam_role" "release" {
  name                 = "github-release-${var.environment}"
  description          = "GitHub Actions: devops release --env ${var.environment} (${var.github_repository})"
  assume_role_policy   = data.aws_iam_policy_document.trust["release"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "release" {
  statement {
    sid       = "DescribeOwnCluster"
    actions   = ["eks:DescribeCluster"]
    resources = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/${var.cluster_name}"]
  }
}

resource "aws_iam_role_policy" "release" {
  name   = "release"
  role   = aws_iam_role.release.id
  policy = data.aws_iam_policy_document.release.json
}

# ---- cost optimizer: describe and resize node groups of clusters tagged for scheduling. --
resource "aws_iam_role" "cost" {
  name                 = "github-cost-optimizer-${var.environment}"
  description          = "GitHub Actions: devops cost schedule (${var.github_repository})"
  assume_role_policy   = data.aws_iam_policy_document.trust["cost"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "cost" {
  statement {
    sid       = "ListClusters"
    actions   = ["eks:ListClusters"] # supports no resource-level permissions
    resources = ["*"]
  }

  statement {
    sid       = "DescribeScheduledClusters"
    actions   = ["eks:DescribeCluster", "eks:ListNodegroups"]
    resources = [local.cluster_arns]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/${var.cost_schedule_tag}"
      values   = ["false"]
    }
  }

  statement {
    sid       = "ResizeScheduledNodegroups"
    actions   = ["eks:DescribeNodegroup", "eks:UpdateNodegroupConfig", "eks:DescribeUpdate"]
    resources = [local.nodegroup_arns]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/${var.cost_schedule_tag}"
      values   = ["false"]
    }
  }

  # The optimizer keeps saved sizes and holds as cluster tags: only under its own prefixes,
  # so it can neither remove the schedule tag nor touch anyone else's tags.
  statement {
    sid       = "TagScheduledClusters"
    actions   = ["eks:TagResource", "eks:UntagResource"]
    resources = [local.cluster_arns]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/${var.cost_schedule_tag}"
      values   = ["false"]
    }
    condition {
      test     = "ForAllValues:StringLike"
      variable = "aws:TagKeys"
      values   = [for prefix in var.cost_tag_prefixes : "${prefix}*"]
    }
  }

  # Cluster Autoscaler mode (docs/cost.md, "Autoscalers and Argo CD"): off-hours the optimizer
  # moves the auto-discovery tag of the scheduled node groups' Auto Scaling groups aside and back.
  # Only on this cluster's groups (EKS tags them eks:cluster-name) and only those two keys.
  statement {
    sid       = "DescribeAutoScalingGroups"
    actions   = ["autoscaling:DescribeAutoScalingGroups"] # supports no resource-level permissions
    resources = ["*"]
  }

  statement {
    sid       = "SuspendClusterAutoscalerDiscovery"
    actions   = ["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"]
    resources = ["arn:${local.partition}:autoscaling:${local.region}:${local.account}:autoScalingGroup:*:autoScalingGroupName/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/eks:cluster-name"
      values   = [var.cluster_name]
    }
    condition {
      test     = "ForAllValues:StringLike"
      variable = "aws:TagKeys"
      values   = ["k8s.io/cluster-autoscaler/enabled", "devops.cost.suspended/*"]
    }
  }
}

resource "aws_iam_role_policy" "cost" {
  name   = "cost-optimizer"
  role   = aws_iam_role.cost.id
  policy = data.aws_iam_policy_document.cost.json
}

# ---- Terraform plan: read everything, write only the state lock. -------------------------
resource "aws_iam_role" "plan" {
  name                 = "github-terraform-plan-${var.environment}"
  description          = "GitHub Actions: devops infra plan --env ${var.environment} (${var.github_repository})"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "plan_state" {
  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [var.state_bucket_arn, "${var.state_bucket_arn}/${var.environment}/*"]
  }

  statement {
    sid       = "Lock"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
    resources = [var.lock_table_arn]
  }

  statement {
    sid = "DecryptState"
    # Lock items live in a table encrypted with the state key: taking a lock encrypts.
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.state_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "plan_state" {
  name   = "terraform-state"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan_state.json
}
