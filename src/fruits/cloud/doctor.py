"""`fruits-cloud doctor`: read-only checks of what a first `up` needs, one line each, with the fix.

Only Get/Describe/Head/List calls: running it changes nothing and costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

from fruits.cloud import emr
from fruits.cloud.aws import CloudError, error_code
from fruits.cloud.config import Settings
from fruits.cloud.s3 import BLOCK_ALL_PUBLIC_ACCESS, bucket_policy, bucket_region, encryption_rules, has_tls_only
from fruits.cloud.sizing import instance_type

# Regions in EU member states (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html):
# London and Zurich are in Europe but outside the EU.
EU_REGIONS = ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3")
# "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", in vCPUs: m5, c5 and r5 count against it
# (https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html).
ON_DEMAND_STANDARD_VCPUS = ("ec2", "L-1216C47A")
# AmazonEMRServicePolicy_v2 only acts on subnets, security groups and VPCs that carry this tag
# (https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-managed-iam-policies.html#manually-tagged-resources).
MANAGED_POLICY_TAG = ("for-use-with-amazon-emr-managed-policies", "true")
FIX_BUCKET = "run `fruits-cloud bucket`"


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``ok``, ``problem`` (with its fix) or ``could not check``."""

    status: str
    text: str

    def line(self) -> str:
        return f"{self.status} {self.text}"


def ok(text: str) -> Finding:
    return Finding("ok", text)


def problem(text: str, fix: str) -> Finding:
    return Finding("problem", f"{text}: fix: {fix}")


@contextmanager
def refusals(found: list[Finding], what: str) -> Iterator[None]:
    """An AWS refusal (no permission, not implemented) of a read-only check is reported, not raised; so is a
    spec the check cannot read (another check names that problem)."""
    try:
        yield
    except ClientError as exc:
        found.append(Finding("could not check", f"{what}: {error_code(exc)} from {exc.operation_name}"))
    except CloudError as exc:
        found.append(Finding("could not check", f"{what}: {exc.message}"))


def credentials(sts: Any) -> Finding:
    """Who the commands act as (GetCallerIdentity needs no permission)."""
    try:
        identity = sts.get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError, ClientError) as exc:
        return problem(
            f"no usable AWS credentials ({exc})", "run `aws configure` or `aws sso login`, or set AWS_PROFILE"
        )
    return ok(f"credentials: account {identity['Account']} as {identity['Arn']}")


def region(settings: Settings) -> Finding:
    """The region the commands will use is aws.yml's, and it is in the EU."""
    configured = settings.spec.get("region", "eu-west-3")
    if settings.region != configured:
        return problem(f"region {settings.region} is not aws.yml's {configured}", "unset FRUITS_REGION / --region")
    if settings.region not in EU_REGIONS:
        return problem(f"region {settings.region} is outside the EU", f"set region to one of {', '.join(EU_REGIONS)}")
    return ok(f"region {settings.region} (EU)")


def bucket(s3: Any, settings: Settings) -> list[Finding]:
    """Exists in the region, all public access blocked, default encryption of aws.yml, TLS-only policy."""
    name = settings.bucket
    try:
        where = bucket_region(s3, name)
    except CloudError as exc:
        return [problem(f"bucket {name}", exc.message)]
    if where is None:
        return [problem(f"bucket {name} does not exist", FIX_BUCKET)]
    if where != settings.region:
        return [problem(f"bucket {name} is in {where}, not {settings.region}", "choose another --bucket name")]
    found = [ok(f"bucket {name} in {where}")]
    with refusals(found, "public access block"):
        found.append(_public_access(s3, name))
    with refusals(found, "default encryption"):
        found.append(_encryption(s3, settings))
    with refusals(found, "bucket policy"):
        if has_tls_only(bucket_policy(s3, name), name):
            found.append(ok("bucket policy denies non-TLS requests"))
        else:
            found.append(problem("bucket policy does not deny non-TLS requests", FIX_BUCKET))
    return found


def _public_access(s3: Any, name: str) -> Finding:
    try:
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        block = {}
    if block != BLOCK_ALL_PUBLIC_ACCESS:
        return problem("bucket public access is not all blocked", FIX_BUCKET)
    return ok("bucket public access blocked")


def _encryption(s3: Any, settings: Settings) -> Finding:
    expected = encryption_rules(settings)["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    try:
        rules = s3.get_bucket_encryption(Bucket=settings.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError as exc:
        if error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        rules = []
    if [rule.get("ApplyServerSideEncryptionByDefault") for rule in rules] != [expected]:
        return problem(f"bucket default encryption is not {expected['SSEAlgorithm']} as in aws.yml", FIX_BUCKET)
    return ok(f"bucket default encryption {expected['SSEAlgorithm']}")


def roles(iam: Any, settings: Settings) -> list[Finding]:
    """The service role, the instance-profile role, and its instance profile of the same name (EMR wants both)."""
    cluster = settings.spec["cluster"]
    checks: list[tuple[str, Callable[[], Any]]] = [
        (f"role {cluster['service_role']}", lambda: iam.get_role(RoleName=cluster["service_role"])),
        (f"role {cluster['job_flow_role']}", lambda: iam.get_role(RoleName=cluster["job_flow_role"])),
        (
            f"instance profile {cluster['job_flow_role']}",
            lambda: iam.get_instance_profile(InstanceProfileName=cluster["job_flow_role"]),
        ),
    ]
    found: list[Finding] = []
    for what, call in checks:
        with refusals(found, what):
            found.append(_exists(what, call))
    return found


def _exists(what: str, call: Callable[[], Any]) -> Finding:
    try:
        call()
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return problem(f"{what} does not exist", "create it as docs/cloud.md (Prerequisites) says")
    return ok(f"{what} exists")


def _tagged(resource: dict[str, Any]) -> bool:
    key, value = MANAGED_POLICY_TAG
    return {"Key": key, "Value": value} in resource.get("Tags", [])


def network_tags(ec2: Any, settings: Settings) -> list[Finding]:
    """The subnet the cluster launches in (aws.yml's, else the default VPC's) and its VPC carry the tag the v2
    managed policy needs; without it EMR fails the launch after the request was accepted."""
    subnet_id = settings.spec["cluster"].get("ec2_subnet_id")
    query = {"SubnetIds": [subnet_id]} if subnet_id else {"Filters": [{"Name": "default-for-az", "Values": ["true"]}]}
    subnets = ec2.describe_subnets(**query)["Subnets"]
    if not subnets:
        return [problem("no subnet to launch in (no default VPC)", "set cluster.ec2_subnet_id in aws.yml")]
    tag = "=".join(MANAGED_POLICY_TAG)
    untagged = [subnet["SubnetId"] for subnet in subnets if not _tagged(subnet)]
    vpcs = ec2.describe_vpcs(VpcIds=sorted({subnet["VpcId"] for subnet in subnets}))["Vpcs"]
    untagged += [vpc["VpcId"] for vpc in vpcs if not _tagged(vpc)]
    if untagged:
        return [problem(f"{', '.join(untagged)} lack the tag {tag}", f"tag them {tag} (EC2 console, Tags)")]
    return [ok(f"subnets and VPC tagged {tag}")]


def artifacts(s3: Any, settings: Settings) -> Finding:
    missing = emr.missing_artifacts(s3, settings)
    if missing:
        return problem(f"{', '.join(missing)} not in {settings.uri('artifacts')}/", "run `fruits-cloud package`")
    return ok(f"artifacts in {settings.uri('artifacts')}/")


def on_demand_vcpus(settings: Settings) -> int:
    """vCPUs of the cluster's On-Demand instances (Spot capacity has its own quota)."""
    return sum(
        group.count * instance_type(group.instance_type).vcpus
        for group in emr.spec_groups(settings)
        if group.market == "ON_DEMAND"
    )


def quota(quotas: Any, settings: Settings) -> list[Finding]:
    """Enough On-Demand standard vCPUs for the cluster (a new account may have fewer than a cluster needs)."""
    found: list[Finding] = []
    with refusals(found, "EC2 On-Demand vCPU quota"):
        needed = on_demand_vcpus(settings)
        service, code = ON_DEMAND_STANDARD_VCPUS
        value = quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]
        if value < needed:
            found.append(
                problem(
                    f"EC2 On-Demand standard vCPU quota is {value:g}, the cluster needs {needed}",
                    f"request {needed} in Service Quotas ({code})",
                )
            )
        else:
            found.append(ok(f"EC2 On-Demand standard vCPU quota {value:g} >= {needed} needed"))
    return found


def sizing(settings: Settings) -> Finding:
    try:
        return ok(f"executors: {emr.executor_plan(settings).summary()}")
    except CloudError as exc:
        return problem("executor sizing", exc.message)


def examine(settings: Settings, client: Callable[[str], Any]) -> list[Finding]:
    """Every check, credentials first: without them the rest would only repeat the same refusal."""
    first = credentials(client("sts"))
    if first.status != "ok":
        return [first]
    s3 = client("s3")
    storage = bucket(s3, settings)
    found = [first, region(settings), sizing(settings), *storage]
    if storage[0].status == "ok":  # the bucket is there: its artifacts can be listed
        found.append(artifacts(s3, settings))
    return (
        found
        + roles(client("iam"), settings)
        + network_tags(client("ec2"), settings)
        + quota(client("service-quotas"), settings)
    )
