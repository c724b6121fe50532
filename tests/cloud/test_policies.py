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


B = f"arn:aws:s3:::{BUCKET}"
OPERATOR = {
    "CreateProjectBucketInRegionOnly": ({"s3:CreateBucket"}, {B}),
    "ConfigureAndListProjectBucket": (
        {
            "s3:ListBucket",
            "s3:GetBucketLocation",
            "s3:GetBucketPublicAccessBlock",
            "s3:PutBucketPublicAccessBlock",
            "s3:GetEncryptionConfiguration",
            "s3:PutEncryptionConfiguration",
            "s3:GetBucketPolicy",
            "s3:PutBucketPolicy",
            "s3:GetLifecycleConfiguration",
            "s3:PutLifecycleConfiguration",
        },
        {B},
    ),
    "ReadWriteProjectPrefix": ({"s3:GetObject", "s3:PutObject"}, {f"{B}/fruits/*"}),
    "CreateOnlyTaggedClustersInRegion": ({"elasticmapreduce:RunJobFlow"}, {"*"}),
    "OperateOnlyProjectClusters": (
        {
            "elasticmapreduce:DescribeCluster",
            "elasticmapreduce:ListInstanceGroups",
            "elasticmapreduce:ListSteps",
            "elasticmapreduce:DescribeStep",
            "elasticmapreduce:AddJobFlowSteps",
            "elasticmapreduce:TerminateJobFlows",
            "elasticmapreduce:PutAutoTerminationPolicy",
        },
        {f"arn:aws:elasticmapreduce:{REGION}:*:cluster/*"},
    ),
    "LetEmrCreateItsCleanupRoleOnFirstLaunch": (
        {"iam:CreateServiceLinkedRole"},
        {"arn:aws:iam::*:role/aws-service-role/elasticmapreduce.amazonaws.com*/AWSServiceRoleForEMRCleanup*"},
    ),
    "DoctorReadsRolesOfTheCluster": (
        {"iam:GetRole", "iam:GetInstanceProfile", "iam:ListAttachedRolePolicies"},
        {
            "arn:aws:iam::*:role/EMR_DefaultRole_V2",
            "arn:aws:iam::*:role/EMR_EC2_DefaultRole",
            "arn:aws:iam::*:instance-profile/EMR_EC2_DefaultRole",
        },
    ),
    "DoctorReadsNetworkEncryptionAndQuota": (
        {
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpoints",
            "ec2:GetEbsEncryptionByDefault",
            "servicequotas:GetServiceQuota",
        },
        {"*"},
    ),
    "PassEmrServiceRole": ({"iam:PassRole"}, {"arn:aws:iam::*:role/EMR_DefaultRole_V2"}),
    "PassEmrInstanceProfileRole": ({"iam:PassRole"}, {"arn:aws:iam::*:role/EMR_EC2_DefaultRole"}),
    "RegisterProjectTablesInGlue": (
        {"glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"},
        {
            f"arn:aws:glue:{REGION}:*:catalog",
            f"arn:aws:glue:{REGION}:*:database/fruits",
            f"arn:aws:glue:{REGION}:*:table/fruits/*",
        },
    ),
}
INSTANCE_PROFILE = {
    "LocateProjectBucket": ({"s3:GetBucketLocation"}, {B}),
    "ListProjectBucketSoMissingKeysAre404": ({"s3:ListBucket"}, {B}),
    "ListPendingUploadsForTheS3ACommitter": ({"s3:ListBucketMultipartUploads"}, {B}),
    "ReadArtifacts": ({"s3:GetObject"}, {f"{B}/fruits/artifacts/*"}),
    "ReadWritePipelineData": (
        {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
        {f"{B}/fruits/data/*"},
    ),
    "PushClusterLogs": ({"s3:PutObject"}, {f"{B}/fruits/logs/*"}),
    "ReadEmrRegionalSupportFiles": ({"s3:GetObject"}, {f"arn:aws:s3:::{REGION}.elasticmapreduce/*"}),
}


@pytest.mark.parametrize(("name", "expected"), [("operator", OPERATOR), ("instance-profile", INSTANCE_PROFILE)])
def test_each_statement_grants_exactly_its_actions_on_its_resources(cli, name, expected):
    found = {
        statement["Sid"]: (set(as_list(statement["Action"])), set(as_list(statement["Resource"])))
        for statement in statements(cli, name)
    }

    assert found == expected


def test_missing_keys_are_404_for_the_nodes_list_bucket_has_no_prefix_condition(cli):
    """S3 answers a GET on a missing key (the first run's current.json, model cache) with 404 only to a caller
    allowed s3:ListBucket on the bucket; a GET has no s3:prefix, so a conditional grant would give 403."""
    [statement] = [s for s in statements(cli, "instance-profile") if "s3:ListBucket" in as_list(s["Action"])]

    assert "Condition" not in statement


def test_emr_may_create_only_its_cleanup_role_for_the_operator(cli):
    [statement] = [s for s in statements(cli, "operator") if s["Sid"] == "LetEmrCreateItsCleanupRoleOnFirstLaunch"]

    assert statement["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": ["elasticmapreduce.amazonaws.com", "elasticmapreduce.amazonaws.com.cn"]}
    }


@pytest.mark.parametrize("name", POLICIES)
def test_kms_statement_only_with_sse_kms_and_scoped_to_the_key_through_s3(cli, spec, name):
    assert not any("kms:" in json.dumps(s["Action"]) for s in statements(cli, name))
    key = f"arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    spec(lambda content: content["encryption"].update(algorithm="aws:kms", kms_key_id=key))

    [statement] = [s for s in statements(cli, name) if "kms:" in json.dumps(s["Action"])]

    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"] and statement["Resource"] == key
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    spec(lambda content: content["encryption"].update(algorithm="aws:kms", kms_key_id=None))  # the aws/s3 key
    [statement] = [s for s in statements(cli, name) if "kms:" in json.dumps(s["Action"])]
    assert statement["Resource"] == f"arn:aws:kms:{REGION}:*:key/*"


def test_spot_service_linked_role_only_with_a_spot_group(cli, spec):
    assert "LetEc2CreateItsSpotRoleOnFirstSpotRequest" not in {s["Sid"] for s in statements(cli, "operator")}
    spec(lambda content: content["cluster"]["instance_groups"][2].update(count=2))

    [statement] = [s for s in statements(cli, "operator") if s["Sid"] == "LetEc2CreateItsSpotRoleOnFirstSpotRequest"]

    assert statement["Resource"] == "arn:aws:iam::*:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"
    assert statement["Condition"] == {"StringEquals": {"iam:AWSServiceName": "spot.amazonaws.com"}}
