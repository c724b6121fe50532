"""Executor sizing from the instance type: executors that pack the YARN nodes, with room for the application master.

EMR gives YARN a fixed share of each node's memory per instance type (``yarn.nodemanager.resource.memory-mb``,
"Task configuration" tables: https://docs.aws.amazon.com/emr/latest/ReleaseGuide/emr-hadoop-task-config.html).
An executor container is ``spark.executor.memory + spark.executor.memoryOverhead``
(https://spark.apache.org/docs/3.5.6/running-on-yarn.html#spark-properties); YARN rounds each request up to a
multiple of ``yarn.scheduler.minimum-allocation-mb``. In client mode the driver runs on the primary node but the
YARN application master is a container on a core or task node
(https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-plan-instances-guidelines.html), so each node keeps
room for it: one executor of all of a node's memory would leave the node that hosts the master without an
executor (half of a two-node cluster idle).

Python workers (one per task, each with its own TFLite interpreter) live outside the JVM, in the executor's
memoryOverhead (https://spark.apache.org/docs/3.5.6/configuration.html#application-properties,
``spark.executor.memoryOverhead``): the overhead is the Python allowance per core plus Spark's own JVM
overhead rule, max(384 MiB, 10 % of the heap).
"""

from __future__ import annotations

from dataclasses import dataclass

from fruits.cloud.aws import CloudError


@dataclass(frozen=True)
class InstanceType:
    """One EC2 instance type as EMR configures YARN on it."""

    vcpus: int
    memory_gib: int
    yarn_memory_mb: int  # yarn.nodemanager.resource.memory-mb: what YARN may hand out on the node
    yarn_max_allocation_mb: int  # yarn.scheduler.maximum-allocation-mb: the largest single container
    # As the primary node: the heaps of YARN's ResourceManager and proxy server, the MapReduce job history server and
    # HDFS' NameNode (the hadoop-env defaults for the type).
    primary_daemons_mb: int


# vCPU and memory: https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html (m5), co.html (c5), mo.html (r5).
# YARN values: the EMR "Task configuration" tables (default values, without HBase), read from the page's source
# (awsdocs/amazon-emr-release-guide, doc_source/emr-hadoop-task-config.md, last revision before the repository was
# archived in 2023; m5.xlarge's 12,288 MiB is also what the live page gives). Primary daemons: the sum of
# YARN_RESOURCEMANAGER_HEAPSIZE, YARN_PROXYSERVER_HEAPSIZE, HADOOP_JOB_HISTORYSERVER_HEAPSIZE and
# HADOOP_NAMENODE_HEAPSIZE of the "Hadoop daemon configuration settings" tables (doc_source/emr-hadoop-daemons.md of
# the same repository; m5.xlarge: 3 × 2416 + 1843). x86 only: tensorflow-cpu has no aarch64 wheel.
INSTANCE_TYPES: dict[str, InstanceType] = {
    "m5.xlarge": InstanceType(4, 16, yarn_memory_mb=12288, yarn_max_allocation_mb=12288, primary_daemons_mb=9091),
    "m5.2xlarge": InstanceType(8, 32, yarn_memory_mb=24576, yarn_max_allocation_mb=24576, primary_daemons_mb=11713),
    "m5.4xlarge": InstanceType(16, 64, yarn_memory_mb=57344, yarn_max_allocation_mb=57344, primary_daemons_mb=16955),
    "c5.2xlarge": InstanceType(8, 16, yarn_memory_mb=12288, yarn_max_allocation_mb=12288, primary_daemons_mb=9091),
    "c5.4xlarge": InstanceType(16, 32, yarn_memory_mb=24576, yarn_max_allocation_mb=24576, primary_daemons_mb=11713),
    "r5.xlarge": InstanceType(4, 32, yarn_memory_mb=24576, yarn_max_allocation_mb=24576, primary_daemons_mb=11713),
    "r5.2xlarge": InstanceType(8, 64, yarn_memory_mb=57344, yarn_max_allocation_mb=57344, primary_daemons_mb=16955),
}
# `type: auto` for the primary group: the first of these (cheapest first) that leaves the driver its memory.
PRIMARY_CANDIDATES = ("m5.xlarge", "m5.2xlarge", "m5.4xlarge")
# Also on the primary node: the Spark history server (SPARK_DAEMON_MEMORY, 1 GiB by default), and the system with
# EMR's instance controller and agents (an allowance: EMR publishes no figure).
SPARK_HISTORY_SERVER_MB = 1024
SYSTEM_MB = 1024
YARN_MIN_ALLOCATION_MB = 32  # yarn.scheduler.minimum-allocation-mb: 32 for every type above (same tables)
# Spark's minimum memory overhead of a JVM container (spark.executor.memoryOverhead / spark.yarn.am.memoryOverhead).
SPARK_MIN_OVERHEAD_MB = 384
SPARK_OVERHEAD_FACTOR = 0.10
# The client-mode application master only negotiates containers: Spark's default 512 MiB heap is plenty.
AM_MEMORY_MB = 512
# Tasks per executor JVM: 4 divides the vCPU count of every type above, so executors use every core of a node.
EXECUTOR_CORES = 4
# Below this, the JVM side (Arrow batches to and from Python, Parquet writes) is too tight to be worth it.
MIN_HEAP_MB_PER_CORE = 512


@dataclass(frozen=True)
class ExecutorPlan:
    """What `up` writes into spark-defaults, and what a run gets."""

    executors_per_node: int
    nodes: int
    cores: int  # per executor
    heap_mb: int  # spark.executor.memory
    overhead_mb: int  # spark.executor.memoryOverhead: Python workers + JVM native memory
    driver_mb: int  # spark.driver.memory (client mode: the driver JVM runs on the primary node)

    @property
    def executors(self) -> int:
        return self.executors_per_node * self.nodes

    @property
    def total_cores(self) -> int:
        return self.executors * self.cores

    @property
    def container_mb(self) -> int:
        return self.heap_mb + self.overhead_mb

    def summary(self) -> str:
        """The one line `up` and the dry runs print."""
        return (
            f"{self.executors} executors × {self.cores} cores ({self.total_cores} total cores): "
            f"{self.executors_per_node} per node on {self.nodes} core/task nodes, "
            f"{self.heap_mb} MiB heap + {self.overhead_mb} MiB overhead each; driver {self.driver_mb} MiB."
        )

    def spark_properties(self) -> dict[str, str]:
        """spark-defaults for this plan; static allocation, so the printed executor count is the one run."""
        return {
            "spark.dynamicAllocation.enabled": "false",
            "spark.executor.instances": str(self.executors),
            "spark.executor.cores": str(self.cores),
            "spark.executor.memory": f"{self.heap_mb}m",
            "spark.executor.memoryOverhead": f"{self.overhead_mb}m",
            "spark.driver.memory": f"{self.driver_mb}m",
            "spark.yarn.am.memory": f"{AM_MEMORY_MB}m",
            "spark.yarn.am.memoryOverhead": f"{SPARK_MIN_OVERHEAD_MB}m",
        }


def instance_type(name: str) -> InstanceType:
    """The table entry of a type, or the fix when it is not there."""
    if name not in INSTANCE_TYPES:
        raise CloudError(
            f"Instance type {name} is not in the sizing table (src/fruits/cloud/sizing.py): use one of "
            f"{', '.join(INSTANCE_TYPES)} or add its YARN memory from the EMR task configuration page."
        )
    return INSTANCE_TYPES[name]


def yarn_container_mb(request_mb: int) -> int:
    """The container YARN grants for a request: rounded up to the minimum allocation."""
    return -(-request_mb // YARN_MIN_ALLOCATION_MB) * YARN_MIN_ALLOCATION_MB


def am_container_mb() -> int:
    """The application master's container (heap + Spark's minimum overhead), kept free on every node."""
    return yarn_container_mb(AM_MEMORY_MB + SPARK_MIN_OVERHEAD_MB)


def jvm_heap_mb(jvm_mb: int) -> int:
    """The largest heap whose heap + max(384 MiB, 10 % of heap) fits in ``jvm_mb``."""
    return min(jvm_mb - SPARK_MIN_OVERHEAD_MB, int(jvm_mb / (1 + SPARK_OVERHEAD_FACTOR)))


def driver_footprint_mb(driver_mb: int, python_mb: int) -> int:
    """What the client-mode driver takes on the primary node: its JVM (heap + Spark's overhead rule) and its Python
    process (Kedro, pandas, the reports; no TensorFlow: the converted model comes from the bucket's cache)."""
    return driver_mb + max(SPARK_MIN_OVERHEAD_MB, int(driver_mb * SPARK_OVERHEAD_FACTOR)) + python_mb


def primary_free_mb(node: InstanceType) -> int:
    """A primary node's memory less its Hadoop daemons' heaps, the Spark history server and the system."""
    return node.memory_gib * 1024 - node.primary_daemons_mb - SPARK_HISTORY_SERVER_MB - SYSTEM_MB


def primary_type(name: str, driver_mb: int, python_mb: int) -> str:
    """The primary's instance type: ``auto`` is the cheapest candidate whose free memory holds the driver; a named
    type must hold it too (a driver beside the ResourceManager and NameNode on too small a node is killed by the
    kernel, or starves them)."""
    need = driver_footprint_mb(driver_mb, python_mb)
    if name == "auto":
        fitting = [candidate for candidate in PRIMARY_CANDIDATES if primary_free_mb(INSTANCE_TYPES[candidate]) >= need]
        if not fitting:
            raise CloudError(f"No primary type of {', '.join(PRIMARY_CANDIDATES)} leaves the driver {need} MiB: "
                             "lower cluster.driver_mib in aws.yml.")
        return fitting[0]
    free = primary_free_mb(instance_type(name))
    if free < need:
        raise CloudError(
            f"The primary {name} leaves {free} MiB after YARN's ResourceManager, the NameNode and the history "
            f"servers; the driver needs {need} MiB: set its type to auto (or a larger type) in aws.yml."
        )
    return name


def plan_executors(worker: InstanceType, nodes: int, driver_mb: int, python_mb_per_core: int) -> ExecutorPlan:
    """Executors of ``EXECUTOR_CORES`` cores that use every vCPU of ``nodes`` identical worker nodes.

    Each node's YARN memory, less one application-master container, is split evenly between its executors (a
    multiple of YARN's allocation step, so rounding cannot push the sum over); the Python allowance per core goes
    into the overhead and the JVM keeps the rest.
    """
    per_node = worker.vcpus // EXECUTOR_CORES
    budget_mb = (worker.yarn_memory_mb - am_container_mb()) // per_node
    container_mb = min(budget_mb, worker.yarn_max_allocation_mb) // YARN_MIN_ALLOCATION_MB * YARN_MIN_ALLOCATION_MB
    heap_mb = jvm_heap_mb(container_mb - EXECUTOR_CORES * python_mb_per_core)
    if heap_mb < EXECUTOR_CORES * MIN_HEAP_MB_PER_CORE:
        raise CloudError(
            f"{container_mb} MiB per {EXECUTOR_CORES}-core executor leaves {heap_mb} MiB of JVM heap after "
            f"{python_mb_per_core} MiB per Python worker: choose an instance type with more memory per vCPU."
        )
    return ExecutorPlan(
        executors_per_node=per_node,
        nodes=nodes,
        cores=EXECUTOR_CORES,
        heap_mb=heap_mb,
        overhead_mb=container_mb - heap_mb,
        driver_mb=driver_mb,
    )
