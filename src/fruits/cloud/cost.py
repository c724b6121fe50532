"""Cost estimate from the price table in aws.yml: instances x hours x (EC2 + EMR uplift), the nodes' EBS volumes and
their public IPv4 addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rich.table import Table

from fruits.cloud import emr
from fruits.cloud.aws import CloudError
from fruits.cloud.config import Settings
from fruits.cloud.emr import InstanceGroup

MINIMUM_HOURS = 1 / 60  # EC2 and EMR bill per second with a one-minute minimum per instance
HOURS_PER_MONTH = 730  # AWS prices GiB-months over 730 hours
MIN_TIMED_IMAGES = 1000  # a cloud run that inferred fewer gives no rate: its fixed costs would dominate


@dataclass(frozen=True)
class GroupCost:
    group: InstanceGroup
    hourly: float  # per instance, EC2 + EMR
    hours: float

    @property
    def total(self) -> float:
        return self.group.count * self.hourly * self.hours


def hourly_price(pricing: dict[str, Any], instance_type: str, market: str) -> float:
    """Price of one instance-hour; spot discounts only the EC2 part, the EMR uplift is the same."""
    prices = pricing["instance_types"].get(instance_type)
    if prices is None:
        raise CloudError(f"No price for {instance_type} in the pricing table of aws.yml: add its EC2 and EMR rates.")
    ec2 = prices["ec2"] * (pricing["spot_ec2_ratio"] if market == "SPOT" else 1.0)
    return ec2 + prices["emr"]


def estimate(groups: list[InstanceGroup], hours: float, pricing: dict[str, Any]) -> list[GroupCost]:
    """Cost per instance group for ``hours`` (at least the billed minimum)."""
    billed = max(hours, MINIMUM_HOURS)
    return [GroupCost(group, hourly_price(pricing, group.instance_type, group.market), billed) for group in groups]


@dataclass(frozen=True)
class NodeCost:
    """A cost per node that is not the instance's: its EBS volumes, its public IPv4 address."""

    item: str
    nodes: int
    hourly: float  # per node
    hours: float

    @property
    def total(self) -> float:
        return self.nodes * self.hourly * self.hours


def ebs_gib(settings: Settings, instance_type: str) -> int:
    """A node's EBS storage: the root volume the request sets, and the data volumes EMR attaches by default to an
    instance type without instance store (aws.yml ``pricing.emr_default_ebs_gib``)."""
    defaults = settings.spec["pricing"]["emr_default_ebs_gib"]
    if instance_type not in defaults:
        raise CloudError(f"No default EBS size for {instance_type} in the pricing table of aws.yml: add it.")
    return emr.root_volume_gib(settings) + int(defaults[instance_type])


def public_addresses(settings: Settings) -> bool:
    """Whether every node gets a public IPv4 address: in the default VPC's public subnets, yes; a subnet of aws.yml
    is taken as the recommended private one (docs/cloud.md, Network), which gives none."""
    return not settings.spec["cluster"].get("ec2_subnet_id")


def node_costs(groups: list[InstanceGroup], hours: float, settings: Settings) -> list[NodeCost]:
    """EBS volumes (gp3, per GiB-month) per group, and one public IPv4 address per node outside a private subnet."""
    pricing = settings.spec["pricing"]
    billed = max(hours, MINIMUM_HOURS)
    per_gib_hour = float(pricing["ebs_gp3_gib_month"]) / HOURS_PER_MONTH
    found = [
        NodeCost(f"EBS {group.name} ({ebs_gib(settings, group.instance_type)} GiB gp3 each)", group.count,
                 ebs_gib(settings, group.instance_type) * per_gib_hour, billed)
        for group in groups
    ]
    if public_addresses(settings):
        found.append(NodeCost("public IPv4 (one per node)", sum(group.count for group in groups),
                              float(pricing["public_ipv4_hour"]), billed))
    return found


def hourly_cost(groups: list[InstanceGroup], settings: Settings) -> float:
    """What the running cluster costs per hour: instances (EC2 + EMR), EBS volumes, public addresses."""
    instances = estimate(groups, 1.0, settings.spec["pricing"])
    return sum(cost.total for cost in instances) + sum(cost.total for cost in node_costs(groups, 1.0, settings))


def cost_per_images(hourly: float, total_vcpus: int, images_per_vcpu_second: float, images: int = 10_000) -> float:
    """The pipeline time of ``images`` at a per-vCPU rate, priced at the cluster's hourly cost.

    Start-up (provisioning and bootstrap, billed once per cluster) and idle time are not included.
    """
    return hourly * images / (images_per_vcpu_second * total_vcpus * 3600)


@dataclass(frozen=True)
class Rate:
    """Images per vCPU-second, and where the figure comes from (printed beside the cost it gives)."""

    images_per_vcpu_second: float
    source: str


def configured_rate(throughput: dict[str, Any]) -> Rate:
    """The development machine's measured rate per core (aws.yml's ``throughput``), converted to one m5 vCPU (a
    hyperthread: two share a physical core) by ``throughput.vcpu_per_core``."""
    per_core, per_vcpu = float(throughput["images_per_core_second"]), float(throughput["vcpu_per_core"])
    return Rate(per_core * per_vcpu, f"{per_core:g} per core measured on {throughput['source']}, "
                                     f"{throughput['measured']}, × {per_vcpu:g} per hyperthread")


def published_run_rate(summary: dict[str, Any] | None) -> Rate | None:
    """The rate of the published cloud run (its run_summary.json): images inferred over its pipeline's seconds and
    the cores Spark ran it on; None without such a run, or when it inferred too few images to time (a rerun, a
    handful of new photos: fixed costs would dominate)."""
    if summary is None:
        return None
    featurization = summary.get("featurization", {})
    images, cores = featurization.get("images_inferred", 0), featurization.get("cores")
    seconds = sum(summary.get("stage_seconds", {}).values())
    if images < MIN_TIMED_IMAGES or not cores or seconds <= 0:
        return None
    return Rate(images / seconds / cores, f"measured by the published run {summary['run']['run_id']} on the "
                                          f"cluster: {images:,} images in {seconds:.0f} s on {cores} vCPUs")


def cluster_hours(cluster: dict[str, Any], now: datetime | None = None) -> float:
    """Hours from the cluster's creation to its end (or now while it runs): billing starts at the request."""
    timeline = cluster["Status"]["Timeline"]
    end = timeline.get("EndDateTime") or now or datetime.now(timezone.utc)
    return (end - timeline["CreationDateTime"]).total_seconds() / 3600


def usage(
    emr_client: Any, settings: Settings, cluster_id: str | None, hours: float | None
) -> tuple[list[InstanceGroup], float]:
    """What to price: a cluster's groups and (unless ``hours`` is given) lifetime; without a cluster, the
    groups of aws.yml for ``hours`` (a budget before `up`)."""
    if cluster_id:
        cluster = emr.describe_cluster(emr_client, cluster_id)
        groups = emr.cluster_groups(emr_client, cluster_id)
        return groups, hours if hours is not None else cluster_hours(cluster)
    if hours is None:
        raise CloudError("No cluster to time: pass --hours (and optionally --cluster-id).")
    return emr.spec_groups(settings), hours


def cost_table(costs: list[GroupCost], extras: list[NodeCost], pricing: dict[str, Any]) -> Table:
    currency = pricing["currency"]
    table = Table(
        "item",
        "role",
        "type",
        "market",
        "count",
        f"{currency}/h each",
        "hours",
        currency,
        title=f"Estimated cost (price table of {pricing['as_of']}, S3 and data transfer excluded)",
    )
    for cost in costs:
        group = cost.group
        table.add_row(
            group.name,
            group.role,
            group.instance_type,
            group.market,
            str(group.count),
            f"{cost.hourly:.4f}",
            f"{cost.hours:.2f}",
            f"{cost.total:.2f}",
        )
    for extra in extras:
        table.add_row(extra.item, "", "", "", str(extra.nodes), f"{extra.hourly:.4f}", f"{extra.hours:.2f}",
                      f"{extra.total:.2f}")
    total = sum(c.total for c in costs) + sum(e.total for e in extras)
    table.add_row("total", "", "", "", str(sum(c.group.count for c in costs)), "", "", f"{total:.2f}")
    return table
