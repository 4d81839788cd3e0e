locals {
  oidc_host = replace(aws_iam_openid_connect_provider.this.url, "https://", "")

  # One IRSA role per controller, trusted only by its own service account.
  irsa = {
    "vpc-cni" = {
      namespace       = "kube-system"
      service_account = "aws-node"
      managed         = ["AmazonEKS_CNI_Policy"]
    }
    "ebs-csi" = {
      namespace       = "kube-system"
      service_account = "ebs-csi-controller-sa"
      managed         = ["service-role/AmazonEBSCSIDriverPolicy"]
    }
    "aws-load-balancer-controller" = {
      namespace       = "kube-system"
      service_account = "aws-load-balancer-controller"
      managed         = []
    }
    "external-dns" = {
      namespace       = "external-dns"
      service_account = "external-dns"
      managed         = []
    }
  }

  # Only in cluster-autoscaler mode (Karpenter's controller role is in modules/karpenter).
  irsa_cluster_autoscaler = {
    "cluster-autoscaler" = {
      namespace       = "kube-system"
      service_account = "cluster-autoscaler"
      managed         = []
    }
  }

  irsa_roles = merge(local.irsa, var.autoscaler == "cluster-autoscaler" ? local.irsa_cluster_autoscaler : {})

  irsa_managed = merge([
    for name, role in local.irsa_roles : { for policy in role.managed : "${name}/${policy}" => { role = name, policy = policy } }
  ]...)
}

data "aws_iam_policy_document" "irsa_assume" {
  for_each = local.irsa_roles

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.this.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "irsa" {
  for_each = local.irsa_roles

  name               = "${var.cluster_name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume[each.key].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "irsa_managed" {
  for_each = local.irsa_managed

  role       = aws_iam_role.irsa[each.value.role].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value.policy}"
}

# The AWS Load Balancer Controller's published policy (v2.x), kept as a file so upgrades
# are a diff against upstream.
resource "aws_iam_role_policy" "aws_load_balancer_controller" {
  name   = "aws-load-balancer-controller"
  role   = aws_iam_role.irsa["aws-load-balancer-controller"].id
  policy = file("${path.module}/policies/aws-load-balancer-controller.json")
}

# external-dns may change records only in the given zones.
data "aws_iam_policy_document" "external_dns" {
  dynamic "statement" {
    for_each = length(var.hosted_zone_arns) > 0 ? [1] : []
    content {
      sid       = "ChangeRecordsInOwnZones"
      actions   = ["route53:ChangeResourceRecordSets"]
      resources = var.hosted_zone_arns
    }
  }

  statement {
    sid = "ListZonesAndRecords"
    actions = [
      "route53:ListHostedZones",
      "route53:ListResourceRecordSets",
      "route53:ListTagsForResource",
    ]
    resources = ["*"] # these List calls support no resource-level permissions
  }
}

resource "aws_iam_role_policy" "external_dns" {
  name   = "external-dns"
  role   = aws_iam_role.irsa["external-dns"].id
  policy = data.aws_iam_policy_document.external_dns.json
}

# Cluster Autoscaler: read the Auto Scaling groups and launch templates everywhere (these calls
# support no resource-level permissions), but change sizes and terminate instances only in the
# groups that carry this cluster's discovery tag (modules/capacity).
data "aws_iam_policy_document" "cluster_autoscaler" {
  statement {
    sid = "DescribeScalingResources"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
      "eks:DescribeNodegroup",
    ]
    resources = ["*"]
  }

  statement {
    sid = "ScaleOwnNodeGroups"
    actions = [
      "autoscaling:SetDesiredCapacity",
      "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}"
      values   = ["owned"]
    }
  }
}

resource "aws_iam_role_policy" "cluster_autoscaler" {
  count = var.autoscaler == "cluster-autoscaler" ? 1 : 0

  name   = "cluster-autoscaler"
  role   = aws_iam_role.irsa["cluster-autoscaler"].id
  policy = data.aws_iam_policy_document.cluster_autoscaler.json
}
