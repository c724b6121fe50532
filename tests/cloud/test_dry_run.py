"""`up --dry-run` and `run --dry-run`: the exact request, the executors, the cost; nothing sent to EMR."""

import json

import pytest
import yaml

from devkit.paths import AWS_YML

SPEC = yaml.safe_load(AWS_YML.read_text())
# m5.2xlarge primary + 2 × m5.xlarge (EC2 + EMR), their EBS volumes and 3 public IPv4 addresses (aws.yml's prices).
HOURLY = (0.448 + 0.096) + 2 * (0.224 + 0.048) + (148 + 2 * 84) * 0.0928 / 730 + 3 * 0.005
RATE = SPEC["throughput"]["images_per_core_second"] / 2  # one m5 vCPU, a hyperthread, counts as half a core


def printed_request(output: str, operation: str) -> dict:
    """The JSON document after the '<operation> request' line (it ends where the plan line starts)."""
    head, _, rest = output.partition(f"{operation} request (dry run, nothing sent):\n")
    assert not head
    return json.loads(rest[: rest.index("\n}\n") + 2])


def test_up_dry_run_prints_what_up_sends_and_sends_nothing(cli, packaged, recorded_requests):
    output = cli("up", "--dry-run").output

    assert not recorded_requests("ElasticMapReduce.")
    request = printed_request(output, "RunJobFlow")
    cli("up")
    [(_, sent)] = recorded_requests("ElasticMapReduce.RunJobFlow")
    assert request == sent
    assert "2 executors × 4 cores (8 total cores)" in output


def test_dry_run_prices_an_hour_and_10k_images(cli, packaged):
    output = cli("up", "--dry-run").output

    per_10k = HOURLY * 10_000 / (RATE * 8 * 3600)
    assert (
        f"Estimated cost: {HOURLY:.3f} USD/h (instances, EBS, public IPv4); {per_10k:.3f} USD per 10,000 images at "
        f"{RATE:g} images/s per vCPU (61 per core measured on {SPEC['throughput']['source']}, "
        f"{SPEC['throughput']['measured']}, × 0.5 per hyperthread); start-up, bootstrap and idle time not included."
    ) in output
    assert per_10k == pytest.approx(0.01301, abs=1e-5)  # 10,000 / (30.5 × 8) ≈ 41 s of 1.143 USD/h


def test_dry_run_prices_10k_images_at_the_published_cloud_runs_rate(cli, packaged, s3):
    summary = {"run": {"run_id": "r9"}, "featurization": {"images_inferred": 20_000, "cores": 8},
               "stage_seconds": {"featurize_images": 380.0, "fit_pca": 20.0}}
    location = "runs/r9/08_reporting/run_summary.json"
    s3.put_object(Bucket=packaged, Key=f"fruits/data/{location}", Body=json.dumps(summary).encode())
    pointer = {"run_id": "r9", "datasets": {"08_reporting/run_summary.json": location}, "tables": {}}
    s3.put_object(Bucket=packaged, Key="fruits/data/current.json", Body=json.dumps(pointer).encode())

    output = cli("up", "--dry-run").output

    per_10k = HOURLY * 10_000 / (6.25 * 8 * 3600)  # 20,000 images / 400 s / 8 vCPUs
    assert (f"{per_10k:.3f} USD per 10,000 images at 6.25 images/s per vCPU (measured by the published run r9 on the "
            "cluster: 20,000 images in 400 s on 8 vCPUs)") in output


def test_run_dry_run_prints_the_step_and_sends_nothing(cli, cluster_id, recorded_requests):
    output = cli("run", "--dry-run", "--", "--params", "sampling.strategy=per_class,sampling.size=100").output

    request = printed_request(output, "AddJobFlowSteps")
    assert request["JobFlowId"] == cluster_id
    assert request["Steps"][0]["HadoopJarStep"]["Args"][-2:] == [
        "--params",
        "sampling.strategy=per_class,sampling.size=100",
    ]
    assert not recorded_requests("ElasticMapReduce.AddJobFlowSteps")
    assert "2 executors × 4 cores (8 total cores)" in output


def test_run_dry_run_before_any_cluster(cli, recorded_requests, recorded_writes):
    output = cli("run", "--dry-run").output

    assert printed_request(output, "AddJobFlowSteps")["JobFlowId"] == "<cluster id from `fruits-cloud up`>"
    assert not recorded_requests("ElasticMapReduce.")
    assert not recorded_writes()  # at most the published run's summary was read, for the rate


def test_up_dry_run_needs_no_credentials(cli, monkeypatch, recorded_requests):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)

    output = cli("up", "--dry-run").output

    request = printed_request(output, "RunJobFlow")
    assert request["BootstrapActions"][0]["ScriptBootstrapAction"]["Args"][0] == (
        "s3://fruits-test-bucket/fruits/artifacts/fruits-<version>-py3-none-any.whl"
    )
    assert "No AWS credentials: the bucket and its artifacts were not checked" in output
    assert "2 executors × 4 cores (8 total cores)" in output
    assert not recorded_requests("")
