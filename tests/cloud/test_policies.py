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

    assert passed == {"arn:aws:iam::*:role/EMR_DefaultRole_V2", "arn:aws:iam::*:role/EMR_EC2_DefaultRole"}


def test_operator_creates_tagged_clusters_in_region_and_touches_only_those(cli):
    by_sid = {statement["Sid"]: statement for statement in statements(cli, "operator")}

    assert by_sid["CreateOnlyTaggedClustersInRegion"]["Condition"]["StringEquals"] == {
        "aws:RequestedRegion": REGION,
        "elasticmapreduce:RequestTag/project": "fruits",
        "elasticmapreduce:RequestTag/for-use-with-amazon-emr-managed-policies": "true",
    }
    assert by_sid["OperateOnlyProjectClusters"]["Condition"]["StringEquals"] == {
        "elasticmapreduce:ResourceTag/project": "fruits"
    }
    assert by_sid["CreateProjectBucketInRegionOnly"]["Condition"]["StringEquals"] == {"s3:LocationConstraint": REGION}


def test_every_emr_action_but_run_job_flow_needs_the_project_tag(cli):
    """PutAutoTerminationPolicy included: it was the one cluster action without a tag condition."""
    for statement in statements(cli, "operator"):
        actions = as_list(statement["Action"])
        emr_actions = [action for action in actions if action.startswith("elasticmapreduce:")]
        if emr_actions and emr_actions != ["elasticmapreduce:RunJobFlow"]:
            assert statement["Condition"]["StringEquals"] == {"elasticmapreduce:ResourceTag/project": "fruits"}
    tagged = resources_for(cli, "operator", "elasticmapreduce:PutAutoTerminationPolicy")
    assert tagged == {f"arn:aws:elasticmapreduce:{REGION}:*:cluster/*"}


def test_prefix_condition_only_on_list_bucket(cli):
    """s3:prefix is a ListBucket key: under it, ListBucketMultipartUploads (which the S3A committer calls at job
    commit) would never be allowed."""
    for name in POLICIES:
        for statement in statements(cli, name):
            if "s3:prefix" in json.dumps(statement.get("Condition", {})):
                assert as_list(statement["Action"]) == ["s3:ListBucket"]


def test_instance_profile_lists_pending_uploads_of_the_bucket(cli):
    [statement] = [
        statement
        for statement in statements(cli, "instance-profile")
        if "s3:ListBucketMultipartUploads" in as_list(statement["Action"])
    ]

    assert statement["Resource"] == f"arn:aws:s3:::{BUCKET}" and "Condition" not in statement
    aborts = resources_for(cli, "instance-profile", "s3:AbortMultipartUpload")
    assert aborts == {f"arn:aws:s3:::{BUCKET}/fruits/data/*"}


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
