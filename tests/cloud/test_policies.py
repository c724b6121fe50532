"""IAM policies: valid JSON, scoped to the project bucket/prefix/region/tag, and covering what the CLI calls."""

import json

import pytest

from fruits.cloud.packaging import POLICIES
from tests.support.aws import BUCKET, REGION


def statements(cli, name):
    return json.loads(cli("policy", name).output)["Statement"]


def as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("name", POLICIES)
def test_policy_has_no_wildcard_actions_and_only_project_s3_resources(cli, name):
    for statement in statements(cli, name):
        assert statement["Effect"] == "Allow"
        assert not any(action == "*" or action.endswith(":*") for action in as_list(statement["Action"]))
        for resource in as_list(statement["Resource"]):
            if resource.startswith("arn:aws:s3:::"):
                assert resource in (f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{REGION}.elasticmapreduce/*") or (
                    resource.startswith(f"arn:aws:s3:::{BUCKET}/fruits/")
                )


def resources_for(cli, policy: str, action: str) -> set[str]:
    return {
        resource
        for statement in statements(cli, policy)
        if action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }


def test_operator_passes_only_the_two_emr_roles(cli):
    passed = resources_for(cli, "operator", "iam:PassRole")

    assert passed == {"arn:aws:iam::*:role/EMR_DefaultRole", "arn:aws:iam::*:role/EMR_EC2_DefaultRole"}


def test_operator_creates_tagged_clusters_in_region_and_touches_only_those(cli):
    by_sid = {statement["Sid"]: statement for statement in statements(cli, "operator")}

    assert by_sid["CreateOnlyTaggedClustersInRegion"]["Condition"]["StringEquals"] == {
        "aws:RequestedRegion": REGION,
        "elasticmapreduce:RequestTag/project": "fruits",
    }
    assert by_sid["OperateOnlyProjectClusters"]["Condition"]["StringEquals"] == {
        "elasticmapreduce:ResourceTag/project": "fruits"
    }
    assert by_sid["CreateProjectBucketInRegionOnly"]["Condition"]["StringEquals"] == {"s3:LocationConstraint": REGION}


def test_instance_profile_reads_artifacts_but_cannot_change_them(cli):
    writes = resources_for(cli, "instance-profile", "s3:PutObject")

    assert writes == {f"arn:aws:s3:::{BUCKET}/fruits/data/*", f"arn:aws:s3:::{BUCKET}/fruits/logs/*"}


def test_operator_policy_allows_every_emr_call_of_the_cli(cli, packaged, recorded_requests):
    for command in ("up", "run", "status", "logs", "cost", "down"):
        cli(command, ok=command != "logs")  # no logs yet: still an EMR call
    called = {
        target.replace("ElasticMapReduce.", "elasticmapreduce:") for target, _ in recorded_requests("ElasticMapReduce.")
    }

    allowed = {action for statement in statements(cli, "operator") for action in as_list(statement["Action"])}
    assert "elasticmapreduce:RunJobFlow" in called and "elasticmapreduce:TerminateJobFlows" in called
    assert called <= allowed
