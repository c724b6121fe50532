"""``fruits`` and ``python -m fruits``: the packaged Kedro project's run (``fruits --env cloud ...``), plus the
project's own commands (``fruits migrate-tables``, ``fruits identify``, ``fruits report``)."""

import logging
import sys
from pathlib import Path
from typing import Any

import click

from fruits.uris import is_plain_path


def project_config(env: str) -> tuple[Any, str]:
    """The configuration of the project in the working directory for ``env`` (read as a run reads it, without a
    Kedro session: no log line, so that a command's output is only its answer), and its absolute data root."""
    from fruits.config import load_config  # noqa: PLC0415 - only the project's commands read it

    project = Path.cwd()
    config = load_config(project, env)
    return config, data_root(config, project)


def data_root(config: Any, project: Path) -> str:
    """The environment's data root (``globals.root``), absolute."""
    root = str(config["globals"]["root"])
    return str(project / root) if is_plain_path(root) else root


@click.command(name="migrate-tables")
@click.option("--env", default="local", show_default=True, help="Kedro environment whose data root to convert.")
def migrate_tables_command(env: str) -> None:
    """Convert a data root of the Parquet-file layout into Delta tables (once; counts are checked)."""
    from fruits.migration import migrate_tables  # noqa: PLC0415 - only this command needs Spark
    from fruits.spark import start_spark  # noqa: PLC0415

    config, root = project_config(env)
    spark = start_spark(config["spark"], Path.cwd())
    try:
        counts = migrate_tables(spark, root)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        spark.stop()
    click.echo(f"Migrated {root}: " + ", ".join(f"{name} {rows:,} rows" for name, rows in counts.items()))


@click.command(name="report")
@click.option("--env", default="local", show_default=True, help="Kedro environment whose data root to read.")
def report_command(env: str) -> None:
    """Print where the published report is (after any run, partial ones included): e.g. `less $(fruits report)`."""
    from fruits.latest import report_location  # noqa: PLC0415
    from fruits.publishing import DataRoot  # noqa: PLC0415

    _, root = project_config(env)
    location = report_location(DataRoot(root))
    if location is None:
        raise click.ClickException(f"No report has been published under {root} yet: run `kedro run` first.")
    click.echo(location)


@click.command(name="identify")
@click.argument("photos", nargs=-1, required=True)
@click.option("--neighbours", "-k", default=5, show_default=True, type=click.IntRange(min=1),
              help="Published images that vote for a photo's class.")
@click.option("--picture", type=click.Path(dir_okay=False), help="Save the photos beside their neighbours (PNG).")
@click.option("--weights", default=None, help="The weights file the published run used, if it was given with "
              "--params weights=... and is not in conf/.")
@click.option("--env", default="local", show_default=True, help="Kedro environment whose published results to use.")
def identify_command(photos: tuple[str, ...], neighbours: int, picture: str | None, weights: str | None,
                     env: str) -> None:
    """Tell which classes PHOTOS most likely show: their nearest published images in PCA space vote (no Spark)."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415 - only the project's commands need a session
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415
    from kedro.io.core import DatasetError  # noqa: PLC0415

    from fruits import identify  # noqa: PLC0415
    from fruits.publishing import LegacyLayoutError  # noqa: PLC0415

    contents, problems = identify.read_photos(photos)
    for problem in problems:
        click.echo(problem, err=True)
    if not contents:
        raise click.exceptions.Exit(1)
    project = Path.cwd()
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env,
                             runtime_params={"weights": weights} if weights else None) as session:
        logging.getLogger("kedro").setLevel(logging.WARNING)  # the catalog's Loading lines are no answer
        context = session.load_context()
        try:
            published = identify.published_images(data_root(context.config_loader, project))
            components = context.catalog.load("pca_components")
            model = context.catalog.load("featurization_report")  # the published features' model
            payload = (context.catalog["inference_model"].cached(model["fingerprint"], model["image_size"])
                       if model["engine"] == "tflite" else None) or context.catalog.load("inference_model")
        except (ValueError, DatasetError, LegacyLayoutError) as error:
            raise click.ClickException(str(error)) from None
    if payload.fingerprint != model["fingerprint"]:
        raise click.ClickException(
            f"The published results come from model {model['fingerprint']}, this configuration gives model "
            f"{payload.fingerprint}: pass the weights of the published run with --weights."
        )
    features, unreadable = identify.featurize_photos(contents, payload)
    for problem in unreadable:
        click.echo(problem, err=True)
    identifications = identify.identify(features, components, published, neighbours)
    for identification in identifications:
        click.echo(identify.describe(identification))
    if picture and identifications:
        identify.neighbours_picture(identifications, contents).savefig(picture, dpi=120)
        click.echo(f"Picture of the photos beside their neighbours: {picture}")
    if problems or unreadable:
        raise click.exceptions.Exit(1)


COMMANDS = {"migrate-tables": migrate_tables_command, "identify": identify_command, "report": report_command}


def main(*args, **kwargs) -> Any:
    arguments = list(args[0]) if args else sys.argv[1:]
    if arguments and arguments[0] in COMMANDS:
        return COMMANDS[arguments[0]].main(arguments[1:], prog_name=f"fruits {arguments[0]}")
    # Imported only to run Kedro: importing it configures logging, which prints a line (`fruits report`'s output
    # is a path to pipe).
    from kedro.framework.cli.utils import find_run_command  # noqa: PLC0415
    from kedro.framework.project import configure_project  # noqa: PLC0415

    package_name = Path(__file__).parent.name
    configure_project(package_name)

    interactive = hasattr(sys, 'ps1')
    kwargs["standalone_mode"] = not interactive

    run = find_run_command(package_name)
    return run(*args, **kwargs)


if __name__ == "__main__":
    main()
