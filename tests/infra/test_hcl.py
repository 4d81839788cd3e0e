"""The real Terraform of `infra/`, parsed with python-hcl2: the seed's network, sizes and the
least-privilege IAM. (`terraform validate` needs the AWS provider, which cannot be
downloaded here, so the modules are checked by parsing plus `terraform fmt` and Trivy.)"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pytest

from tests.infra.hcl import INFRA, default, load_dir

pytest.importorskip("hcl2", reason="python-hcl2 is in the test extra")

ROOTS = ["bootstrap", "modules/vpc", "modules/eks", "modules/github-oidc", "modules/dns",
         "environments/dev", "environments/prod"]


@pytest.fixture(scope="module")
def tf() -> dict[str, dict]:
    return {root: load_dir(INFRA / root) for root in ROOTS}


@pytest.mark.parametrize("root", ROOTS)
def test_every_root_has_versions_variables_outputs_and_readme(tf: dict[str, dict], root: str) -> None:
    folder = INFRA / root
    for name in ("versions.tf", "variables.tf", "outputs.tf", "README.md"):
        assert (folder / name).is_file(), f"{root}/{name} missing"
    terraform = tf[root]["terraform"][0]
    assert re.fullmatch(r">= 1\.\d+\.\d+, < 2\.0\.0", terraform["required_version"])
    providers = {k: v for block in terraform["required_providers"] for k, v in block.items()}
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert re.fullmatch(r">= 5\.\d+\.\d+, < 6\.0\.0", providers["aws"]["version"])
    for name, variable in tf[root]["variable"].items():
        if root.startswith("modules") or root == "bootstrap":
            assert variable.get("description"), f"{root}: variable {name} has no description"
    for name, output in tf[root]["output"].items():
        if root.startswith("modules"):
            assert output.get("description"), f"{root}: output {name} has no description"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_environments_use_the_seed_network_in_two_azs_of_ap_south_1(tf: dict[str, dict], env: str) -> None:
    doc = tf[f"environments/{env}"]
    vpc = doc["module"]["vpc"]
    assert vpc["source"] == "../../modules/vpc"
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["public_subnet_cidrs"] == ["10.0.1.0/24", "10.0.2.0/24"]
    assert vpc["private_subnet_cidrs"] == ["10.0.10.0/24", "10.0.20.0/24"]
    assert default(doc, "region") == "ap-south-1"
    assert default(doc, "azs") == ["ap-south-1a", "ap-south-1b"]
    network = ipaddress.ip_network(vpc["cidr_block"])
    subnets = [ipaddress.ip_network(c) for c in vpc["public_subnet_cidrs"] + vpc["private_subnet_cidrs"]]
    assert all(s.subnet_of(network) for s in subnets)
    assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1:])
    # Backend is the generated S3 one; the root checks it is the environment it says.
    assert tf[f"environments/{env}"]["terraform"][0]["backend"] == [{"s3": {}}]
    validation = doc["variable"]["environment"]["validation"][0]["condition"]
    assert validation == f'${{var.environment == "{env}"}}'


def test_module_defaults_are_the_seed_network(tf: dict[str, dict]) -> None:
    vpc = tf["modules/vpc"]
    assert default(vpc, "cidr_block") == "10.0.0.0/16"
    assert default(vpc, "public_subnet_cidrs") == ["10.0.1.0/24", "10.0.2.0/24"]
    assert default(vpc, "private_subnet_cidrs") == ["10.0.10.0/24", "10.0.20.0/24"]
    assert default(vpc, "nat_gateway_count") == 1


def test_single_nat_in_dev_two_in_prod_and_nat_sits_in_az_a(tf: dict[str, dict]) -> None:
    assert default(tf["environments/dev"], "nat_gateway_count") == 1
    assert default(tf["environments/prod"], "nat_gateway_count") == 2
    for env in ("dev", "prod"):
        assert tf[f"environments/{env}"]["module"]["vpc"]["nat_gateway_count"] == "${var.nat_gateway_count}"
    resources = tf["modules/vpc"]["resource"]
    nat = resources["aws_nat_gateway"]["this"]
    assert nat["count"] == "${var.nat_gateway_count}"
    # NAT i in public subnet i: the only NAT (count 1) is in AZ-A, the first AZ.
    assert nat["subnet_id"] == "${aws_subnet.public[count.index].id}"
    assert resources["aws_route"]["private_egress"]["nat_gateway_id"] == (
        "${aws_nat_gateway.this[min(count.index, var.nat_gateway_count - 1)].id}")
    validation = tf["modules/vpc"]["variable"]["nat_gateway_count"]["validation"][0]
    assert validation["condition"] == "${contains([1, 2], var.nat_gateway_count)}"


def test_vpc_has_igw_s3_endpoint_private_nodes_and_load_balancer_tags(tf: dict[str, dict]) -> None:
    resources = tf["modules/vpc"]["resource"]
    assert "this" in resources["aws_internet_gateway"]
    endpoint = resources["aws_vpc_endpoint"]["s3"]
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert "aws_route_table.private[*].id" in endpoint["route_table_ids"]
    public, private = resources["aws_subnet"]["public"], resources["aws_subnet"]["private"]
    assert public["map_public_ip_on_launch"] is False
    assert '"kubernetes.io/role/elb" = "1"' in public["tags"]
    assert '"kubernetes.io/role/internal-elb" = "1"' in private["tags"]
    assert "local.cluster_tag" in public["tags"] and "local.cluster_tag" in private["tags"]
    assert tf["modules/vpc"]["locals"]["cluster_tag"] == {"kubernetes.io/cluster/${var.cluster_name}": "shared"}
    # Worker nodes are in the private subnets.
    for env in ("dev", "prod"):
        assert tf[f"environments/{env}"]["module"]["eks"]["private_subnet_ids"] == "${module.vpc.private_subnet_ids}"


def test_node_groups_are_t3_medium_with_bounds_and_desired_size_ignored(tf: dict[str, dict]) -> None:
    eks = tf["modules/eks"]
    # One managed node group per entry of node_groups; t3.medium unless an entry says otherwise.
    assert 'instance_types = optional(list(string), ["t3.medium"])' in eks["variable"]["node_groups"]["type"]
    group = eks["resource"]["aws_eks_node_group"]["this"]
    assert group["for_each"] == "${var.node_groups}"
    assert group["instance_types"] == "${each.value.instance_types}"
    assert group["subnet_ids"] == "${var.private_subnet_ids}"
    scaling = group["scaling_config"][0]
    assert scaling == {"min_size": "${each.value.min_size}", "max_size": "${each.value.max_size}",
                       "desired_size": "${each.value.desired_size}"}
    assert group["lifecycle"][0]["ignore_changes"] == ["${scaling_config[0].desired_size}"]
    # dev: the seed's two t3.medium by day, one of them protected (Argo CD, the autoscaler);
    # prod: two protected nodes, the rest Karpenter's.
    expected = {
        "dev": {"system": (True, 1, 2, 1), "general": (False, 1, 3, 1)},
        "prod": {"system": (True, 2, 3, 2)},
    }
    for env, groups in expected.items():
        doc = tf[f"environments/{env}"]
        found = {name: (g.get("protected", False), g["min_size"], g["max_size"], g["desired_size"])
                 for name, g in default(doc, "node_groups").items()}
        assert found == groups, env
        assert doc["module"]["eks"]["node_groups"] == "${var.node_groups}"
    # IMDSv2 only on the nodes' launch template.
    metadata = eks["resource"]["aws_launch_template"]["node"]["metadata_options"][0]
    assert metadata["http_tokens"] == "required" and metadata["http_put_response_hop_limit"] == 1


def test_eks_cluster_is_private_encrypted_logged_and_has_irsa_and_addons(tf: dict[str, dict]) -> None:
    eks = tf["modules/eks"]
    cluster = eks["resource"]["aws_eks_cluster"]["this"]
    vpc_config = cluster["vpc_config"][0]
    assert vpc_config["endpoint_private_access"] is True
    assert vpc_config["endpoint_public_access"] == "${length(var.public_access_cidrs) > 0}"
    assert default(eks, "public_access_cidrs") == []
    assert cluster["encryption_config"][0]["resources"] == ["secrets"]
    assert cluster["encryption_config"][0]["provider"][0]["key_arn"] == "${aws_kms_key.secrets.arn}"
    assert eks["resource"]["aws_kms_key"]["secrets"]["enable_key_rotation"] is True
    assert set(default(eks, "cluster_log_types")) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    assert eks["resource"]["aws_cloudwatch_log_group"]["cluster"]["kms_key_id"] == "${aws_kms_key.logs.arn}"
    assert eks["resource"]["aws_kms_key"]["logs"]["enable_key_rotation"] is True
    assert cluster["access_config"][0]["authentication_mode"] == "API"
    addons = {body["addon_name"] for body in eks["resource"]["aws_eks_addon"].values()}
    assert addons == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"}
    assert eks["resource"]["aws_iam_openid_connect_provider"]["this"]["client_id_list"] == ["sts.amazonaws.com"]
    irsa = eks["locals"]["irsa"]
    assert set(irsa) == {"vpc-cni", "ebs-csi", "aws-load-balancer-controller", "external-dns"}
    # Cluster Autoscaler's role exists only in cluster-autoscaler mode.
    assert set(eks["locals"]["irsa_cluster_autoscaler"]) == {"cluster-autoscaler"}
    assert eks["resource"]["aws_iam_role"]["irsa"]["for_each"] == "${local.irsa_roles}"
    assert irsa["aws-load-balancer-controller"]["service_account"] == "aws-load-balancer-controller"
    # IRSA trust: exactly one service account per role, and the audience.
    trust = eks["data"]["aws_iam_policy_document"]["irsa_assume"]["statement"][0]
    tests = {(c["test"], c["variable"]) for c in trust["condition"]}
    assert tests == {("StringEquals", "${local.oidc_host}:sub"), ("StringEquals", "${local.oidc_host}:aud")}
    # Access entries for SSO administrators.
    assoc = eks["resource"]["aws_eks_access_policy_association"]["admin"]
    assert assoc["policy_arn"].endswith("cluster-access-policy/AmazonEKSClusterAdminPolicy")
    # The node role does not carry the CNI policy (vpc-cni has its own IRSA role).
    node_policies = eks["resource"]["aws_iam_role_policy_attachment"]["node"]["for_each"]
    assert "AmazonEKS_CNI_Policy" not in json.dumps(node_policies)


def test_load_balancer_controller_policy_is_valid_json_without_admin_actions() -> None:
    policy = json.loads((INFRA / "modules/eks/policies/aws-load-balancer-controller.json").read_text())
    actions = [a for s in policy["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert not [a for a in actions if a == "*" or a.endswith(":*")]
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


def _statements(tf: dict[str, dict], name: str) -> list[dict]:
    return tf["modules/github-oidc"]["data"]["aws_iam_policy_document"][name]["statement"]


def test_cost_role_may_only_describe_and_resize_scheduled_node_groups(tf: dict[str, dict]) -> None:
    statements = _statements(tf, "cost")
    allowed = {a for s in statements for a in s["actions"]}
    assert allowed == {"eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup",
                       "eks:UpdateNodegroupConfig", "eks:DescribeUpdate", "eks:TagResource", "eks:UntagResource",
                       "autoscaling:DescribeAutoScalingGroups", "autoscaling:CreateOrUpdateTags",
                       "autoscaling:DeleteTags"}
    locals_ = tf["modules/github-oidc"]["locals"]
    for statement in statements:
        assert statement.get("effect", "Allow") == "Allow"
        if statement["actions"] in (["eks:ListClusters"], ["autoscaling:DescribeAutoScalingGroups"]):
            assert statement["resources"] == ["*"]  # no resource-level permissions
            continue
        if statement["actions"] == ["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"]:
            # Cluster Autoscaler's discovery tag moved aside and back: this cluster's groups, those keys only.
            conditions = {(c["test"], c["variable"]): c["values"] for c in statement["condition"]}
            assert conditions[("StringEquals", "aws:ResourceTag/eks:cluster-name")] == ["${var.cluster_name}"]
            assert conditions[("ForAllValues:StringLike", "aws:TagKeys")] == [
                "k8s.io/cluster-autoscaler/enabled", "devops.cost.suspended/*"]
            assert all(":autoScalingGroup:" in r for r in statement["resources"])
            continue
        # Every other action only on clusters / node groups that carry the schedule tag.
        conditions = {(c["test"], c["variable"]): c["values"] for c in statement["condition"]}
        assert conditions[("Null", "aws:ResourceTag/${var.cost_schedule_tag}")] == ["false"]
        for resource in statement["resources"]:
            expanded = locals_[resource.removeprefix("${local.").removesuffix("}")]
            assert re.search(r":eks:\$\{local.region\}:\$\{local.account\}:(cluster/\*|nodegroup/\*/\*/\*)$", expanded)
        if "eks:TagResource" in statement["actions"]:
            assert statement["resources"] == ["${local.cluster_arns}"]  # tag the cluster, nothing else
            assert ("ForAllValues:StringLike", "aws:TagKeys") in conditions
    assert default(tf["modules/github-oidc"], "cost_tag_prefixes") == ["devops.cost/", "devops.cost.hold/"]
    # Only dev is tagged for scheduling; prod leaves the tag off (the cost role cannot touch it).
    assert default(tf["environments/dev"], "cost_schedule") == "office-hours"
    assert default(tf["environments/prod"], "cost_schedule") is None
    # Node group tags (schedule tag on workload groups only) come from modules/capacity,
    # evaluated with the real Terraform in tests/platform/test_capacity.py.
    group_tags = tf["modules/eks"]["resource"]["aws_eks_node_group"]["this"]["tags"]
    assert "module.capacity.node_group_tags[each.key]" in group_tags


def test_release_and_plan_roles_are_narrow(tf: dict[str, dict]) -> None:
    release = _statements(tf, "release")
    assert [s["actions"] for s in release] == [["eks:DescribeCluster"]]
    assert release[0]["resources"][0].endswith(":cluster/${var.cluster_name}")
    plan = _statements(tf, "plan_state")
    actions = {a for s in plan for a in s["actions"]}
    assert not {a for a in actions if a.startswith("s3:Put") or a.startswith("s3:Delete")}
    assert {"dynamodb:PutItem", "dynamodb:DeleteItem"} <= actions  # taking the lock
    state = next(s for s in plan if s["sid"] == "ReadState")
    assert state["resources"] == ["${var.state_bucket_arn}", "${var.state_bucket_arn}/${var.environment}/*"]


def test_github_trust_is_restricted_to_this_repository(tf: dict[str, dict]) -> None:
    doc = tf["modules/github-oidc"]
    statement = _statements(tf, "trust")[0]
    conditions = {c["variable"]: c for c in statement["condition"]}
    assert conditions["${local.issuer}:aud"]["test"] == "StringEquals"
    assert conditions["${local.issuer}:aud"]["values"] == ["sts.amazonaws.com"]
    # StringEquals on `sub`: no wildcard can widen the subjects.
    assert conditions["${local.issuer}:sub"]["test"] == "StringEquals"
    locals_ = doc["locals"]
    assert locals_["issuer"] == "token.actions.githubusercontent.com"
    assert locals_["repo"] == "repo:${var.github_repository}"
    subjects = {name: locals_[name] for name in ("release_subjects", "plan_subjects", "cost_subjects")}
    assert ':ref:refs/heads/${b}' in subjects["release_subjects"]
    assert ':environment:${var.environment}' in subjects["release_subjects"]
    assert ':pull_request' in subjects["plan_subjects"] and ':pull_request' not in subjects["release_subjects"]
    assert ':pull_request' not in subjects["cost_subjects"]
    for text in subjects.values():
        assert "*" not in text
        assert all(part.startswith("${local.repo}:") for part in re.findall(r'\$\{local\.repo\}:[^"]*', text))
    assert default(doc, "release_branches") == ["main"]
    # The repository name itself cannot be a wildcard.
    pattern = doc["variable"]["github_repository"]["validation"][0]["condition"]
    regex = re.search(r'regex\("(.+)", var\.github_repository\)', pattern).group(1).replace("\\\\", "\\")
    assert re.fullmatch(regex, "techitfactory/techitfactory-shop")
    for bad in ("techitfactory/*", "*", "*/*", "techitfactory"):
        assert not re.fullmatch(regex, bad)


def test_bootstrap_state_bucket_is_versioned_kms_encrypted_private_and_tls_only(tf: dict[str, dict]) -> None:
    resources = tf["bootstrap"]["resource"]
    assert resources["aws_s3_bucket_versioning"]["state"]["versioning_configuration"][0]["status"] == "Enabled"
    sse = resources["aws_s3_bucket_server_side_encryption_configuration"]["state"]["rule"][0]
    default_sse = sse["apply_server_side_encryption_by_default"][0]
    assert default_sse == {"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.state.arn}"}
    block = resources["aws_s3_bucket_public_access_block"]["state"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                         "restrict_public_buckets"))
    policy = resources["aws_s3_bucket_policy"]["state"]["policy"]
    assert "DenyInsecureTransport" in policy and '"aws:SecureTransport" = "false"' in policy
    assert '"s3:TlsVersion" = "1.2"' in policy
    assert resources["aws_kms_key"]["state"]["enable_key_rotation"] is True
    table = resources["aws_dynamodb_table"]["lock"]
    assert table["hash_key"] == "LockID" and table["attribute"][0] == {"name": "LockID", "type": "S"}
    assert table["server_side_encryption"][0]["kms_key_arn"] == "${aws_kms_key.state.arn}"
    for kind, name in (("aws_s3_bucket", "state"), ("aws_dynamodb_table", "lock"), ("aws_kms_key", "state")):
        assert resources[kind][name]["lifecycle"][0]["prevent_destroy"] is True
    assert tf["bootstrap"]["terraform"][0]["backend"] == [{"s3": {}}]


def test_dns_has_validated_certificate_for_dev_and_prod(tf: dict[str, dict]) -> None:
    dns = tf["modules/dns"]["resource"]
    assert dns["aws_acm_certificate"]["this"]["validation_method"] == "DNS"
    assert "aws_acm_certificate_validation" in dns
    assert default(tf["environments/dev"], "domain_name") == "dev.techitfactory.com"
    assert default(tf["environments/prod"], "domain_name") == "techitfactory.com"


def test_environment_roots_match_pipelines_config(repo_root: Path) -> None:
    from devops.config import load_config

    config = load_config(repo_root / "pipelines" / "devops.yaml")
    assert set(config.infra.environments) == set(config.environments) == {"dev", "prod"}
    for env, infra_env in config.infra.environments.items():
        doc = load_dir(repo_root / infra_env.root)
        assert default(doc, "cluster_name") == config.environments[env].cluster.name
        assert default(doc, "region") == config.environments[env].cluster.region
        assert default(doc, "autoscaler") == config.environments[env].cluster.autoscaler
        # Every variable devops passes is declared, and every required one is given.
        given = {"environment", "region", "cluster_name", "autoscaler", "state_bucket", "lock_table", "state_kms_alias",
                 *infra_env.variables}
        declared = set(doc["variable"])
        assert given <= declared, given - declared
        required = {name for name, v in doc["variable"].items() if "default" not in v}
        assert required <= given, required - given
    assert config.infra.environments["prod"].protected is True
