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
from fruits.cloud.model import MODEL_CACHE, WEIGHTS_FOLDER
from fruits.cloud.s3 import (
    BLOCK_ALL_PUBLIC_ACCESS,
    bucket_policy,
    bucket_region,
    encryption_rules,
    has_project_rules,
    has_tls_only,
    lifecycle_rules,
    remote_objects,
)
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
# AWS managed policies that give the nodes s3:* on every bucket of the account (and more): the instance profile's
# role keeps them after the project's inline policy is added, so the inline policy alone does not limit anything.
OVER_BROAD_POLICIES = ("AmazonElasticMapReduceforEC2Role", "AmazonS3FullAccess", "AdministratorAccess")


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
    with refusals(found, "bucket lifecycle"):
        found.append(_lifecycle(s3, settings))
    return found


def _lifecycle(s3: Any, settings: Settings) -> Finding:
    spec = settings.spec["lifecycle"]
    if not has_project_rules(lifecycle_rules(s3, settings.bucket), settings):
        return problem("bucket lifecycle rules (abort incomplete uploads, expire logs) are missing", FIX_BUCKET)
    return ok(
        f"bucket lifecycle: incomplete uploads aborted after {spec['abort_incomplete_uploads_days']} days, "
        f"logs expire after {spec['expire_logs_days']} days"
    )


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
    if all(finding.status == "ok" for finding in found):
        with refusals(found, f"policies of {cluster['job_flow_role']}"):
            found.append(_instance_role_policies(iam, cluster["job_flow_role"]))
    return found


def _instance_role_policies(iam: Any, role: str) -> Finding:
    """The nodes' role must not keep a managed policy that grants S3 everywhere (``aws emr create-default-roles``
    attaches AmazonElasticMapReduceforEC2Role): IAM allows what any attached policy allows."""
    pages = iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
    attached = [policy["PolicyName"] for page in pages for policy in page["AttachedPolicies"]]
    broad = [name for name in attached if name in OVER_BROAD_POLICIES]
    if broad:
        return problem(
            f"role {role} has {', '.join(broad)} attached (s3:* on every bucket)",
            f"detach it and attach `fruits-cloud policy instance-profile` as an inline policy of {role}",
        )
    return ok(f"role {role} has no over-broad managed policy attached")


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


def network(ec2: Any, settings: Settings) -> list[Finding]:
    """The subnet the cluster launches in (aws.yml's, else the default VPC's), its VPC and the security groups EMR
    will use carry the tag the v2 managed policy needs (without it EMR fails the launch after the request was
    accepted); the subnet reaches S3; new EBS volumes are encrypted."""
    subnet_id = settings.spec["cluster"].get("ec2_subnet_id")
    query = {"SubnetIds": [subnet_id]} if subnet_id else {"Filters": [{"Name": "default-for-az", "Values": ["true"]}]}
    subnets = ec2.describe_subnets(**query)["Subnets"]
    if not subnets:
        return [problem("no subnet to launch in (no default VPC)", "set cluster.ec2_subnet_id in aws.yml")]
    tag = "=".join(MANAGED_POLICY_TAG)
    untagged = [subnet["SubnetId"] for subnet in subnets if not _tagged(subnet)]
    vpc_ids = sorted({subnet["VpcId"] for subnet in subnets})
    vpcs = ec2.describe_vpcs(VpcIds=vpc_ids)["Vpcs"]
    untagged += [vpc["VpcId"] for vpc in vpcs if not _tagged(vpc)]
    if untagged:
        found = [problem(f"{', '.join(untagged)} lack the tag {tag}", f"tag them {tag} (EC2 console, Tags)")]
    else:
        found = [ok(f"subnets and VPC tagged {tag}")]
    with refusals(found, "security groups"):
        found.append(_security_groups(ec2, settings, vpc_ids))
    with refusals(found, "route to S3"):
        found.extend(_routes_to_s3(ec2, settings, subnets))
    with refusals(found, "EBS encryption by default"):
        found.append(_ebs_encryption(ec2, settings))
    return found


def _security_groups(ec2: Any, settings: Settings, vpc_ids: list[str]) -> Finding:
    """The groups of aws.yml, else the ``ElasticMapReduce-*`` groups an earlier cluster left in the VPC, which EMR
    reuses without tagging them; groups it creates for the v2 policy are tagged."""
    configured = [group for group in (settings.spec["cluster"].get("security_groups") or {}).values() if group]
    emr_groups = [{"Name": "vpc-id", "Values": vpc_ids}, {"Name": "group-name", "Values": ["ElasticMapReduce-*"]}]
    query = {"GroupIds": configured} if configured else {"Filters": emr_groups}
    groups = ec2.describe_security_groups(**query)["SecurityGroups"]
    tag = "=".join(MANAGED_POLICY_TAG)
    untagged = [f"{group['GroupName']} ({group['GroupId']})" for group in groups if not _tagged(group)]
    if untagged:
        return problem(
            f"security groups {', '.join(untagged)} lack the tag {tag}",
            f"tag them {tag} (EC2 console, Security Groups, Tags), or delete them and let EMR create tagged ones",
        )
    if not groups:
        return ok("no EMR security groups yet: EMR creates them tagged for the v2 policy")
    return ok(f"security groups {', '.join(sorted(group['GroupName'] for group in groups))} tagged {tag}")


def _route_table(ec2: Any, subnet: dict[str, Any]) -> dict[str, Any] | None:
    """The subnet's own route table, else its VPC's main one."""
    for filters in (
        [{"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}],
        [{"Name": "vpc-id", "Values": [subnet["VpcId"]]}, {"Name": "association.main", "Values": ["true"]}],
    ):
        tables = ec2.describe_route_tables(Filters=filters)["RouteTables"]
        if tables:
            return tables[0]
    return None


def _routes_to_s3(ec2: Any, settings: Settings, subnets: list[dict[str, Any]]) -> list[Finding]:
    """Every node reads the wheelhouse, the weights and the images from S3: through an S3 gateway endpoint (no
    internet, no charge), else through an internet gateway or NAT; with neither, the bootstrap hangs. One line per
    route table of the subnets."""
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": [f"com.amazonaws.{settings.region}.s3"]}]
    )["VpcEndpoints"]
    gateways = {
        table: endpoint["VpcEndpointId"]
        for endpoint in endpoints
        if endpoint.get("State", "").lower() not in ("deleting", "deleted", "failed", "rejected")
        for table in endpoint.get("RouteTableIds", [])
    }
    tables: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for subnet in subnets:
        table = _route_table(ec2, subnet) or {"RouteTableId": "-", "Routes": []}
        tables.setdefault(table["RouteTableId"], (table, []))[1].append(subnet["SubnetId"])
    found = []
    for table_id, (table, subnet_ids) in tables.items():
        where = f"{', '.join(subnet_ids)} (route table {table_id})"
        out = [
            route.get("GatewayId") or route.get("NatGatewayId") or ""
            for route in table["Routes"]
            if route.get("DestinationCidrBlock") == "0.0.0.0/0"
        ]
        if table_id in gateways:
            found.append(ok(f"{where} reach S3 through gateway endpoint {gateways[table_id]}"))
        elif any(target.startswith(("igw-", "nat-")) for target in out):
            found.append(ok(f"{where} reach S3 through {out[0]} (an S3 gateway endpoint is free and stays private)"))
        else:
            found.append(
                problem(
                    f"{where} have no route to S3",
                    f"add an S3 gateway endpoint (VPC console, Endpoints, com.amazonaws.{settings.region}.s3) "
                    f"on route table {table_id}",
                )
            )
    return found


def _ebs_encryption(ec2: Any, settings: Settings) -> Finding:
    """HDFS, shuffle and spill files live on the nodes' EBS volumes: encrypted only if the account encrypts new
    volumes by default (the AWS-managed key aws/ebs costs nothing)."""
    if not ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]:
        return problem(
            f"EBS encryption by default is off in {settings.region} (the nodes' local disks would be unencrypted)",
            "turn it on (EC2 console, Settings, Data protection, or `aws ec2 enable-ebs-encryption-by-default`)",
        )
    return ok(f"EBS encryption by default on in {settings.region}")


def artifacts(s3: Any, settings: Settings) -> Finding:
    missing = emr.missing_artifacts(s3, settings)
    if missing:
        return problem(f"{', '.join(missing)} not in {settings.uri('artifacts')}/", "run `fruits-cloud package`")
    return ok(f"artifacts in {settings.uri('artifacts')}/")


def model(s3: Any, settings: Settings) -> Finding:
    """The weights conf/cloud reads from the bucket, and a TFLite conversion: without the weights a run fails (or,
    with `weights: imagenet`, downloads them from the internet at run time); without a conversion the driver
    imports TensorFlow and converts, on the primary node."""
    weights = remote_objects(s3, settings.bucket, settings.key("artifacts", WEIGHTS_FOLDER) + "/")
    cache = settings.key("data", MODEL_CACHE) + "/"
    converted = [key for key in remote_objects(s3, settings.bucket, cache) if key.endswith(".tflite")]
    missing = [what for what, found in (("weights", weights), ("converted model", converted)) if not found]
    if missing:
        return problem(f"no {' and no '.join(missing)} in the bucket", "run `fruits-cloud upload --weights imagenet`")
    return ok(f"model: {len(weights)} weights file(s) in {settings.uri('artifacts', WEIGHTS_FOLDER)}/, "
              f"{len(converted)} converted in {settings.uri('data', MODEL_CACHE)}/")


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
        with refusals(found, "model"):
            found.append(model(s3, settings))
    return (
        found
        + roles(client("iam"), settings)
        + network(client("ec2"), settings)
        + quota(client("service-quotas"), settings)
    )
