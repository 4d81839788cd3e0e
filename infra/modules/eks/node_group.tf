data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.cluster_name}-node"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json
  tags               = var.tags
}

# The CNI policy is NOT attached here: vpc-cni gets it through its own IRSA role (irsa.tf),
# so pods cannot use the node role to change the VPC's network interfaces.
resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryReadOnly",
  ])

  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

# IMDSv2 only, one hop: pods cannot reach the node's instance credentials.
resource "aws_launch_template" "node" {
  name_prefix            = "${var.cluster_name}-node-"
  update_default_version = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.node_disk_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.cluster_name}-node" })
  }

  tags = var.tags
}

module "capacity" {
  source = "../capacity"

  cluster_name      = var.cluster_name
  autoscaler        = var.autoscaler
  node_groups       = { for name, group in var.node_groups : name => { protected = group.protected } }
  cost_schedule     = var.cost_schedule
  cost_schedule_tag = var.cost_schedule_tag
  opt_out_tag       = var.cost_opt_out_tag
}

# One managed node group per entry of var.node_groups: the protected `system` group (Argo CD,
# the autoscaler, the controllers) and, where Cluster Autoscaler runs, the workload groups it
# scales. Tags, labels and taints come from modules/capacity.
resource "aws_eks_node_group" "this" {
  for_each = var.node_groups

  cluster_name    = aws_eks_cluster.this.name
  node_group_name = each.key
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.private_subnet_ids # worker nodes never get public addresses
  version         = var.kubernetes_version
  instance_types  = each.value.instance_types
  capacity_type   = each.value.capacity_type

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  scaling_config {
    min_size     = each.value.min_size
    max_size     = each.value.max_size
    desired_size = each.value.desired_size
  }

  update_config {
    max_unavailable = 1
  }

  labels = module.capacity.labels[each.key]

  dynamic "taint" {
    for_each = module.capacity.taints[each.key]
    content {
      key    = taint.value.key
      value  = taint.value.value
      effect = taint.value.effect
    }
  }

  # The schedule tag marks a node group for the cost optimizer's role (its IAM conditions test
  # it); protected groups carry the opt-out tag instead; discovery tags in cluster-autoscaler mode.
  tags = merge(var.tags, module.capacity.node_group_tags[each.key])

  lifecycle {
    # The cluster autoscaler and the cost optimizer change the desired size at run time;
    # Terraform must not scale the group back on every apply.
    ignore_changes = [scaling_config[0].desired_size]

    precondition {
      condition     = each.value.min_size <= each.value.desired_size && each.value.desired_size <= each.value.max_size
      error_message = "node_groups: desired_size must lie between min_size and max_size."
    }
  }

  depends_on = [
    aws_iam_role_policy_attachment.node,
    aws_eks_addon.vpc_cni, # nodes only become Ready once the CNI can assign addresses
  ]
}

# The single node group of earlier versions of this module is the `general` entry now.
moved {
  from = aws_eks_node_group.general
  to   = aws_eks_node_group.this["general"]
}

# Cluster Autoscaler discovers the Auto Scaling groups EKS creates for the node groups by tags;
# node group tags are not propagated to them, so they are set here (cluster-autoscaler mode only).
locals {
  asg_tags = merge([
    for name, tags in module.capacity.asg_tags : {
      for key, value in tags : "${name}/${key}" => { group = name, key = key, value = value }
    }
  ]...)
}

resource "aws_autoscaling_group_tag" "discovery" {
  for_each = local.asg_tags

  autoscaling_group_name = aws_eks_node_group.this[each.value.group].resources[0].autoscaling_groups[0].name

  tag {
    key                 = each.value.key
    value               = each.value.value
    propagate_at_launch = false
  }
}
