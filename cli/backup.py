"""backup -o FILE, restore FILE (docs/shared-server.md, "Backup and restore")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consentreg.i18n import msg

from .output import emit
from .progress import counting_bar
from .runtime import settings, unit_of_work


def install(app: typer.Typer) -> None:
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)


def backup_cmd(
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="The backup file to create (never over an existing file)."
        ),
    ],
) -> None:
    """Write an encrypted, consistent snapshot of the whole register (every table, evidence
    included, and the schema revision) to a new file of mode 0600, while others keep working.
    Only this register's key can read it: back the key files up separately. The people's data
    keys are not in it: they go to the person keys file (CONSENTREG_BACKUP_KEYS, default
    $CONSENTREG_HOME/person-keys.crkeys), rewritten in place by every backup and every
    `person erase`, so that an erased person cannot be read from any backup taken before.

    Example:

        consentreg backup -o /mnt/backup/consentreg-2026-11-30.crbackup
    """
    from consentreg.services.backup.dump import describe, write_backup

    with unit_of_work(writer=False) as ctx:
        summary = write_backup(
            ctx, output, progress=counting_bar, key_file=settings().backup_keys_file
        )
    emit(
        describe(summary),
        [
            msg(
                "backup written to {summary_path}: {summary_rows} rows of {summary_tables} tables, schema {summary_revision}, {summary_size} bytes",
                summary_path=summary.path,
                summary_rows=summary.rows,
                summary_tables=summary.tables,
                summary_revision=summary.revision,
                summary_size=summary.size,
            ),
            msg(
                "person keys written to {key_file}: {count} keys",
                key_file=summary.key_file,
                count=summary.person_keys,
            ),
        ],
    )


def restore_cmd(
    backup: Annotated[Path, typer.Argument(help="A file written by `consentreg backup`.")],
    keys: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="The person keys file from beside the backups (default: CONSENTREG_BACKUP_KEYS,"
            " or $CONSENTREG_HOME/person-keys.crkeys).",
        ),
    ] = None,
) -> None:
    """Restore a backup into an EMPTY register (the database of --db / CONSENTREG_DB, SQLite or
    PostgreSQL, whatever engine the backup was taken on), with the register's own key files in place. The
    schema is built at the backup's revision, every row goes in in one transaction, then the
    schema is upgraded to this version's. Refuses a register that holds rows (exit 2), another
    register's backup or a damaged file (exit 7), a backup of a newer schema (exit 6). The
    people's data keys come from the person keys file (--keys): a person it no longer holds
    was erased after the backup and is erased in the restored register too.

    Example:

        CONSENTREG_DB=postgresql+psycopg://consentreg@db/consentreg consentreg restore consentreg-2026-11-30.crbackup --keys /mnt/backup/person-keys.crkeys
    """
    from consentreg.services.backup.load import restore_backup

    summary = restore_backup(settings(), backup, key_file=keys, progress=counting_bar)
    emit(
        {
            "revision": summary.revision,
            "upgraded_to": summary.upgraded_to,
            "tables": summary.tables,
            "rows": summary.rows,
        },
        [
            msg(
                "restored {summary_rows} rows of {summary_tables} tables (schema {summary_revision}, now {summary_upgraded_to}): run `consentreg audit verify`",
                summary_rows=summary.rows,
                summary_tables=summary.tables,
                summary_revision=summary.revision,
                summary_upgraded_to=summary.upgraded_to,
            )
        ],
    )
