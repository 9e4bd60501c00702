"""The one error hierarchy. Each class carries its exit code (CONTRACT.md) and a message that is
safe to show: IDs and field names, never names of people or document contents."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from consentreg.domain.model import Decision


class ConsentRegError(Exception):
    """Base of every expected failure; `str(err)` is safe to print."""

    exit_code: ClassVar[int] = 1


class InvalidInputError(ConsentRegError):
    """A well-formed call with invalid values (bad date, unknown purpose, ...)."""

    exit_code = 2


class ConfigError(ConsentRegError):
    """Key file missing or readable by others, unusable home folder, ..."""

    exit_code = 2


class PublishRefused(ConsentRegError):  # noqa: N818 - the domain outcome, named as STYLE.md says
    """The gate said no; carries the decision with every reason."""

    exit_code = 3

    def __init__(self, decision: Decision) -> None:
        super().__init__("refused: " + ", ".join(sorted({r.code for r in decision.reasons})))
        self.decision = decision


class NotFoundError(ConsentRegError):
    """Unknown person, photo, purpose or consent id."""

    exit_code = 4


class ImageError(ConsentRegError):
    """Unreadable, unsupported, truncated or too large image; `code` is the reason code."""

    exit_code = 5

    def __init__(self, message: str, *, code: str = "image_invalid") -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[type[ImageError], tuple[str], dict[str, str]]:
        # crosses process boundaries (publish --jobs): keep the reason code
        return (type(self), (str(self),), {"code": self.code})


class SchemaOutOfDateError(ConsentRegError):
    """The database is not at the newest migration."""

    exit_code = 6


class AuditVerificationError(ConsentRegError):
    """Tampering or a gap was found in the audit trail."""

    exit_code = 7


class DatabaseBusyError(ConsentRegError):
    """Another writer held the database for too long."""

    exit_code = 1


class OutputError(ConsentRegError):
    """The output folder cannot take a release: missing name, a symbolic link on the way, not
    writable, full, or a file already bearing the release's name. Nothing is overwritten."""

    exit_code = 2
