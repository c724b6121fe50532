"""Executor sizing: for each supported instance type, executors pack the node's YARN memory and use every vCPU,
with room for the client-mode application master; the Python workers get their allowance."""

import pytest
import yaml

from fruits.cloud.aws import CloudError
from fruits.cloud.sizing import (
    INSTANCE_TYPES,
    SPARK_MIN_OVERHEAD_MB,
    YARN_MIN_ALLOCATION_MB,
    InstanceType,
    am_container_mb,
    instance_type,
    plan_executors,
    yarn_container_mb,
)
from tests.support.paths import AWS_YML

SPEC = yaml.safe_load(AWS_YML.read_text())
PYTHON_MB = SPEC["cluster"]["python_mib_per_core"]
PRIMARY = INSTANCE_TYPES["m5.xlarge"]


def test_python_allowance_covers_the_measured_worker_with_margin():
    assert PYTHON_MB >= 768  # benchmark: ≈ 0.4 GiB peak per Python worker (README, Performance)


def test_application_master_container_is_its_heap_and_minimum_overhead():
    assert am_container_mb() == 512 + 384 == 896


@pytest.mark.parametrize("name", sorted(INSTANCE_TYPES))
def test_executors_pack_each_supported_type(name):
    node = INSTANCE_TYPES[name]

    plan = plan_executors(node, nodes=2, primary=PRIMARY, python_mb_per_core=PYTHON_MB)

    container = yarn_container_mb(plan.container_mb)
    assert container == plan.container_mb  # a multiple of the allocation step: YARN grants exactly this
    assert plan.executors_per_node * container + am_container_mb() <= node.yarn_memory_mb  # the AM fits too
    assert node.yarn_memory_mb - (plan.executors_per_node + 1) * container < am_container_mb()  # nothing idles
    assert container <= node.yarn_max_allocation_mb
    assert plan.executors_per_node * plan.cores == node.vcpus  # every core runs a task
    assert plan.overhead_mb >= plan.cores * PYTHON_MB + max(SPARK_MIN_OVERHEAD_MB, plan.heap_mb // 10)
    assert plan.heap_mb >= plan.cores * 512


def test_m5_xlarge_gets_an_executor_on_each_node_not_one_for_the_cluster():
    """The first version asked 6g + 6g = 12,288 MiB: the node hosting the AM could not take an executor."""
    plan = plan_executors(INSTANCE_TYPES["m5.xlarge"], nodes=2, primary=PRIMARY, python_mb_per_core=PYTHON_MB)

    assert (plan.executors, plan.total_cores, plan.container_mb) == (2, 8, 12288 - 896)
    assert plan.summary().startswith("2 executors × 4 cores (8 total cores)")


def test_driver_gets_a_quarter_of_the_primary():
    plan = plan_executors(PRIMARY, nodes=2, primary=INSTANCE_TYPES["m5.2xlarge"], python_mb_per_core=PYTHON_MB)

    assert plan.driver_mb == 8192 and plan.spark_properties()["spark.driver.memory"] == "8192m"


def test_too_little_memory_per_core_is_refused():
    small = InstanceType(vcpus=4, memory_gib=8, yarn_memory_mb=6144, yarn_max_allocation_mb=6144)

    with pytest.raises(CloudError, match="choose an instance type with more memory per vCPU"):
        plan_executors(small, nodes=2, primary=PRIMARY, python_mb_per_core=PYTHON_MB)


def test_unknown_type_names_the_table():
    with pytest.raises(CloudError, match="m7g.xlarge is not in the sizing table"):
        instance_type("m7g.xlarge")


def test_allocation_step_rounds_up():
    assert yarn_container_mb(YARN_MIN_ALLOCATION_MB + 1) == 2 * YARN_MIN_ALLOCATION_MB
