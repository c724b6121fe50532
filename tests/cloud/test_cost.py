"""`fruits-cloud cost`: instances x hours x (EC2 + EMR uplift) from the price table of aws.yml."""

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from devkit.paths import AWS_YML
from fruits.cloud.cost import MIN_TIMED_IMAGES, cluster_hours, estimate, published_run_rate
from fruits.cloud.emr import InstanceGroup

PRICING = yaml.safe_load(AWS_YML.read_text())["pricing"]
M5_XLARGE = 0.224 + 0.048  # EC2 on-demand + EMR, USD per hour in eu-west-3 (the table's assumption)
M5_2XLARGE = 0.448 + 0.096
INSTANCES = M5_2XLARGE + 2 * M5_XLARGE  # the primary sized for the driver, two core nodes
# EBS gp3 per GiB-month over 730 h: root volume 20 GiB on every node, EMR's default data volumes 128 GiB (m5.2xlarge)
# and 64 GiB (m5.xlarge).
EBS = ((20 + 128) + 2 * (20 + 64)) * 0.0928 / 730
IPV4 = 3 * 0.005  # default VPC: a public address per node
CLUSTER = INSTANCES + EBS + IPV4


def test_price_table_states_its_date_and_currency():
    assert PRICING["as_of"] and PRICING["currency"] == "USD"
    assert PRICING["instance_types"]["m5.xlarge"] == {"ec2": 0.224, "emr": 0.048}


def test_estimate_multiplies_instances_hours_and_prices_spot_ec2_only():
    groups = [
        InstanceGroup("Primary", "MASTER", "m5.xlarge", 1, "ON_DEMAND"),
        InstanceGroup("Core", "CORE", "m5.xlarge", 2, "ON_DEMAND"),
        InstanceGroup("Task", "TASK", "m5.xlarge", 4, "SPOT"),
    ]

    costs = estimate(groups, 1.5, PRICING)

    assert [round(cost.total, 4) for cost in costs] == [
        round(1 * M5_XLARGE * 1.5, 4),
        round(2 * M5_XLARGE * 1.5, 4),
        round(4 * (0.224 * 0.4 + 0.048) * 1.5, 4),
    ]


def test_estimate_bills_at_least_one_minute():
    [cost] = estimate([InstanceGroup("Primary", "MASTER", "m5.xlarge", 1, "ON_DEMAND")], 0.0, PRICING)

    assert cost.hours == pytest.approx(1 / 60)


def test_cluster_hours_run_from_creation_to_end_or_now():
    created = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)
    running = {"Status": {"Timeline": {"CreationDateTime": created}}}
    ended = {"Status": {"Timeline": {"CreationDateTime": created, "EndDateTime": created + timedelta(minutes=150)}}}

    assert cluster_hours(ended) == 2.5
    assert cluster_hours(running, now=created + timedelta(minutes=45)) == 0.75


def test_cost_of_the_planned_cluster_without_one_running(cli):
    output = cli("cost", "--hours", "2").output

    assert "Primary" in output and "Core" in output and "Task" not in output  # task group has count 0
    assert f"{CLUSTER * 2:.2f}" in output.splitlines()[-2]  # total row: instances, EBS and addresses x 2 h = 2.29


def test_cost_of_a_cluster_uses_its_instance_groups_and_lifetime(cli, cluster_id):
    cli("down")

    output = cli("cost").output  # moto's cluster lived seconds: the one-minute minimum applies

    assert cluster_id and "Primary" in output and f"{CLUSTER / 60:.2f}" in output.splitlines()[-2]
    assert f"{CLUSTER * 10:.2f}" in cli("cost", "--hours", "10").output


def test_instance_type_missing_from_the_price_table(error, spec):
    spec(lambda content: content["cluster"]["instance_groups"][1].update(type="m7i.xlarge"))

    assert "No price for m7i.xlarge in the pricing table of aws.yml" in error("cost", "--hours", "1")


def test_no_cluster_and_no_hours(error):
    assert error("cost") == "Error: No cluster to time: pass --hours (and optionally --cluster-id)."


def test_ebs_volumes_and_public_addresses_are_priced(cli):
    output = cli("cost", "--hours", "1").output

    assert "EBS Primary (148 GiB gp3 each)" in output and "EBS Core (84 GiB gp3 each)" in output
    [ipv4] = [line for line in output.splitlines() if "public IPv4" in line]
    assert "│ 3 " in ipv4 and "0.0050" in ipv4
    assert CLUSTER == pytest.approx(1.1432, abs=1e-4)


def test_a_private_subnet_has_no_public_addresses(cli, spec):
    spec(lambda content: content["cluster"].update(ec2_subnet_id="subnet-0123456789abcdef0"))

    output = cli("cost", "--hours", "2").output

    assert "public IPv4" not in output
    assert f"{(INSTANCES + EBS) * 2:.2f}" in output.splitlines()[-2]


def cloud_summary(images: int, cores: int | None = 8) -> dict:
    """The parts of a published run_summary.json the rate is read from (its stages add up to 400 s)."""
    return {"run": {"run_id": "r9"}, "featurization": {"images_inferred": images, "cores": cores},
            "stage_seconds": {"featurize_images": 380.0, "fit_pca": 20.0}}


def test_a_published_cloud_run_gives_its_rate_per_vcpu():
    rate = published_run_rate(cloud_summary(20_000))
    assert rate.images_per_vcpu_second == 20_000 / 400 / 8
    assert rate.source == "measured by the published run r9 on the cluster: 20,000 images in 400 s on 8 vCPUs"


@pytest.mark.parametrize("summary", [None, cloud_summary(MIN_TIMED_IMAGES - 1), cloud_summary(0),
                                     cloud_summary(20_000, cores=None)])
def test_no_rate_from_no_run_a_small_run_or_one_without_its_cores(summary):
    assert published_run_rate(summary) is None
