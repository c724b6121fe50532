"""``fruits`` and ``python -m fruits``: the packaged Kedro project's run (``fruits --env cloud ...``), plus the
project's own commands (``fruits migrate-tables``, ``fruits report``)."""

import sys
from pathlib import Path
from typing import Any

import click


def project_config(env: str) -> tuple[Any, str]:
    """The configuration of the project in the working directory for ``env`` (read as a run reads it, without a
    Kedro session: no log line, so that a command's output is only its answer), and its data root."""
    from fruits.config import ConfigLoader  # noqa: PLC0415 - only the project's commands read it
    from fruits.settings import CONFIG_LOADER_ARGS  # noqa: PLC0415

    project = Path.cwd()
    config = ConfigLoader(conf_source=str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)
    root = str(config["globals"]["root"])
    return config, root if "://" in root else str(project / root)


@click.command(name="migrate-tables")
@click.option("--env", default="local", show_default=True, help="Kedro environment whose data root to convert.")
def migrate_tables_command(env: str) -> None:
    """Convert a data root of the Parquet-file layout into Delta tables (once; counts are checked)."""
    from fruits.migration import migrate_tables  # noqa: PLC0415 - only this command needs Spark
    from fruits.spark import start_spark, with_project_jars  # noqa: PLC0415

    config, root = project_config(env)
    spark = start_spark(with_project_jars(config["spark"], Path.cwd()))
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


COMMANDS = {"migrate-tables": migrate_tables_command, "report": report_command}


def main(*args, **kwargs) -> Any:
    arguments = list(args[0]) if args else sys.argv[1:]
    if arguments and arguments[0] in COMMANDS:
        return COMMANDS[arguments[0]].main(arguments[1:], prog_name=f"fruits {arguments[0]}")
    # Imported here: importing Kedro's project module logs its logging setup, which no project command prints.
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
