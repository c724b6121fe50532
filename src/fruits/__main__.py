"""``fruits`` and ``python -m fruits``: the packaged Kedro project's run (``fruits --env cloud ...``), plus the
project's own commands (``fruits migrate-tables``)."""

import sys
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.utils import find_run_command
from kedro.framework.project import configure_project

from fruits.uris import is_plain_path


@click.command(name="migrate-tables")
@click.option("--env", default="local", show_default=True, help="Kedro environment whose data root to convert.")
def migrate_tables_command(env: str) -> None:
    """Convert a data root of the Parquet-file layout into Delta tables (once; counts are checked)."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415 - only this command needs a session
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    from fruits.migration import migrate_tables  # noqa: PLC0415
    from fruits.spark import start_spark, with_project_jars  # noqa: PLC0415

    project = Path.cwd()
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env) as session:
        config = session.load_context().config_loader
        root = str(config["globals"]["root"])
        root = str(project / root) if is_plain_path(root) else root
        spark = start_spark(with_project_jars(config["spark"], project))
        try:
            counts = migrate_tables(spark, root)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        finally:
            spark.stop()
    click.echo(f"Migrated {root}: " + ", ".join(f"{name} {rows:,} rows" for name, rows in counts.items()))


COMMANDS = {"migrate-tables": migrate_tables_command}


def main(*args, **kwargs) -> Any:
    arguments = list(args[0]) if args else sys.argv[1:]
    if arguments and arguments[0] in COMMANDS:
        return COMMANDS[arguments[0]].main(arguments[1:], prog_name=f"fruits {arguments[0]}")
    package_name = Path(__file__).parent.name
    configure_project(package_name)

    interactive = hasattr(sys, 'ps1')
    kwargs["standalone_mode"] = not interactive

    run = find_run_command(package_name)
    return run(*args, **kwargs)


if __name__ == "__main__":
    main()
