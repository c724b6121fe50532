"""The EMR cluster: its request built from the spec, the `kedro run` step, status, logs, termination."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError
from rich.table import Table

from fruits.cloud.aws import CloudError, error_code
from fruits.cloud.config import Settings
from fruits.cloud.packaging import (
    BOOTSTRAP,
    CONF_ARCHIVE,
    ENTRYPOINT,
    LOCK_FILE,
    PACKAGE,
    REQUIREMENTS,
    artifact_key,
    node_python,
)
from fruits.cloud.s3 import newest_key, read_gzip_text, remote_objects, require_bucket
from fruits.cloud.sizing import ExecutorPlan, instance_type, plan_executors, primary_type
from fruits.cloud.wheelhouse import FOLDER as WHEELHOUSE

ENDED = ("TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS")
EMR_DEFAULT_ROOT_GIB = 15


@dataclass(frozen=True)
class InstanceGroup:
    name: str
    role: str  # MASTER (primary), CORE or TASK
    instance_type: str
    count: int
    market: str  # ON_DEMAND or SPOT


def spec_groups(settings: Settings) -> list[InstanceGroup]:
    """Instance groups of aws.yml, the primary's ``auto`` type sized for the driver; a group with count 0 (the
    optional spot TASK group) is left out."""
    cluster = settings.spec["cluster"]
    return [
        InstanceGroup(
            group["name"],
            group["role"],
            primary_type(group["type"], int(cluster["driver_mib"]), int(cluster["driver_python_mib"]))
            if group["role"] == "MASTER"
            else group["type"],
            int(group["count"]),
            group["market"],
        )
        for group in cluster["instance_groups"]
        if int(group["count"]) > 0
    ]


def executor_plan(settings: Settings) -> ExecutorPlan:
    """The executors the cluster of aws.yml gets: sized from the core/task instance type (one type for all of them,
    since every executor has the same size); the driver's heap is aws.yml's."""
    workers = [group for group in spec_groups(settings) if group.role != "MASTER"]
    types = sorted({group.instance_type for group in workers})
    if len(types) != 1:
        raise CloudError(f"Core and task groups use {', '.join(types)}: give them one instance type in aws.yml.")
    return plan_executors(
        instance_type(types[0]),
        nodes=sum(group.count for group in workers),
        driver_mb=int(settings.spec["cluster"]["driver_mib"]),
        python_mb_per_core=int(settings.spec["cluster"]["python_mib_per_core"]),
    )


def _instances(settings: Settings) -> dict[str, Any]:
    """Instance groups, keep-alive, and the optional subnet, SSH key and EMR-managed security groups."""
    spec = settings.spec["cluster"]
    instances: dict[str, Any] = {
        "InstanceGroups": [
            {
                "Name": group.name,
                "InstanceRole": group.role,
                "InstanceType": group.instance_type,
                "InstanceCount": group.count,
                "Market": group.market,
            }
            for group in spec_groups(settings)
        ],
        "KeepJobFlowAliveWhenNoSteps": bool(spec["keep_alive"]),
    }
    groups = spec.get("security_groups") or {}
    optional = {
        "Ec2SubnetId": spec.get("ec2_subnet_id"),
        "Ec2KeyName": spec.get("ec2_key_name"),
        "EmrManagedMasterSecurityGroup": groups.get("primary"),
        "EmrManagedSlaveSecurityGroup": groups.get("core_and_task"),
        "ServiceAccessSecurityGroup": groups.get("service_access"),
    }
    return instances | {key: value for key, value in optional.items() if value}


def _bootstrap_actions(settings: Settings, wheel_uri: str, wheelhouse: bool) -> list[dict[str, Any]]:
    """The venv install on every node: wheel, its requirements without EMR's own Spark, the lock file, and the
    wheelhouse when there is one (else the nodes install from PyPI)."""
    args = [wheel_uri, settings.uri("artifacts", REQUIREMENTS), settings.uri("artifacts", LOCK_FILE)]
    if wheelhouse:
        args.append(settings.uri("artifacts", WHEELHOUSE) + "/")
    return [
        {
            "Name": "install the project wheel",
            "ScriptBootstrapAction": {"Path": settings.uri("artifacts", BOOTSTRAP), "Args": args},
        }
    ]


def _spark_env(settings: Settings) -> dict[str, Any]:
    """spark-env.sh exports, sourced by spark-submit: the driver gets the bucket/prefix that
    conf/cloud/globals.yml reads, driver and executors run the venv's Python, and Kedro sends no telemetry
    (GDPR: nothing leaves the region; https://docs.kedro.org/en/stable/about/telemetry/)."""
    python = node_python(settings)
    exports = {
        "PYSPARK_PYTHON": python,
        "PYSPARK_DRIVER_PYTHON": python,
        "FRUITS_BUCKET": settings.bucket,
        "FRUITS_PREFIX": settings.prefix,
        "KEDRO_DISABLE_TELEMETRY": "true",
    }
    return {"Classification": "spark-env", "Configurations": [{"Classification": "export", "Properties": exports}]}


def _spark_defaults(settings: Settings, plan: ExecutorPlan) -> dict[str, Any]:
    """spark-defaults: the venv's Python, the executor plan, and the extra settings of aws.yml (which may not
    override the plan: its numbers are what `up` prints and what the cost estimate assumes)."""
    extra = {key: str(value) for key, value in (settings.spec["cluster"].get("spark_defaults") or {}).items()}
    sized = plan.spark_properties()
    clash = sorted(set(extra) & set(sized))
    if clash:
        raise CloudError(f"{', '.join(clash)} in aws.yml spark_defaults: remove it, `up` sizes executors itself.")
    python = node_python(settings)
    properties = {"spark.pyspark.python": python, "spark.pyspark.driver.python": python, **sized, **extra}
    return {"Classification": "spark-defaults", "Properties": properties}


# EMR's own Delta Lake (3.3.2 on emr-7.12) on the Spark classpath; conf/base/spark.yml switches its SQL extension on.
DELTA = {"Classification": "delta-defaults", "Properties": {"delta.enabled": "true"}}


def cluster_tags(settings: Settings) -> list[dict[str, str]]:
    """Tags of aws.yml; EMR propagates them to the instances and volumes it creates."""
    return [{"Key": key, "Value": str(value)} for key, value in settings.spec["tags"].items()]


def root_volume_gib(settings: Settings) -> int:
    """EbsRootVolumeSize: EMR's default root volume (15 GiB from emr-6.10.0, sized for its own AMI and
    applications: https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-custom-ami-root-volume-size.html)
    plus twice the measured venv (the venv, and pip's downloaded wheels while it installs) and 1 GiB to spare."""
    return EMR_DEFAULT_ROOT_GIB + math.ceil(2 * float(settings.spec["bootstrap"]["venv_size_gib"])) + 1


def cluster_request(settings: Settings, wheel_uri: str, wheelhouse: bool = True) -> dict[str, Any]:
    """The RunJobFlow request for aws.yml: everything the console's "Create cluster" page would ask for."""
    spec = settings.spec["cluster"]
    request: dict[str, Any] = {
        "Name": spec["name"],
        "ReleaseLabel": spec["release_label"],
        "LogUri": settings.log_uri,
        "Applications": [{"Name": name} for name in spec["applications"]],
        "Instances": _instances(settings),
        "BootstrapActions": _bootstrap_actions(settings, wheel_uri, wheelhouse),
        "Configurations": [_spark_env(settings), _spark_defaults(settings, executor_plan(settings)), DELTA],
        "EbsRootVolumeSize": root_volume_gib(settings),
        "JobFlowRole": spec["job_flow_role"],
        "ServiceRole": spec["service_role"],
        "Tags": cluster_tags(settings),
    }
    if spec.get("idle_timeout_seconds"):
        request["AutoTerminationPolicy"] = {"IdleTimeout": int(spec["idle_timeout_seconds"])}
    return request


def missing_artifacts(s3: Any, settings: Settings) -> list[str]:
    """What `up` and `run` need in ``PREFIX/artifacts/`` and is not there: one listing, no request per file."""
    folder = artifact_key(settings, "")
    present = {key.removeprefix(folder) for key in remote_objects(s3, settings.bucket, folder)} - {""}
    missing = [] if any(name.endswith(".whl") for name in present) else ["the wheel"]
    expected = (BOOTSTRAP, REQUIREMENTS, LOCK_FILE, ENTRYPOINT, CONF_ARCHIVE)
    return missing + [name for name in expected if name not in present]


def planned_cluster(s3: Any, settings: Settings) -> dict[str, Any]:
    """The RunJobFlow request `up` sends, refused while an artifact of the bootstrap is not in the bucket.

    EMR only fails a missing bootstrap script after the instances have booted (minutes, billed): checking
    first costs a few requests.
    """
    require_bucket(s3, settings)
    missing = missing_artifacts(s3, settings)
    if missing:
        raise CloudError(
            f"{', '.join(missing)} not in {settings.uri('artifacts')}/ yet: run `fruits-cloud package` first."
        )
    wheel = newest_key(s3, settings.bucket, artifact_key(settings, ""), ".whl")
    return cluster_request(settings, f"s3://{settings.bucket}/{wheel}", has_wheelhouse(s3, settings))


def unchecked_cluster(settings: Settings) -> dict[str, Any]:
    """The RunJobFlow request as `up` would send it after `package` and `wheelhouse`, without looking at the bucket
    (a dry run without credentials): the wheel's file name is a placeholder."""
    return cluster_request(settings, settings.uri("artifacts", f"{PACKAGE}-<version>-py3-none-any.whl"))


def has_wheelhouse(s3: Any, settings: Settings) -> bool:
    """Whether `fruits-cloud wheelhouse` has uploaded the cluster's wheels."""
    prefix = artifact_key(settings, WHEELHOUSE) + "/"
    return s3.list_objects_v2(Bucket=settings.bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) > 0


def step_request(settings: Settings, kedro_args: list[str]) -> dict[str, Any]:
    """The EMR step: spark-submit on the primary node (client mode: driver logs land in the step's stdout)."""
    step = settings.spec["step"]
    args = [
        "spark-submit",
        "--deploy-mode",
        "client",
        "--master",
        "yarn",
        settings.uri("artifacts", ENTRYPOINT),
        "--env",
        step["kedro_env"],
        "--conf-source",
        settings.uri("artifacts", CONF_ARCHIVE),
        *kedro_args,
    ]
    return {
        "Name": step["name"],
        "ActionOnFailure": step["action_on_failure"],
        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": args},
    }


@contextmanager
def _unknown_id(message: str) -> Iterator[None]:
    """EMR answers an unknown cluster or step id with a generic InvalidRequestException: name the id."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) == "InvalidRequestException":
            raise CloudError(message) from exc
        raise


def describe_cluster(emr: Any, cluster_id: str) -> dict[str, Any]:
    region = emr.meta.region_name
    with _unknown_id(f"Cluster {cluster_id} not found in {region}: check --cluster-id and --region."):
        return emr.describe_cluster(ClusterId=cluster_id)["Cluster"]


def steps_request(settings: Settings, cluster_id: str, kedro_args: list[str]) -> dict[str, Any]:
    """The AddJobFlowSteps request of `run`: one `kedro run` step."""
    return {"JobFlowId": cluster_id, "Steps": [step_request(settings, kedro_args)]}


def add_step(emr: Any, settings: Settings, cluster_id: str, kedro_args: list[str]) -> str:
    """Queue the pipeline run on a live cluster; returns the step id."""
    state = describe_cluster(emr, cluster_id)["Status"]["State"]
    if state in ENDED:
        raise CloudError(f"Cluster {cluster_id} is {state}: start a new one with `fruits-cloud up`.")
    return emr.add_job_flow_steps(**steps_request(settings, cluster_id, kedro_args))["StepIds"][0]


def list_steps(emr: Any, cluster_id: str) -> list[dict[str, Any]]:
    """Steps of the cluster, oldest first (EMR lists newest first)."""
    pages = emr.get_paginator("list_steps").paginate(ClusterId=cluster_id)
    return [step for page in pages for step in page["Steps"]][::-1]


def describe_step(emr: Any, cluster_id: str, step_id: str) -> dict[str, Any]:
    with _unknown_id(f"Step {step_id} not found on cluster {cluster_id}: check --step-id."):
        return emr.describe_step(ClusterId=cluster_id, StepId=step_id)["Step"]


def step_log_location(cluster: dict[str, Any], step_id: str) -> tuple[str, str]:
    """Bucket and key prefix of a step's logs: ``<LogUri>/<cluster-id>/steps/<step-id>/``.

    EMR reports LogUri as ``s3n://...``; only bucket and path matter.
    """
    parsed = urlparse(cluster["LogUri"])
    parts = [parsed.path.strip("/"), cluster["Id"], "steps", step_id]
    return parsed.netloc, "/".join(part for part in parts if part) + "/"


def step_logs(s3: Any, cluster: dict[str, Any], step_id: str) -> dict[str, str]:
    """The step's stdout and stderr that EMR has copied to S3 so far, gunzipped, by S3 URI."""
    bucket, prefix = step_log_location(cluster, step_id)
    found = {}
    for stream in ("stdout", "stderr"):
        text = read_gzip_text(s3, bucket, f"{prefix}{stream}.gz")
        if text is not None:
            found[f"s3://{bucket}/{prefix}{stream}.gz"] = text
    if not found:
        raise CloudError(
            f"No logs yet in s3://{bucket}/{prefix}: EMR copies step logs there every few minutes, try again later."
        )
    return found


def raise_if_failed(cluster: dict[str, Any], step: dict[str, Any]) -> None:
    """A failed step ends the command with its reason and where its logs are."""
    status = step["Status"]
    if status["State"] != "FAILED":
        return
    details = status.get("FailureDetails", {})
    reason = details.get("Message") or details.get("Reason") or "no reason given"
    bucket, prefix = step_log_location(cluster, step["Id"])
    raise CloudError(
        f"Step {step['Id']} failed ({reason}): run `fruits-cloud logs --step-id {step['Id']}` "
        f"or read s3://{bucket}/{prefix}."
    )


def terminate(emr: Any, cluster_id: str) -> str:
    """Terminate the cluster (idempotent); returns its new state."""
    describe_cluster(emr, cluster_id)
    emr.terminate_job_flows(JobFlowIds=[cluster_id])
    return describe_cluster(emr, cluster_id)["Status"]["State"]


def cluster_groups(emr: Any, cluster_id: str) -> list[InstanceGroup]:
    """Instance groups as EMR launched them (what is billed, whatever aws.yml says now)."""
    pages = emr.get_paginator("list_instance_groups").paginate(ClusterId=cluster_id)
    return [
        InstanceGroup(
            group["Name"],
            group["InstanceGroupType"],
            group["InstanceType"],
            group["RequestedInstanceCount"],
            group["Market"],
        )
        for page in pages
        for group in page["InstanceGroups"]
    ]


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def status_tables(cluster: dict[str, Any], steps: list[dict[str, Any]]) -> list[Table]:
    """The cluster as key/value rows and one row per step; ids never shortened (they are what users copy)."""
    timeline = cluster["Status"].get("Timeline", {})
    summary = Table.grid(padding=(0, 2))
    for name, value in (
        ("cluster", cluster["Id"]),
        ("name", cluster["Name"]),
        ("state", cluster["Status"]["State"]),
        ("release", cluster.get("ReleaseLabel", "-")),
        ("created", _when(timeline.get("CreationDateTime"))),
        ("ready", _when(timeline.get("ReadyDateTime"))),
        ("ended", _when(timeline.get("EndDateTime"))),
        ("logs", cluster.get("LogUri", "-")),
    ):
        summary.add_row(name, value)
    steps_table = Table(title="Steps")
    steps_table.add_column("step", no_wrap=True, min_width=15)
    steps_table.add_column("state", no_wrap=True, min_width=9)
    for column in ("name", "created", "started", "ended"):
        steps_table.add_column(column)
    for step in steps:
        step_timeline = step["Status"].get("Timeline", {})
        steps_table.add_row(
            step["Id"],
            step["Status"]["State"],
            step["Name"],
            _when(step_timeline.get("CreationDateTime")),
            _when(step_timeline.get("StartDateTime")),
            _when(step_timeline.get("EndDateTime")),
        )
    return [summary, steps_table]


def ui_hint(cluster: dict[str, Any], region: str) -> str:
    """How to watch Spark while the job runs: the console's persistent UIs, or an SSH tunnel."""
    console = f"https://{region}.console.aws.amazon.com/emr/home?region={region}#/clusterDetails/{cluster['Id']}"
    hint = f"Spark History Server / YARN UIs: {console} (Applications tab, persistent application UIs)."
    if cluster.get("MasterPublicDnsName") and cluster["Status"]["State"] not in ENDED:
        hint += (
            "\nOr tunnel: ssh -i <key.pem> -N -L 18080:localhost:18080 -L 8088:localhost:8088 "
            f"hadoop@{cluster['MasterPublicDnsName']}  then http://localhost:18080 and http://localhost:8088"
        )
    return hint
