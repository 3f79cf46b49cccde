"""``campaign import ...``: load legislators from files, all or nothing, with a progress bar.

Mounted by campaign/cli.py as the ``import`` sub-command.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from contacts.imports import ImportFormat

import_app = typer.Typer(help="Import legislators from Popolo, European Parliament, US Congress or CSV files.",
                         no_args_is_help=True)

_FILE = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The file to import.")
_MAX = typer.Option(None, "--max-bytes", help="Refuse files larger than this (default: MAX_UPLOAD_BYTES).")


def _run(path: Path, fmt: ImportFormat, *, country: str = "", mapping: dict[str, str] | None = None,
         max_bytes: int | None = None) -> None:
    import campaign.tables  # noqa: F401  (every table's metadata, for the foreign keys)
    from campaign.db import session_scope
    from campaign.errors import CosignError
    from campaign.settings import get_settings
    from contacts.imports import import_file

    limit = max_bytes if max_bytes is not None else get_settings().max_upload_bytes
    started = time.perf_counter()
    with typer.progressbar(length=1, label=f"Importing {path.name}") as bar:
        state = {"done": 0}

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - state["done"])
            state["done"] = done

        try:
            with session_scope() as session:
                report = import_file(session, path=path, fmt=fmt, country=country, mapping=mapping,
                                     max_bytes=limit, actor="cli", progress=progress)
        except CosignError as error:
            details = "".join(f"\n  {e.loc}: {e.msg}" for e in error.errors[:200])
            more = f"\n  ... and {len(error.errors) - 200} more" if len(error.errors) > 200 else ""
            typer.secho(f"\n{error.detail}{details}{more}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
    typer.echo(f"{report.summary()} ({time.perf_counter() - started:.1f}s)")
    for ref, reason in report.skipped[:50]:
        typer.echo(f"  skipped {ref}: {reason}")
    if len(report.skipped) > 50:
        typer.echo(f"  ... and {len(report.skipped) - 50} more skipped")
    for ref, reason in report.warnings[:50]:
        typer.echo(f"  note {ref}: {reason}")


@import_app.command("popolo")
def import_popolo(file: Path = _FILE, country: str = typer.Option("", help="ISO code for the organisations, e.g. GB."),
                  max_bytes: int = _MAX) -> None:
    """A Popolo JSON file (persons, organizations, memberships, posts)."""
    _run(file, ImportFormat.popolo, country=country, max_bytes=max_bytes)


@import_app.command("ep-meps")
def import_ep_meps(file: Path = _FILE, max_bytes: int = _MAX) -> None:
    """European Parliament meps.json or meps.csv (lookup files beside it are used when present)."""
    _run(file, ImportFormat.ep_meps, max_bytes=max_bytes)


@import_app.command("us-congress")
def import_us_congress(file: Path = _FILE, max_bytes: int = _MAX) -> None:
    """US legislators-current (YAML or JSON), with committees and committee membership beside it."""
    _run(file, ImportFormat.us_congress, max_bytes=max_bytes)


@import_app.command("auto")
def import_auto(file: Path = _FILE, country: str = typer.Option(""), max_bytes: int = _MAX) -> None:
    """Detect the format from the file's name and content."""
    _run(file, ImportFormat.auto, country=country, max_bytes=max_bytes)


@import_app.command("csv")
def import_csv(file: Path = _FILE,
               map: list[str] = typer.Option([], "--map", help="COLUMN=FIELD, repeated; FIELD may be 'ignore' "
                                                                "or 'identifier:SCHEME'."),
               country: str = typer.Option("", help="Country for rows without one."),
               max_bytes: int = _MAX) -> None:
    """A CSV of contacts; without --map every column must be named after a field."""
    mapping = None
    if map:
        mapping = {}
        for pair in map:
            column, sep, target = pair.partition("=")
            if not sep:
                typer.secho(f"--map {pair!r}: expected COLUMN=FIELD", fg=typer.colors.RED, err=True)
                raise typer.Exit(2)
            mapping[column] = target
    _run(file, ImportFormat.csv, country=country, mapping=mapping, max_bytes=max_bytes)
