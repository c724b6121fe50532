"""`up`, `run`, `status`, `logs`, `down` against moto's EMR (whose steps never finish: first RUNNING, then PENDING)."""

import gzip
import json
from pathlib import Path

from moto.core import DEFAULT_ACCOUNT_ID
from moto.emr.models import emr_backends

from tests.support.aws import BUCKET, REGION

ARTIFACTS = f"s3://{BUCKET}/fruits/artifacts"
PYTHON = "/opt/fruits/venv/bin/python"


def state() -> dict:
    return json.loads(Path(".fruits-cloud/state.json").read_text())


def configuration(cluster: dict, classification: str) -> dict:
    return next(item for item in cluster["Configurations"] if item["Classification"] == classification)


def test_up_refuses_before_package(error, bucket):
    assert error("up") == (
        "Error: the wheel, bootstrap.sh, requirements-emr.txt, requirements.lock, entrypoint.py, conf-fruits.tar.gz "
        f"not in {ARTIFACTS}/ yet: run `fruits-cloud package` first."
    )


def test_up_refuses_while_one_artifact_is_missing(error, s3, packaged):
    s3.delete_object(Bucket=BUCKET, Key="fruits/artifacts/requirements.lock")

    assert error("up") == (
        f"Error: requirements.lock not in {ARTIFACTS}/ yet: run `fruits-cloud package` first."
    )


def test_up_creates_the_cluster_of_the_spec(cli, emr, s3, packaged, recorded_requests):
    result = cli("up")

    cluster_id = state()["cluster_id"]
    assert f"Cluster {cluster_id} starting in {REGION}" in result.output
    assert Path(".fruits-cloud/.gitignore").read_text() == "*\n"
    cluster = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert cluster["Name"] == "fruits-emr"
    assert cluster["ReleaseLabel"] == "emr-7.12.0"
    assert [app["Name"] for app in cluster["Applications"]] == ["Spark"]
    assert cluster["LogUri"] == f"s3://{BUCKET}/fruits/logs/"
    assert cluster["ServiceRole"] == "EMR_DefaultRole_V2"
    assert cluster["Ec2InstanceAttributes"]["IamInstanceProfile"] == "EMR_EC2_DefaultRole"
    assert cluster["AutoTerminate"] is False  # KeepJobFlowAliveWhenNoSteps
    assert {(tag["Key"], tag["Value"]) for tag in cluster["Tags"]} == {
        ("project", "fruits"),
        ("owner", "data-team"),
        ("cost-center", "fruits-poc"),
        ("for-use-with-amazon-emr-managed-policies", "true"),  # what EMR_DefaultRole_V2's policy acts on
    }
    assert configuration(cluster, "spark-env")["Configurations"] == [
        {
            "Classification": "export",
            "Properties": {
                "PYSPARK_PYTHON": PYTHON,
                "PYSPARK_DRIVER_PYTHON": PYTHON,
                "FRUITS_BUCKET": BUCKET,
                "FRUITS_PREFIX": "fruits",
                "KEDRO_DISABLE_TELEMETRY": "true",
            },
        }
    ]
    # 2 m5.xlarge core nodes: YARN 12,288 MiB each, less the 896 MiB application master = 11,392 MiB per executor.
    assert configuration(cluster, "spark-defaults")["Properties"] == {
        "spark.pyspark.python": PYTHON,
        "spark.pyspark.driver.python": PYTHON,
        "spark.dynamicAllocation.enabled": "false",
        "spark.executor.instances": "2",
        "spark.executor.cores": "4",
        "spark.executor.memory": "7563m",
        "spark.executor.memoryOverhead": "3829m",
        "spark.driver.memory": "4096m",
        "spark.yarn.am.memory": "512m",
        "spark.yarn.am.memoryOverhead": "384m",
        "spark.yarn.maxAppAttempts": "1",
    }
    assert "2 executors × 4 cores (8 total cores)" in result.output
    assert configuration(cluster, "delta-defaults")["Properties"] == {"delta.enabled": "true"}  # EMR's own jars
    groups = emr.list_instance_groups(ClusterId=cluster_id)["InstanceGroups"]
    assert sorted(
        (g["InstanceGroupType"], g["InstanceType"], g["RequestedInstanceCount"], g["Market"]) for g in groups
    ) == [
        ("CORE", "m5.xlarge", 2, "ON_DEMAND"),
        ("MASTER", "m5.2xlarge", 1, "ON_DEMAND"),  # type auto: sized for the driver
    ]
    [action] = emr.list_bootstrap_actions(ClusterId=cluster_id)["BootstrapActions"]
    assert action["ScriptPath"] == f"{ARTIFACTS}/bootstrap.sh"
    assert action["Args"] == [
        f"{ARTIFACTS}/fruits-0.1-py3-none-any.whl",
        f"{ARTIFACTS}/requirements-emr.txt",
        f"{ARTIFACTS}/requirements.lock",
    ]
    for uri in (action["ScriptPath"], *action["Args"]):  # `up` only starts once these are in the bucket
        s3.head_object(Bucket=BUCKET, Key=uri.removeprefix(f"s3://{BUCKET}/"))
    # moto 5.2.5 neither stores AutoTerminationPolicy nor implements GetAutoTerminationPolicy: check the request.
    [(_, request)] = recorded_requests("ElasticMapReduce.RunJobFlow")
    assert request["AutoTerminationPolicy"] == {"IdleTimeout": 900}  # one-shot runs: a short idle window
    assert request["Instances"]["KeepJobFlowAliveWhenNoSteps"] is True
    assert request["EbsRootVolumeSize"] == 15 + 2 * 2 + 1  # EMR's default + twice the measured 2.0 GiB venv + 1


def test_task_nodes_add_executors(cli, packaged, spec, recorded_requests):
    spec(lambda content: content["cluster"]["instance_groups"][2].update(count=3))

    output = cli("up").output

    assert "5 executors × 4 cores (20 total cores)" in output
    [(_, request)] = recorded_requests("ElasticMapReduce.RunJobFlow")
    defaults = next(item for item in request["Configurations"] if item["Classification"] == "spark-defaults")
    assert defaults["Properties"]["spark.executor.instances"] == "5"


def test_core_and_task_groups_of_different_types_are_refused(error, packaged, spec):
    spec(lambda content: content["cluster"]["instance_groups"][2].update(count=1, type="m5.2xlarge"))

    assert error("up") == (
        "Error: Core and task groups use m5.2xlarge, m5.xlarge: give them one instance type in aws.yml."
    )


def test_sizing_keys_in_spark_defaults_are_refused(error, packaged, spec):
    spec(lambda content: content["cluster"]["spark_defaults"].update({"spark.executor.memory": "6g"}))

    assert error("up") == (
        "Error: spark.executor.memory in aws.yml spark_defaults: remove it, `up` sizes executors itself."
    )


def test_up_with_the_optional_parts_of_the_spec(cli, emr, packaged, spec, recorded_requests):
    def edit(content):
        cluster = content["cluster"]
        cluster.update(ec2_subnet_id="subnet-0abc", ec2_key_name="fruits-key", idle_timeout_seconds=None)
        next(group for group in cluster["instance_groups"] if group["role"] == "TASK")["count"] = 4

    spec(edit)

    cli("up")

    cluster = emr.describe_cluster(ClusterId=state()["cluster_id"])["Cluster"]
    assert cluster["Ec2InstanceAttributes"]["Ec2SubnetId"] == "subnet-0abc"
    assert cluster["Ec2InstanceAttributes"]["Ec2KeyName"] == "fruits-key"
    groups = emr.list_instance_groups(ClusterId=cluster["Id"])["InstanceGroups"]
    assert {(g["InstanceGroupType"], g["RequestedInstanceCount"], g["Market"]) for g in groups} >= {("TASK", 4, "SPOT")}
    [(_, request)] = recorded_requests("ElasticMapReduce.RunJobFlow")
    assert "AutoTerminationPolicy" not in request


def test_run_adds_the_spark_submit_step(cli, emr, cluster_id):
    result = cli("run", "--", "--pipelines", "ingestion", "--params", "sampling.size=100")

    step_id = state()["step_id"]
    assert f"Step {step_id} added to {cluster_id}" in result.output
    step = emr.describe_step(ClusterId=cluster_id, StepId=step_id)["Step"]
    assert step["Name"] == "fruits kedro run"
    assert step["ActionOnFailure"] == "CONTINUE"
    assert step["Config"]["Jar"] == "command-runner.jar"
    assert step["Config"]["Args"] == [
        "spark-submit", "--deploy-mode", "client", "--master", "yarn",
        f"{ARTIFACTS}/entrypoint.py",
        "--env", "cloud",
        "--conf-source", f"{ARTIFACTS}/conf-fruits.tar.gz",
        "--pipelines", "ingestion", "--params", "sampling.size=100",
    ]  # fmt: skip
    assert step["Status"]["State"] == "RUNNING"


def test_run_passes_kedro_options_without_a_separator_too(cli, emr, cluster_id):
    cli("run", "--cluster-id", cluster_id, "--pipelines", "ingestion")

    step = emr.describe_step(ClusterId=cluster_id, StepId=state()["step_id"])["Step"]
    assert step["Config"]["Args"][-2:] == ["--pipelines", "ingestion"]


def test_a_new_cluster_forgets_the_step_of_the_previous_one(cli, cluster_id):
    cli("run")

    cli("up")

    assert state() == {"cluster_id": state()["cluster_id"]} and state()["cluster_id"] != cluster_id
    cli("status")  # would fail looking for the old step on the new cluster


def test_status_shows_cluster_steps_and_how_to_watch_spark(cli, emr, cluster_id):
    cli("run")
    cli("run")
    first, second = (step["Id"] for step in emr.list_steps(ClusterId=cluster_id)["Steps"][::-1])

    output = cli("status").output

    cluster = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert cluster_id in output and cluster["Status"]["State"] in output and "emr-7.12.0" in output
    lines = output.splitlines()
    assert any(first in line and "RUNNING" in line for line in lines)
    assert any(second in line and "PENDING" in line for line in lines)
    assert f"https://{REGION}.console.aws.amazon.com/emr/home?region={REGION}#/clusterDetails/{cluster_id}" in output
    assert f"-L 18080:localhost:18080 -L 8088:localhost:8088 hadoop@{cluster['MasterPublicDnsName']}" in output


def test_status_of_a_failed_step_names_its_logs(cli, emr, error, cluster_id):
    cli("run")
    step_id = state()["step_id"]
    # moto never ends a step: fail it the way EMR would, in the server's own state.
    region = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]["ClusterArn"].split(":")[3]
    emr_backends[DEFAULT_ACCOUNT_ID][region].clusters[cluster_id].steps[0].state = "FAILED"

    assert error("status") == (
        f"Error: Step {step_id} failed (no reason given): run `fruits-cloud logs --step-id {step_id}` "
        f"or read s3://{BUCKET}/fruits/logs/{cluster_id}/steps/{step_id}/."
    )


def test_logs_prints_the_gunzipped_step_output(cli, s3, cluster_id):
    cli("run")
    step_id = state()["step_id"]
    key = f"fruits/logs/{cluster_id}/steps/{step_id}/stdout.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(b"Pipeline execution completed successfully.\n"))

    output = cli("logs").output

    assert f"==> s3://{BUCKET}/{key} <==" in output
    assert "Pipeline execution completed successfully." in output


def test_logs_before_emr_copied_them(cli, error, cluster_id):
    cli("run")
    step_id = state()["step_id"]

    assert error("logs") == (
        f"Error: No logs yet in s3://{BUCKET}/fruits/logs/{cluster_id}/steps/{step_id}/: "
        "EMR copies step logs there every few minutes, try again later."
    )


def test_down_terminates_and_a_terminated_cluster_takes_no_step(cli, emr, error, cluster_id):
    output = cli("down").output

    assert f"Cluster {cluster_id}: TERMINATED" in output
    assert emr.describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"] == "TERMINATED"
    assert error("run") == f"Error: Cluster {cluster_id} is TERMINATED: start a new one with `fruits-cloud up`."


def test_unknown_cluster_is_one_sentence(error):
    assert error("status", "--cluster-id", "j-NOSUCHCLUSTER") == (
        f"Error: Cluster j-NOSUCHCLUSTER not found in {REGION}: check --cluster-id and --region."
    )


def test_no_cluster_yet_is_one_sentence(error):
    assert error("down") == "Error: No cluster id: pass --cluster-id or run `fruits-cloud up` first."
