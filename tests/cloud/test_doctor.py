"""`fruits-cloud doctor` against moto: all right, then each thing wrong in turn; read-only calls only."""

import pytest
import requests

from tests.cloud.conftest import WEIGHTS_NAME
from tests.support.aws import BUCKET, REGION


def lines(output):
    return output.strip().splitlines()


def test_everything_right(cli, account, recorded_requests):
    output = cli("doctor").output

    subnets = ", ".join(subnet["SubnetId"] for subnet in account["subnets"])
    assert lines(output) == [
        "ok credentials: account 123456789012 as arn:aws:sts::123456789012:user/moto",
        f"ok region {REGION} (EU)",
        "ok executors: 2 executors × 4 cores (8 total cores): 1 per node on 2 core/task nodes, "
        "7563 MiB heap + 3829 MiB overhead each; driver 4096 MiB.",
        f"ok bucket {BUCKET} in {REGION}",
        "ok bucket public access blocked",
        "ok bucket default encryption AES256",
        "ok bucket policy denies non-TLS requests",
        "ok bucket lifecycle: incomplete uploads aborted after 3 days, logs expire after 30 days",
        f"ok artifacts in s3://{BUCKET}/fruits/artifacts/",
        f"ok model: 1 weights file(s) in s3://{BUCKET}/fruits/artifacts/weights/, "
        f"1 converted in s3://{BUCKET}/fruits/data/model_cache/",
        "ok role EMR_DefaultRole_V2 exists",
        "ok role EMR_EC2_DefaultRole exists",
        "ok instance profile EMR_EC2_DefaultRole exists",
        "ok role EMR_EC2_DefaultRole has no over-broad managed policy attached",
        "ok subnets and VPC tagged for-use-with-amazon-emr-managed-policies=true",
        "ok security groups ElasticMapReduce-master, ElasticMapReduce-slave tagged "
        "for-use-with-amazon-emr-managed-policies=true",
        f"ok {subnets} (route table {account['route_table']}) reach S3 through gateway endpoint {account['endpoint']}",
        f"ok EBS encryption by default on in {REGION}",
        "ok EC2 On-Demand standard vCPU quota 64 >= 16 needed",
    ]
    assert not recorded_requests("ElasticMapReduce.")  # nothing started, nothing changed


def problem_line(error_text, output):
    """The one problem line, and the closing error."""
    assert error_text == "Error: 1 problem(s) above: fix them before `fruits-cloud up`."
    [line] = [line for line in lines(output) if line.startswith("problem ")]
    return line


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (
            lambda a, s3, spec, env: s3.delete_bucket_policy(Bucket=BUCKET),
            "problem bucket policy does not deny non-TLS requests: fix: run `fruits-cloud bucket`",
        ),
        (
            lambda a, s3, spec, env: s3.delete_public_access_block(Bucket=BUCKET),
            "problem bucket public access is not all blocked: fix: run `fruits-cloud bucket`",
        ),
        (
            lambda a, s3, spec, env: spec(lambda c: c["encryption"].update(algorithm="aws:kms")),
            "problem bucket default encryption is not aws:kms as in aws.yml: fix: run `fruits-cloud bucket`",
        ),
        (
            lambda a, s3, spec, env: a["iam"].delete_role(RoleName="EMR_DefaultRole_V2"),
            "problem role EMR_DefaultRole_V2 does not exist: fix: create it as docs/cloud.md (Prerequisites) says",
        ),
        (
            lambda a, s3, spec, env: a["iam"].delete_instance_profile(InstanceProfileName="EMR_EC2_DefaultRole"),
            "problem instance profile EMR_EC2_DefaultRole does not exist: "
            "fix: create it as docs/cloud.md (Prerequisites) says",
        ),
        (
            lambda a, s3, spec, env: a["ec2"].delete_tags(Resources=[a["subnets"][0]["SubnetId"]], Tags=[a["tag"]]),
            "problem {subnet} lack the tag for-use-with-amazon-emr-managed-policies=true: "
            "fix: tag them for-use-with-amazon-emr-managed-policies=true (EC2 console, Tags)",
        ),
        (
            lambda a, s3, spec, env: a["set_quota"](8.0),
            "problem EC2 On-Demand standard vCPU quota is 8, the cluster needs 16: "
            "fix: request 16 in Service Quotas (L-1216C47A)",
        ),
        (
            lambda a, s3, spec, env: s3.delete_object(Bucket=BUCKET, Key="fruits/artifacts/bootstrap.sh"),
            f"problem bootstrap.sh not in s3://{BUCKET}/fruits/artifacts/: fix: run `fruits-cloud package`",
        ),
        (
            lambda a, s3, spec, env: spec(lambda c: c["cluster"]["instance_groups"][1].update(type="m7g.xlarge")),
            "problem executor sizing: fix: Instance type m7g.xlarge is not in the sizing table",
        ),
        (
            lambda a, s3, spec, env: s3.delete_bucket_lifecycle(Bucket=BUCKET),
            "problem bucket lifecycle rules (abort incomplete uploads, expire logs) are missing: "
            "fix: run `fruits-cloud bucket`",
        ),
        (
            lambda a, s3, spec, env: a["ec2"].delete_tags(Resources=a["security_groups"][:1], Tags=[a["tag"]]),
            "problem security groups ElasticMapReduce-master ({group}) lack the tag "
            "for-use-with-amazon-emr-managed-policies=true: fix: tag them",
        ),
        (
            lambda a, s3, spec, env: a["ec2"].delete_vpc_endpoints(VpcEndpointIds=[a["endpoint"]]),
            "problem {subnets} (route table {table}) have no route to S3: fix: add an S3 gateway endpoint",
        ),
        (
            lambda a, s3, spec, env: a["ec2"].disable_ebs_encryption_by_default(),
            f"problem EBS encryption by default is off in {REGION} (the nodes' local disks would be unencrypted)",
        ),
        (
            lambda a, s3, spec, env: s3.delete_object(Bucket=BUCKET, Key=f"fruits/artifacts/weights/{WEIGHTS_NAME}"),
            "problem no weights in the bucket: fix: run `fruits-cloud upload --weights imagenet`",
        ),
    ],
    ids=[
        "tls",
        "public-access",
        "encryption",
        "service-role",
        "instance-profile",
        "subnet-tag",
        "quota",
        "artifact",
        "sizing",
        "lifecycle",
        "security-group-tag",
        "no-route-to-s3",
        "ebs-encryption",
        "weights",
    ],  # fmt: skip
)
def test_each_thing_wrong_is_one_problem_line(cli, error, account, s3, spec, monkeypatch, breakage, expected):
    # The bucket policy refuses plain-HTTP object requests: the breakages that need one lift it for a moment.
    policy = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    s3.delete_bucket_policy(Bucket=BUCKET)
    breakage(account, s3, spec, monkeypatch)
    if "policy" not in expected:
        s3.put_bucket_policy(Bucket=BUCKET, Policy=policy)

    result = cli("doctor", ok=False)

    line = problem_line(error("doctor"), result.output)
    assert line.startswith(
        expected.format(
            subnet=account["subnets"][0]["SubnetId"],
            subnets=", ".join(subnet["SubnetId"] for subnet in account["subnets"]),
            group=account["security_groups"][0],
            table=account["route_table"],
        )
    )


def test_another_region_than_aws_yml_is_a_problem(cli, account, monkeypatch):
    monkeypatch.setenv("FRUITS_REGION", "eu-west-1")

    output = cli("doctor", ok=False).output

    problems = [line for line in lines(output) if line.startswith("problem ")]
    assert problems[0] == "problem region eu-west-1 is not aws.yml's eu-west-3: fix: unset FRUITS_REGION / --region"
    assert f"problem bucket {BUCKET} is in {REGION}, not eu-west-1: fix: choose another --bucket name" in problems


def test_missing_bucket_is_said_once_and_skips_its_artifacts(cli, error, account, s3, monkeypatch):
    monkeypatch.setenv("FRUITS_BUCKET", "fruits-no-such-bucket")

    output = cli("doctor", ok=False).output

    assert error("doctor") == "Error: 1 problem(s) above: fix them before `fruits-cloud up`."
    assert "problem bucket fruits-no-such-bucket does not exist: fix: run `fruits-cloud bucket`" in lines(output)
    assert not any("artifacts" in line for line in lines(output))


def test_quota_moto_cannot_answer_is_could_not_check(cli, account):
    account["set_quota"](None)  # moto's own answer: it has no EC2 quotas

    output = cli("doctor").output

    assert lines(output)[-1] == "could not check EC2 On-Demand vCPU quota: NoSuchResourceException from GetServiceQuota"


def test_no_credentials_is_the_only_line(cli, error, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    output = cli("doctor", ok=False).output

    assert lines(output)[0] == (
        "problem no usable AWS credentials (Unable to locate credentials): "
        "fix: run `aws configure` or `aws sso login`, or set AWS_PROFILE"
    )
    assert error("doctor") == "Error: 1 problem(s) above: fix them before `fruits-cloud up`."


@pytest.fixture
def aws_managed_policies(aws, monkeypatch):
    """moto loads AWS's managed policies into IAM when its backend starts, only if asked: ask, and start it again
    (before `account` creates the roles)."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    requests.post(f"{aws}/moto-api/reset", timeout=10).raise_for_status()


@pytest.mark.parametrize("policy", ["service-role/AmazonElasticMapReduceforEC2Role", "AmazonS3FullAccess"])
def test_an_over_broad_managed_policy_on_the_nodes_role_is_a_problem(cli, error, aws_managed_policies, account, policy):
    """What `aws emr create-default-roles` leaves: the inline project policy would not limit anything."""
    account["iam"].attach_role_policy(RoleName="EMR_EC2_DefaultRole", PolicyArn=f"arn:aws:iam::aws:policy/{policy}")

    result = cli("doctor", ok=False)

    name = policy.rsplit("/", 1)[-1]
    assert problem_line(error("doctor"), result.output) == (
        f"problem role EMR_EC2_DefaultRole has {name} attached (s3:* on every bucket): fix: detach it and attach "
        "`fruits-cloud policy instance-profile` as an inline policy of EMR_EC2_DefaultRole"
    )
