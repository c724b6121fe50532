"""Cost estimate: instances x hours x (EC2 + EMR uplift) from the price table in aws.yml."""

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


def hourly_cost(groups: list[InstanceGroup], pricing: dict[str, Any]) -> float:
    """What the running cluster costs per hour, every instance (EC2 + EMR)."""
    return sum(cost.total for cost in estimate(groups, 1.0, pricing))


def cost_per_images(hourly: float, total_cores: int, images_per_core_second: float, images: int = 10_000) -> float:
    """The pipeline time of ``images`` at a measured per-core rate, priced at the cluster's hourly cost.

    Start-up (provisioning and bootstrap, billed once per cluster) and idle time are not included.
    """
    return hourly * images / (images_per_core_second * total_cores * 3600)


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


def cost_table(costs: list[GroupCost], pricing: dict[str, Any]) -> Table:
    currency = pricing["currency"]
    table = Table(
        "group",
        "role",
        "type",
        "market",
        "count",
        f"{currency}/h each",
        "hours",
        currency,
        title=f"Estimated cost (price table of {pricing['as_of']}, EBS/S3/transfer excluded)",
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
    table.add_row(
        "total", "", "", "", str(sum(c.group.count for c in costs)), "", "", f"{sum(c.total for c in costs):.2f}"
    )
    return table
