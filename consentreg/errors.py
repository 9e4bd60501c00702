"""The one error hierarchy. Each class carries its exit code (docs/cli.md, "Exit codes") and a
message that is safe to show: IDs, field names and the paths of the register's own files, never
names of people or document contents.

Third-party errors (SQLAlchemy and its drivers, OSError) are turned into these where they are met:
the database adapter (consentreg.db.engine, consentreg.db.schema), the files of the home folder
(consentreg.config, consentreg.crypto). The command line maps them to exit codes in one place
(cli/main.py `run`); tests/unit/test_errors.py holds every class here to its code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from consentreg.i18n import N_, msg

if TYPE_CHECKING:
    from consentreg.domain.model import Decision


class ConsentRegError(Exception):
    """Base of every expected failure; `str(err)` is safe to print. `shown` is true for an
    outcome whose details the entry point has already shown (each input's answer): only the
    exit code is left to give."""

    exit_code: ClassVar[int] = 1
    shown: ClassVar[bool] = False


# --- 2: usage, invalid input, an unusable set-up ------------------------------------------------


class InvalidInputError(ConsentRegError):
    """A well-formed call with invalid values (bad date, unknown purpose, a title too long, a
    control character in a name, an evidence file that is empty or not a regular file, ...)."""

    exit_code = 2


class NotABackupError(InvalidInputError):
    """`restore`: the file is not a consentreg backup (no backup header), or not one of a format
    this program reads. Nothing was written."""


class RegisterNotEmptyError(InvalidInputError):
    """`restore`: the target register already holds rows (the message names a table); a backup
    is restored only into an empty register. Nothing was written."""


class DuplicatePersonError(InvalidInputError):
    """`person add` for a person already registered with the same name and birth date (a likely
    duplicate): the message names the existing person's ID, never the name."""


class PersonErasedError(InvalidInputError):
    """The person was erased (`person erase`): nothing more is recorded about them, and they
    cannot be erased again."""


class PersonNotErasableError(InvalidInputError):
    """The person was registered before per-person keys (schema 0016): their data is under the
    register's key, so erasure cannot destroy it (docs/architecture.md, "Erasure")."""


class StaleFormError(InvalidInputError):
    """A change from a form rendered before someone else changed the same person (the form's
    version is not the person's now): nothing was written; reload the page and try again."""


class NoticeRevisedError(StaleFormError):
    """A guardian's answer through a personal link for a purpose whose notice was revised after
    the page was shown (the message names the purpose's code): nothing was written; the page
    shows the new text to be read and answered again."""


class LinkRefusedError(InvalidInputError):
    """A personal link (issue #21) that exists but no longer works; the message names the
    link's ID, never its token. Nothing was written."""


class LinkExpiredError(LinkRefusedError):
    """The link's round has ended (its last day is past) or was closed."""


class LinkRevokedError(LinkRefusedError):
    """The link was revoked, or replaced by a newer letter or e-mail."""


class LinkChildLeftError(LinkRefusedError):
    """The link's child has left the unit (`person leave`)."""


class LinkResponsibilityEndedError(LinkRefusedError):
    """The link's recipient no longer answers for the child: their parental responsibility was
    removed after the letter, or the child has turned 15 and answers themself."""


class ConfigError(ConsentRegError):
    """Key file missing or readable by others, unusable home folder, unknown database URL, ..."""

    exit_code = 2


class DriverMissingError(ConfigError):
    """The database driver for the URL is not installed (PostgreSQL needs the optional extra
    `consentreg[postgres]`)."""


class FaceDetectorMissingError(ConfigError):
    """Face detection is not installed (the optional extra `consentreg[faces]` and the model's
    package): faces cannot be checked, so no photo is passed unchecked."""


class DatabaseUnavailableError(ConfigError):
    """The register's database cannot be opened or reached: the SQLite file or its folder cannot be
    opened by this user, the PostgreSQL server is unreachable or refused the login. Nothing was
    written."""


class ReadOnlyRegisterError(ConfigError):
    """A change was asked of a register this user cannot write: its folder or file system is
    read-only, or the folder lacks write permission. Nothing was written."""


class StorageError(ConsentRegError):
    """The file system (or the database server's disk) is full, or an I/O error happened; the
    message names the folder. Nothing was written (the transaction was rolled back, a
    half-written file removed)."""

    exit_code = 2


class OutputError(ConsentRegError):
    """The output folder cannot take a release: missing name, a symbolic link on the way, not
    writable, full, or a file already bearing the release's name. Nothing is overwritten."""

    exit_code = 2


# --- 3: the gate refused ------------------------------------------------------------------------


class PublishRefused(ConsentRegError):  # noqa: N818 - the domain outcome, named as STYLE.md says
    """The gate said no; carries the decision with every reason."""

    exit_code = 3

    def __init__(self, decision: Decision) -> None:
        codes = ", ".join(sorted({r.code for r in decision.reasons}))
        super().__init__(msg("refused: {codes}", codes=codes))
        self.decision = decision

    def __reduce__(self) -> tuple[type[PublishRefused], tuple[Decision]]:
        return (type(self), (self.decision,))


# --- 4, 5 ---------------------------------------------------------------------------------------


class InputsRefusedError(ConsentRegError):
    """At least one input of `check` or `publish` was refused; every input's answer, with each
    reason per person, was shown."""

    exit_code = 3
    shown = True


class NotFoundError(ConsentRegError):
    """Unknown person, photo, purpose or consent id."""

    exit_code = 4


class LinkInvalidError(NotFoundError):
    """A personal link's token that the register does not know: every such token gets this same
    answer, whatever was typed."""


class MailDeliveryError(StorageError):
    """The configured SMTP server refused or could not be reached; the message names the server,
    never a recipient. Messages before it were sent (the output lists them)."""


class ImageError(ConsentRegError):
    """Unreadable, unsupported, truncated or too large image; `code` is the reason code."""

    exit_code = 5

    def __init__(self, message: str, *, code: str = "image_invalid") -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[type[ImageError], tuple[str], dict[str, str]]:
        # crosses process boundaries (publish --jobs): keep the reason code
        return (type(self), (str(self),), {"code": self.code})


class PhotoFilesUnusableError(ImageError):
    """`photo add`: at least one file of the batch cannot be registered as an image (unreadable,
    damaged, not a supported format); the message names every file that cannot, with its
    reason. Nothing was registered."""


# --- 6: the schema ------------------------------------------------------------------------------


class InputsUnreadableError(ImageError):
    """No input of `check` or `publish` was refused, but at least one could not be read as an
    image; every input's answer was shown."""

    shown = True


class SchemaOutOfDateError(ConsentRegError):
    """The database is not at the newest migration: `consentreg db upgrade`."""

    exit_code = 6


class SchemaTooNewError(SchemaOutOfDateError):
    """The database was migrated by a newer consentreg, to a revision this program does not know:
    `db upgrade` cannot help, consentreg itself must be upgraded. Same code as an old schema (6:
    the schema and the program do not match), a message that says which side to upgrade."""


class BackupTooNewError(SchemaTooNewError):
    """`restore`: the backup was made at a schema revision this program does not know (a newer
    consentreg made it): upgrade consentreg. Nothing was written."""


# --- 7: integrity -------------------------------------------------------------------------------


class AuditVerificationError(ConsentRegError):
    """Tampering or a gap was found in the audit trail."""

    exit_code = 7


class CheckpointError(AuditVerificationError):
    """A checkpoint note that is malformed, unsigned, wrongly signed, or of another log."""


class TamperedDataError(ConsentRegError):
    """A ciphertext did not authenticate: wrong key, or a value moved behind the tool's back."""

    exit_code = 7


class WrongKeyError(ConsentRegError):
    """The key file (or a key export, or a backup) belongs to another register than the one at
    the database: refused before anything is read or written."""

    exit_code = 7


class BackupKeyError(TamperedDataError):
    """`restore`: the backup was sealed with another register's key (or this key file is not the
    register's). Nothing was written."""


class BackupDamagedError(TamperedDataError):
    """`restore`: the backup file is damaged, cut short, reordered or changed. Nothing was
    written."""


class DatabaseCorruptError(ConsentRegError):
    """The database file is damaged (SQLite: "file is not a database", "database disk image is
    malformed"; PostgreSQL: data or index corruption reported by the server).

    Exit 7, not 2: nothing the user typed is wrong and no setting fixes it. Like a tampered
    ciphertext or a broken audit chain (both 7), the register's own stored data failed an
    integrity check, and the remedy is the same: stop, investigate, restore from a backup. A script
    that treats 7 as "the register cannot be trusted" is right to treat this so too."""

    exit_code = 7


# --- 8: not permitted ---------------------------------------------------------------------------


class NotPermittedError(ConsentRegError):
    """This user may not do this: the message names the user and what is needed."""

    exit_code = 8


class DatabasePermissionError(NotPermittedError):
    """The database refused the login's privileges for a statement (PostgreSQL: insufficient
    privilege). Nothing was written."""


# --- 9: busy ------------------------------------------------------------------------------------


class DatabaseBusyError(ConsentRegError):
    """Another writer held the register for too long (or the server had no connection to spare):
    nothing was written, and trying again later is the remedy."""

    exit_code = 9

    def __init__(
        self,
        message: str = N_("the register is busy (another writer); nothing was written, try again"),
    ) -> None:
        super().__init__(message)
