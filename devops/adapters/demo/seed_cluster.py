"""Create the demo EKS cluster and its node groups in moto: `python -m devops.adapters.demo.seed_cluster`.

Run by `devops demo` as a subprocess whose environment alone points at the moto server
(AWS_ENDPOINT_URL, dummy credentials), so the demo's own process never talks to AWS.
Idempotent: what exists already is left as it is.
"""

from __future__ import annotations

import sys

from devops.adapters.aws.client import aws_error, client

ROLE = "arn:aws:iam::123456789012:role/techitfactory-dev-nodes"
# The seed's dev cluster: two t3.medium workers, one per AZ, in one managed node group.
NODEGROUPS = {"general": (1, 2, 3)}


def seed(cluster: str, region: str) -> None:
    """The cluster and its node groups, as `cost schedule` and `cost report` find them."""
    eks = client("eks", region)
    try:
        if cluster not in eks.list_clusters().get("clusters", []):
            eks.create_cluster(name=cluster, roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-demo-a"]},
                               tags={"environment": "dev", "project": "techitfactory-shop"})
        existing = eks.list_nodegroups(clusterName=cluster).get("nodegroups", [])
        for name, (low, desired, high) in NODEGROUPS.items():
            if name not in existing:
                eks.create_nodegroup(clusterName=cluster, nodegroupName=name, nodeRole=ROLE,
                                     subnets=["subnet-demo-a", "subnet-demo-b"], instanceTypes=["t3.medium"],
                                     scalingConfig={"minSize": low, "desiredSize": desired, "maxSize": high},
                                     tags={"environment": "dev"})
    except Exception as exc:
        raise aws_error(exc, f"eks create {cluster} in {region}") from None


if __name__ == "__main__":
    seed(sys.argv[1], sys.argv[2])
