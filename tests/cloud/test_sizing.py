"""Executor sizing: for each supported instance type, executors pack the node's YARN memory and use every vCPU,
with room for the client-mode application master; the Python workers get their allowance."""

import pytest
import yaml

from devkit.paths import AWS_YML
from fruits.cloud.aws import CloudError
from fruits.cloud.config import load_settings
from fruits.cloud.emr import spec_groups
from fruits.cloud.sizing import (
    INSTANCE_TYPES,
    SPARK_MIN_OVERHEAD_MB,
    YARN_MIN_ALLOCATION_MB,
    InstanceType,
    am_container_mb,
    driver_footprint_mb,
    instance_type,
    plan_executors,
    primary_free_mb,
    primary_type,
    yarn_container_mb,
)

SPEC = yaml.safe_load(AWS_YML.read_text())
PYTHON_MB = SPEC["cluster"]["python_mib_per_core"]
DRIVER_MB = SPEC["cluster"]["driver_mib"]
DRIVER_PYTHON_MB = SPEC["cluster"]["driver_python_mib"]


def test_python_allowance_covers_the_measured_worker_with_margin():
    assert PYTHON_MB >= 768  # benchmark: ≈ 0.4 GiB peak per Python worker (README, Performance)


def test_application_master_container_is_its_heap_and_minimum_overhead():
    assert am_container_mb() == 512 + 384 == 896


@pytest.mark.parametrize("name", sorted(INSTANCE_TYPES))
def test_executors_pack_each_supported_type(name):
    node = INSTANCE_TYPES[name]

    plan = plan_executors(node, nodes=2, driver_mb=DRIVER_MB, python_mb_per_core=PYTHON_MB)

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
    plan = plan_executors(INSTANCE_TYPES["m5.xlarge"], nodes=2, driver_mb=DRIVER_MB, python_mb_per_core=PYTHON_MB)

    assert (plan.executors, plan.total_cores, plan.container_mb) == (2, 8, 12288 - 896)
    assert plan.summary().startswith("2 executors × 4 cores (8 total cores)")


def test_driver_heap_is_aws_yml_s():
    plan = plan_executors(INSTANCE_TYPES["m5.xlarge"], nodes=2, driver_mb=4096, python_mb_per_core=PYTHON_MB)

    assert plan.driver_mb == 4096 and plan.spark_properties()["spark.driver.memory"] == "4096m"


def test_primary_daemons_are_the_hadoop_env_defaults():
    """ResourceManager, proxy server and job history server of 2416 MiB each, NameNode 1843 MiB (m5.xlarge)."""
    assert INSTANCE_TYPES["m5.xlarge"].primary_daemons_mb == 3 * 2416 + 1843
    assert primary_free_mb(INSTANCE_TYPES["m5.xlarge"]) == 16384 - 9091 - 1024 - 1024 == 5245


def test_the_driver_does_not_fit_beside_the_daemons_of_an_m5_xlarge():
    """4096 MiB heap + 409 MiB overhead + 1024 MiB of Python = 5529 MiB > the 5245 MiB an m5.xlarge leaves."""
    need = driver_footprint_mb(DRIVER_MB, DRIVER_PYTHON_MB)

    assert need == 4096 + 409 + 1024
    assert primary_type("auto", DRIVER_MB, DRIVER_PYTHON_MB) == "m5.2xlarge"
    with pytest.raises(CloudError, match="The primary m5.xlarge leaves 5245 MiB .* the driver needs 5529 MiB"):
        primary_type("m5.xlarge", DRIVER_MB, DRIVER_PYTHON_MB)


def test_a_smaller_driver_gets_the_cheaper_primary():
    assert primary_type("auto", 3072, 1024) == "m5.xlarge"  # 3072 + 384 + 1024 = 4480 <= 5245
    assert primary_type("m5.4xlarge", DRIVER_MB, DRIVER_PYTHON_MB) == "m5.4xlarge"


def test_no_candidate_holds_a_huge_driver():
    with pytest.raises(CloudError, match="lower cluster.driver_mib"):
        primary_type("auto", 60_000, 1024)


def test_the_cluster_request_gets_the_sized_primary():
    settings = load_settings(AWS_YML, None, "b", None)

    [primary] = [group for group in spec_groups(settings) if group.role == "MASTER"]

    assert primary.instance_type == "m5.2xlarge"


def test_too_little_memory_per_core_is_refused():
    small = InstanceType(4, 8, yarn_memory_mb=6144, yarn_max_allocation_mb=6144, primary_daemons_mb=4096)

    with pytest.raises(CloudError, match="choose an instance type with more memory per vCPU"):
        plan_executors(small, nodes=2, driver_mb=DRIVER_MB, python_mb_per_core=PYTHON_MB)


def test_unknown_type_names_the_table():
    with pytest.raises(CloudError, match="m7g.xlarge is not in the sizing table"):
        instance_type("m7g.xlarge")


def test_allocation_step_rounds_up():
    assert yarn_container_mb(YARN_MIN_ALLOCATION_MB + 1) == 2 * YARN_MIN_ALLOCATION_MB
