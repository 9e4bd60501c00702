"""Every error class holds its documented exit code (docs/cli.md, "Exit codes"). The classes are
found by walking `ConsentRegError.__subclasses__()` after importing every module of the library
and the command line, so a new class without a row in EXPECTED fails here."""

from __future__ import annotations

import importlib
import pickle
import pkgutil

import pytest

import cli
import consentreg
from consentreg import errors
from consentreg.domain.model import Decision, Reason, ReasonCode

EXPECTED = {
    "ConsentRegError": 1,
    "InvalidInputError": 2,
    "NotABackupError": 2,
    "RegisterNotEmptyError": 2,
    "DuplicatePersonError": 2,
    "StaleFormError": 2,
    "NoticeRevisedError": 2,
    "LinkRefusedError": 2,
    "LinkExpiredError": 2,
    "LinkRevokedError": 2,
    "LinkChildLeftError": 2,
    "LinkResponsibilityEndedError": 2,
    "MailDeliveryError": 2,
    "PersonErasedError": 2,
    "PersonNotErasableError": 2,
    "ConfigError": 2,
    "DriverMissingError": 2,
    "FaceDetectorMissingError": 2,
    "DatabaseUnavailableError": 2,
    "ReadOnlyRegisterError": 2,
    "StorageError": 2,
    "OutputError": 2,
    "PublishRefused": 3,
    "InputsRefusedError": 3,
    "NotFoundError": 4,
    "LinkInvalidError": 4,
    "ImageError": 5,
    "InputsUnreadableError": 5,
    "PhotoFilesUnusableError": 5,
    "SchemaOutOfDateError": 6,
    "SchemaTooNewError": 6,
    "BackupTooNewError": 6,
    "AuditVerificationError": 7,
    "CheckpointError": 7,
    "TamperedDataError": 7,
    "WrongKeyError": 7,
    "BackupKeyError": 7,
    "BackupDamagedError": 7,
    "DatabaseCorruptError": 7,
    "NotPermittedError": 8,
    "DatabasePermissionError": 8,
    "DatabaseBusyError": 9,
}


def _import_everything() -> None:
    for package in (consentreg, cli):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.endswith("__main__"):  # that one runs the command
                importlib.import_module(module.name)


def _subclasses(cls: type[errors.ConsentRegError]) -> list[type[errors.ConsentRegError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _subclasses(sub)
    return found


_import_everything()
PROGRAM_ERRORS = sorted(
    {c for c in _subclasses(errors.ConsentRegError) if not c.__module__.startswith("tests")},
    key=lambda c: c.__name__,
)


def test_every_error_class_of_the_program_has_a_documented_code() -> None:
    assert sorted(c.__name__ for c in PROGRAM_ERRORS) == sorted(EXPECTED)


@pytest.mark.parametrize("cls", PROGRAM_ERRORS, ids=lambda c: c.__name__)
def test_each_error_class_exits_with_its_documented_code(
    cls: type[errors.ConsentRegError],
) -> None:
    assert cls.exit_code == EXPECTED[cls.__name__]


@pytest.mark.parametrize("cls", PROGRAM_ERRORS, ids=lambda c: c.__name__)
def test_each_error_class_lives_in_errors_py(cls: type[errors.ConsentRegError]) -> None:
    assert cls.__module__ == "consentreg.errors"


def test_codes_stay_within_the_contract() -> None:
    assert set(EXPECTED.values()) == set(range(1, 10))


def test_busy_says_nothing_was_written_and_to_try_again() -> None:
    assert str(errors.DatabaseBusyError()) == (
        "the register is busy (another writer); nothing was written, try again"
    )


def test_moved_classes_are_still_importable_from_their_old_modules() -> None:
    from consentreg.crypto import TamperedDataError
    from consentreg.services.audit.checkpoint import CheckpointError

    assert TamperedDataError is errors.TamperedDataError
    assert CheckpointError is errors.CheckpointError


def _instance(cls: type[errors.ConsentRegError]) -> errors.ConsentRegError:
    if cls is errors.PublishRefused:
        return errors.PublishRefused(Decision((Reason(ReasonCode.NO_CONSENT, "p1", "no consent"),)))
    if cls is errors.ImageError:
        return errors.ImageError("truncated", code="image_invalid")
    if cls is errors.DatabaseBusyError:
        return errors.DatabaseBusyError()
    return cls("a message")


@pytest.mark.parametrize("cls", PROGRAM_ERRORS, ids=lambda c: c.__name__)
def test_each_error_crosses_a_process_boundary_whole(cls: type[errors.ConsentRegError]) -> None:
    """Helper processes (publish --jobs, audit consents) send errors back pickled."""
    error = _instance(cls)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, just made
    assert (type(copy), str(copy), copy.exit_code) == (cls, str(error), error.exit_code)
