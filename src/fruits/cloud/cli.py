"""`fruits-cloud` commands. Each one is a few calls into the modules next to this one."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import click
from kedro.io.core import DatasetError
from rich.console import Console

from fruits.cloud import cost as costs
from fruits.cloud import doctor as checks
from fruits.cloud import emr, glue, model, packaging, wheelhouse
from fruits.cloud import results as outputs
from fruits.cloud.aws import CloudError, client, has_credentials, user_errors
from fruits.cloud.config import DEFAULT_CONFIG, Settings, load_settings, load_state, remembered, save_state
from fruits.cloud.s3 import ensure_bucket, local_files, require_bucket, sync
from fruits.datasets.inference_model import keras_weights_name
from fruits.latest import published_summary
from fruits.publishing import DataRoot

pass_settings = click.make_pass_decorator(Settings)


class _CloudGroup(click.Group):
    """Every command reports AWS failures (credentials, refusals) as one sentence instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        with user_errors():
            return super().invoke(ctx)


cluster_option = click.option("--cluster-id", help="EMR cluster id (j-...). [default: the one started by `up`]")
step_option = click.option("--step-id", help="EMR step id (s-...). [default: the one submitted by `run`]")
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Print the exact request, the executors and the cost; send nothing."
)


def echo_request(operation: str, request: dict[str, Any]) -> None:
    """A request exactly as boto3 would send it, as JSON."""
    click.echo(f"{operation} request (dry run, nothing sent):\n{json.dumps(request, indent=2)}")


def echo_plan(settings: Settings) -> None:
    """Executors × cores of aws.yml's cluster, its hourly cost and the cost of 10,000 images: at the rate of the
    published cloud run when there is one to time (credentials needed to read it), else at aws.yml's."""
    plan = emr.executor_plan(settings)
    pricing = settings.spec["pricing"]
    hourly = costs.hourly_cost(emr.spec_groups(settings), settings)
    summary = published_summary(DataRoot(settings.uri("data"))) if has_credentials() else None
    rate = costs.published_run_rate(summary) or costs.configured_rate(settings.spec["throughput"])
    per_10k = costs.cost_per_images(hourly, plan.total_cores, rate.images_per_vcpu_second)
    click.echo(plan.summary())
    click.echo(
        f"Estimated cost: {hourly:.3f} {pricing['currency']}/h (instances, EBS, public IPv4); {per_10k:.3f} "
        f"{pricing['currency']} per 10,000 images at {rate.images_per_vcpu_second:.3g} images/s per vCPU "
        f"({rate.source}); start-up, bootstrap and idle time not included."
    )


@click.group(cls=_CloudGroup)
@click.option(
    "--region", envvar="FRUITS_REGION", help="AWS region for bucket, cluster and logs. [default: aws.yml, eu-west-3]"
)
@click.option(
    "--bucket", envvar="FRUITS_BUCKET", help="Project bucket (required). [env FRUITS_BUCKET; or aws.yml's bucket]"
)
@click.option(
    "--prefix", envvar="FRUITS_PREFIX", help="Key prefix inside the bucket. [env FRUITS_PREFIX; default: fruits]"
)
@click.option(
    "--config",
    "config_path",
    envvar="FRUITS_CLOUD_CONFIG",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_CONFIG,
    show_default=True,
    help="Cluster and deployment spec.",
)
@click.pass_context
def cli(ctx: click.Context, region: str | None, bucket: str | None, prefix: str | None, config_path: Path) -> None:
    """Run the fruits pipeline on AWS EMR, from nothing to results and back to nothing.

    \b
    fruits-cloud bucket                                # once
    fruits-cloud upload --weights imagenet             # weights + converted model -> the bucket
    fruits-cloud upload --images DIR                   # images -> s3://BUCKET/PREFIX/data/01_raw/DIR/
    fruits-cloud package                               # wheel, conf, lock, entrypoint, bootstrap -> artifacts/
    fruits-cloud wheelhouse                            # the cluster's wheels -> artifacts/wheelhouse/
    fruits-cloud doctor                                # read-only checks, one line each
    fruits-cloud up --dry-run                          # the request, the executors, the cost; nothing sent
    fruits-cloud up                                    # EMR cluster (auto-terminates when idle)
    fruits-cloud run                                   # kedro run --env cloud as an EMR step
    fruits-cloud status / logs / results / cost
    fruits-cloud tables                                # Delta tables in the Glue Data Catalog, for Athena
    fruits-cloud down
    """
    ctx.obj = load_settings(config_path, region, bucket, prefix)


@cli.command()
@pass_settings
def bucket(settings: Settings) -> None:
    """Create the project bucket in the region: all public access blocked, default encryption on, HTTPS only.

    Safe to re-run: an existing bucket gets the same settings re-applied (other bucket-policy statements are
    kept); a bucket of that name in another region is refused.
    """
    created = ensure_bucket(client("s3", settings.region), settings)
    click.echo(
        f"Bucket {settings.bucket} {'created' if created else 'already exists'} in {settings.region}: "
        f"public access blocked, default encryption {settings.spec['encryption']['algorithm']}, "
        "non-TLS requests denied."
    )


@cli.command()
@click.option(
    "--images",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of class folders (your photos): to s3://BUCKET/PREFIX/data/01_raw/<its name>/.",
)
@click.option("--dest", help="Folder under s3://BUCKET/PREFIX/data/ instead of 01_raw/<name of --images>.")
@click.option(
    "--weights",
    help="MobileNetV2 weights for the cluster: `imagenet` (Keras' download, cached) or a weights file; uploaded "
    "with their TFLite conversion (made here once, with TensorFlow) to the bucket's model cache.",
)
@click.option("--image-size", default=224, show_default=True, help="Input size the weights are converted for.")
@pass_settings
def upload(settings: Settings, images: Path | None, dest: str | None, weights: str | None, image_size: int) -> None:
    """Sync a folder of images to the data folder in S3 (files with the same size and MD5 are skipped) and print the
    `run` arguments that process it; and/or upload the model, so the cluster needs no internet and no TensorFlow."""
    if images is None and weights is None:
        raise CloudError("Nothing to upload: pass --images DIR (a folder of class folders) and/or --weights imagenet.")
    s3 = client("s3", settings.region)
    require_bucket(s3, settings)
    if weights is not None:
        upload_model(s3, settings, weights, image_size)
    if images is not None:
        folder = dest or f"01_raw/{images.resolve().name}"
        result = sync(s3, settings.bucket, local_files(images, settings.key("data", folder)))
        click.echo(
            f"{result.uploaded} uploaded, {result.skipped} unchanged (skipped) -> {settings.uri('data', folder)}/"
        )
        raw_images = f"s3a://{settings.bucket}/{settings.key('data', folder)}"
        click.echo(f"Run on them: fruits-cloud run -- --params {shlex.quote(f'raw_images={raw_images}')}")


def upload_model(s3: Any, settings: Settings, weights: str, image_size: int) -> None:
    """The weights and their conversion into the bucket; the `run` argument when conf/cloud does not name them."""
    try:
        files = model.prepare(weights, image_size)
    except DatasetError as error:
        raise CloudError(str(error)) from None
    result = sync(s3, settings.bucket, files.keys(settings))
    uri = f"s3a://{settings.bucket}/{model.weights_key(settings, files.weights.name)}"
    click.echo(
        f"Model: {result.uploaded} uploaded, {result.skipped} unchanged -> {uri} and its TFLite conversion "
        f"{settings.uri('data', model.MODEL_CACHE, files.converted.name)}"
    )
    if files.weights.name != keras_weights_name(224):
        click.echo(f"Run with them: fruits-cloud run -- --params {shlex.quote(f'weights={uri}')}")


@cli.command()
@click.option(
    "--dist",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Upload the wheel, conf archive and requirements.lock already in this folder instead of building.",
)
@pass_settings
def package(settings: Settings, dist: Path | None) -> None:
    """Build (`kedro package`) and upload wheel, conf archive, lock file, the cluster's requirements,
    entrypoint.py and bootstrap.sh to PREFIX/artifacts/."""
    s3 = client("s3", settings.region)
    require_bucket(s3, settings)
    if dist is None:
        root = packaging.project_root()
        packaging.build(root)
        dist = root / "dist"
    artifacts = packaging.collect(dist, settings).all()
    result = sync(s3, settings.bucket, [(path, packaging.artifact_key(settings, path.name)) for path in artifacts])
    for path in artifacts:
        click.echo(settings.uri("artifacts", path.name))
    click.echo(f"{result.uploaded} uploaded, {result.skipped} unchanged.")


@cli.command(name="wheelhouse")
@click.option(
    "--dist",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="The folder `fruits-cloud package` left (requirements-emr.txt and requirements.lock).",
)
@pass_settings
def wheelhouse_command(settings: Settings, dist: Path) -> None:
    """Resolve the cluster's wheels (CPython 3.11, manylinux x86_64, the lock file's versions) and upload them to
    PREFIX/artifacts/wheelhouse/: the nodes install from the bucket, nothing from the internet.

    Run after `package` whenever the requirements change; unchanged wheels are not uploaded again.
    """
    s3 = client("s3", settings.region)
    require_bucket(s3, settings)
    requirements, lock = dist / packaging.REQUIREMENTS, dist / packaging.LOCK_FILE
    if not requirements.is_file() or not lock.is_file():
        raise CloudError(
            f"No {packaging.REQUIREMENTS} and {packaging.LOCK_FILE} in {dist}: run `fruits-cloud package` first."
        )
    wheels = wheelhouse.resolve(requirements, lock, dist / wheelhouse.FOLDER)
    keys = [packaging.artifact_key(settings, f"{wheelhouse.FOLDER}/{wheel.name}") for wheel in wheels]
    result = sync(s3, settings.bucket, list(zip(wheels, keys, strict=True)))
    click.echo(
        f"{len(wheels)} wheels for CPython {wheelhouse.PYTHON_VERSION} manylinux x86_64: {result.uploaded} uploaded, "
        f"{result.skipped} unchanged -> {settings.uri('artifacts', wheelhouse.FOLDER)}/"
    )


@cli.command()
@dry_run_option
@pass_settings
def up(settings: Settings, dry_run: bool) -> None:
    """Start the EMR cluster of aws.yml and remember its id for the other commands.

    Refused until `fruits-cloud package` has put the bootstrap script, wheel and requirements in the bucket.
    `--dry-run` needs no credentials: without them, the bucket and its artifacts are not checked.
    """
    if dry_run and not has_credentials():
        echo_request("RunJobFlow", emr.unchecked_cluster(settings))
        click.echo("No AWS credentials: the bucket and its artifacts were not checked (wheel name left open).")
        echo_plan(settings)
        return
    request = emr.planned_cluster(client("s3", settings.region), settings)
    if dry_run:
        echo_request("RunJobFlow", request)
        echo_plan(settings)
        return
    cluster_id = client("emr", settings.region).run_job_flow(**request)["JobFlowId"]
    save_state(cluster_id=cluster_id, step_id=None)  # a step id of an older cluster would mislead `status`
    idle = settings.spec["cluster"].get("idle_timeout_seconds")
    click.echo(f"Cluster {cluster_id} starting in {settings.region}.")
    echo_plan(settings)
    click.echo(f"Auto-terminates after {idle} s idle." if idle else "No auto-termination: run `fruits-cloud down`.")


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@cluster_option
@dry_run_option
@click.argument("kedro_args", nargs=-1, type=click.UNPROCESSED)
@pass_settings
def run(settings: Settings, cluster_id: str | None, dry_run: bool, kedro_args: tuple[str, ...]) -> None:
    """Add the `kedro run --env cloud` step; KEDRO_ARGS are passed on, e.g.
    `run -- --params sampling.strategy=per_class,sampling.size=100`."""
    if dry_run:
        target = cluster_id or load_state().get("cluster_id") or "<cluster id from `fruits-cloud up`>"
        echo_request("AddJobFlowSteps", emr.steps_request(settings, target, list(kedro_args)))
        echo_plan(settings)
        return
    cluster_id = remembered("cluster_id", cluster_id)
    step_id = emr.add_step(client("emr", settings.region), settings, cluster_id, list(kedro_args))
    save_state(cluster_id=cluster_id, step_id=step_id)
    click.echo(f"Step {step_id} added to {cluster_id}. Follow it with `fruits-cloud status` and `fruits-cloud logs`.")


@cli.command()
@pass_settings
def doctor(settings: Settings) -> None:
    """Check credentials, region, bucket, artifacts, roles, network tags and quota with read-only calls.

    One line each: `ok ...`, `problem ...: fix: ...` or `could not check ...`; exits 1 when there is a problem.
    """
    findings = checks.examine(settings, lambda service: client(service, settings.region))
    for finding in findings:
        click.echo(finding.line())
    problems = sum(finding.status == "problem" for finding in findings)
    if problems:
        raise CloudError(f"{problems} problem(s) above: fix them before `fruits-cloud up`.")


@cli.command()
@cluster_option
@step_option
@pass_settings
def status(settings: Settings, cluster_id: str | None, step_id: str | None) -> None:
    """Show the cluster state and its steps; exits with an error when the (last) step failed."""
    aws_emr = client("emr", settings.region)
    cluster = emr.describe_cluster(aws_emr, remembered("cluster_id", cluster_id))
    steps = emr.list_steps(aws_emr, cluster["Id"])
    console = Console()
    for table in emr.status_tables(cluster, steps):
        console.print(table)
    console.print(emr.ui_hint(cluster, settings.region), soft_wrap=True)
    focus = step_id or load_state().get("step_id")
    if focus:
        emr.raise_if_failed(cluster, emr.describe_step(aws_emr, cluster["Id"], focus))


@cli.command()
@cluster_option
@step_option
@pass_settings
def logs(settings: Settings, cluster_id: str | None, step_id: str | None) -> None:
    """Print the step's stdout and stderr from the cluster's LogUri (EMR copies them about every 5 minutes)."""
    cluster = emr.describe_cluster(client("emr", settings.region), remembered("cluster_id", cluster_id))
    found = emr.step_logs(client("s3", settings.region), cluster, remembered("step_id", step_id))
    for uri, text in found.items():
        click.echo(f"==> {uri} <==\n{text}")


@cli.command()
@cluster_option
@pass_settings
def down(settings: Settings, cluster_id: str | None) -> None:
    """Terminate the cluster. Data, artifacts and logs stay in the bucket."""
    cluster_id = remembered("cluster_id", cluster_id)
    state = emr.terminate(client("emr", settings.region), cluster_id)
    click.echo(f"Cluster {cluster_id}: {state}. Bucket content is kept: s3://{settings.bucket}/{settings.prefix}/")


@cli.command()
@cluster_option
@click.option("--hours", type=float, help="Hours to price. [default: the cluster's lifetime so far]")
@pass_settings
def cost(settings: Settings, cluster_id: str | None, hours: float | None) -> None:
    """Estimate the cluster's cost from the table in aws.yml: instances x hours x (EC2 + EMR price), EBS volumes
    and public IPv4 addresses (none with a subnet in aws.yml, taken as private).

    Without a cluster (none given, none started), prices the instance groups of aws.yml for --hours.
    """
    cluster_id = cluster_id or load_state().get("cluster_id")
    groups, hours = costs.usage(client("emr", settings.region), settings, cluster_id, hours)
    pricing = settings.spec["pricing"]
    table = costs.cost_table(costs.estimate(groups, hours, pricing), costs.node_costs(groups, hours, settings), pricing)
    Console().print(table)


@cli.command()
@click.option("--rows", default=5, show_default=True, help="Sample rows to show.")
@pass_settings
def results(settings: Settings, rows: int) -> None:
    """Summarise the published results in S3 (rows, vector sizes, images per label, sample).

    Read through data/current.json, so only a run that finished is shown.
    """
    frame, run_id = outputs.load_results(settings)
    console = Console()
    for table in outputs.summary_tables(outputs.summarize(frame, sample_rows=rows), run_id):
        console.print(table)


@cli.command()
@pass_settings
def tables(settings: Settings) -> None:
    """Register the Delta tables (feature_store, results, rejects) in the Glue Data Catalog for Athena.

    Database from aws.yml (glue.database, default fruits), created if absent; tables created or updated in place.
    Then, in Athena: SELECT label, count(*) FROM fruits.results GROUP BY label
    """
    s3 = client("s3", settings.region)
    require_bucket(s3, settings)
    for registration in glue.register_tables(client("glue", settings.region), s3, settings):
        click.echo(registration.line())


@cli.command()
@click.argument("name", type=click.Choice(packaging.POLICIES))
@pass_settings
def policy(settings: Settings, name: str) -> None:
    """Print an IAM policy scoped to this bucket, prefix, region and cluster tag.

    operator: what these commands need (attach to your user/role). instance-profile: what the EMR nodes
    need (attach to the EMR_EC2_DefaultRole instead of the broad managed policy).
    """
    click.echo(packaging.policy(settings, name))
