"""The register's identity: one register ID and its key's fingerprint in the database, the
signing keys it trusts, and the use cases that create, join and check it.

- `initialise` (`consentreg init`) creates a new register (a new key, the identity, this PC's
  signing key trusted), or checks this PC's key against the register that is already there. It
  never makes a new key for a register that exists: it says how to join.
- `export_key` / `join_register` bring another PC in: the master key sealed under a passphrase,
  then opened on the new PC, checked against the register, written there with a signing key of
  the PC's own that the register now trusts.
- `require_key` runs before every command reads or writes (`open_register`): a key that does not
  belong to the register is refused (exit 7) before anything happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import inspect, select, text

from consentreg.crypto import Keyring
from consentreg.db.models import Person, PersonKey, Photo, RegisterIdentity, TrustedKey
from consentreg.errors import ConfigError, InvalidInputError, TamperedDataError, WrongKeyError
from consentreg.i18n import Message, msg
from consentreg.services.access import first_admin
from consentreg.services.audit import log as audit_log
from consentreg.services.audit.checkpoint import VerifierKey, verifier_key
from consentreg.services.unit_of_work import Context, Register, engine_for, new_id

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Connection, Engine

    from consentreg.config import Settings


@dataclass(frozen=True)
class Identity:
    register_id: str
    fingerprint: str


@dataclass(frozen=True)
class InitReport:
    register_id: str
    revision: str | None
    created_register: bool
    created_key: bool
    created_signing_key: bool


@dataclass(frozen=True)
class JoinReport:
    register_id: str
    signing_key: str  # the trusted key's name+id, as `audit public-key` prints it
    already_joined: bool


def read_identity(conn: Connection) -> Identity | None:
    """The register's identity, None before it has one (a new or a pre-0007 register)."""
    row = conn.execute(text("SELECT id, key_fingerprint FROM register_identity")).first()
    return Identity(row[0], row[1]) if row else None


def _join_hint(identity: Identity) -> Message:
    return msg(
        "this database holds register {register}: on a PC that already works with it run "
        "`consentreg key export -o FILE`, then here `consentreg join --key-file FILE`",
        register=identity.register_id,
    )


def _wrong_key(settings: Settings, identity: Identity) -> WrongKeyError:
    return WrongKeyError(
        msg(
            "the key file {settings_key_file} does not belong to register {identity_register_id} at this database: nothing was read or written; use this register's key (see `consentreg join --help`), or point CONSENTREG_DB at the register the key belongs to",
            settings_key_file=settings.key_file,
            identity_register_id=identity.register_id,
        )
    )


def require_key(settings: Settings, engine: Engine, keys: Keyring) -> Identity:
    """Refuse (exit 7) a key that is not the register's, and a register without an identity
    (exit 2: `consentreg init` on a PC holding its key gives it one)."""
    with engine.connect() as conn:
        identity = read_identity(conn)
    if identity is None:
        raise ConfigError(
            "the register has no identity yet: run `consentreg init` on a PC that holds its key"
        )
    if identity.fingerprint != keys.fingerprint:
        raise _wrong_key(settings, identity)
    return identity


def register_id(ctx: Context) -> str:
    """This register's ID (a register opened through `open_register` always has one)."""
    found = ctx.session.scalar(select(RegisterIdentity.id))
    if found is None:
        raise ConfigError(
            "the register has no identity yet: run `consentreg init` on a PC that holds its key"
        )
    return str(found)


# --- init -----------------------------------------------------------------------------------


Sample = tuple[str, str, str, bytes]  # table, column, row id, ciphertext


def _sample_ciphertext(conn: Connection) -> Sample | None:
    """One encrypted value already in the register (table, column, row id, token), if any: a key
    that opens it is the register's. A person's data key, wrapped by the register's key, first:
    the data of people registered since schema 0016 is under their own keys."""
    wrapped = conn.execute(
        select(PersonKey.person_id, PersonKey.wrapped_key)
        .where(PersonKey.wrapped_key.is_not(None))
        .limit(1)
    ).first()
    if wrapped is not None and wrapped[1] is not None:
        return "person_keys", "wrapped_key", wrapped[0], bytes(wrapped[1])
    person = conn.execute(select(Person.id, Person.name_ct).limit(1)).first()
    if person is not None:
        return "people", "name", person[0], person[1]
    photo = conn.execute(select(Photo.id, Photo.photographer_ct).limit(1)).first()
    if photo is not None:
        return "photos", "photographer", photo[0], photo[1]
    return None


def _opens(keys: Keyring, sample: Sample) -> bool:
    table, column, row_id, token = sample
    if token[:1] != b"\x01" and table == "people":
        return True  # under an erased person's key: nothing of the register's to try
    try:
        if table == "person_keys":
            keys.unwrap_person_key(token, row_id)
        else:
            keys.decrypt(token, table=table, column=column, row_id=row_id)
    except TamperedDataError:
        return False
    return True


def _existing_state(engine: Engine) -> tuple[Identity | None, Sample | None]:
    """The identity and one encrypted value of the database before `init` changes anything
    (None and None for an empty database)."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        identity = read_identity(conn) if inspector.has_table("register_identity") else None
        sample = _sample_ciphertext(conn) if inspector.has_table("people") else None
        return identity, sample


def initialise(settings: Settings) -> InitReport:
    """`consentreg init`: the home folder, the schema at head, and either a new register (new
    key, identity, this PC's signing key trusted) or this PC's key checked against the register
    there. Safe to run again. Refuses, with nothing written: a register that exists when this PC
    has no key (how to join), a key of another register (exit 7)."""
    from consentreg.config import ensure_home
    from consentreg.crypto import create_key_file, create_signing_key_file
    from consentreg.db.engine import make_engine
    from consentreg.db.schema import current_revision, upgrade

    engine = make_engine(settings.db_url)
    try:
        fresh = settings.sqlite_file is not None and not settings.sqlite_file.exists()
        identity, sample = (None, None) if fresh else _existing_state(engine)
        has_key = settings.key_file.exists()
        if not has_key and identity is not None:
            raise ConfigError(
                msg(
                    "this PC has no key file ({key_file}); {hint}",
                    key_file=settings.key_file,
                    hint=_join_hint(identity),
                )
            )
        if not has_key and sample is not None:
            raise ConfigError(
                msg(
                    "this PC has no key file ({settings_key_file}) and the database already holds a register: run `consentreg init` on the PC that holds its key first, then join this one (`consentreg join --help`)",
                    settings_key_file=settings.key_file,
                )
            )
        if has_key:  # check before anything is written
            keys = Keyring.load(settings.key_file)
            if identity is not None and identity.fingerprint != keys.fingerprint:
                raise _wrong_key(settings, identity)
            if identity is None and sample is not None and not _opens(keys, sample):
                raise WrongKeyError(
                    msg(
                        "the key file {settings_key_file} does not open the register at this database: nothing was written; use the key this register was made with",
                        settings_key_file=settings.key_file,
                    )
                )
        ensure_home(settings)
        created_key = create_key_file(settings.key_file)
        created_signing = create_signing_key_file(settings.signing_key_file)
        keys = Keyring.load(settings.key_file)  # refuses a key file others can read
        upgrade(engine)
        register = Register(settings, engine, keys)
        created_register = identity is None
        with register.work() as ctx:
            if identity is None:
                identity = claim(ctx, keys)
                first_admin(ctx)  # whoever creates the register administers it
            _trust_own_signing_key(ctx, settings)
        return InitReport(
            identity.register_id,
            current_revision(engine),
            created_register,
            created_key,
            created_signing,
        )
    finally:
        engine.dispose()


def claim(ctx: Context, keys: Keyring) -> Identity:
    """Give the register its identity (in the writer's transaction: two PCs running `init` on a
    new database at once are serialised; the second finds the first's identity)."""
    found = ctx.session.scalar(select(RegisterIdentity))
    if found is not None:
        if found.key_fingerprint != keys.fingerprint:
            raise WrongKeyError(
                msg(
                    "register {id} was created by another PC a moment ago with another key: "
                    "nothing was written; {hint}",
                    id=found.id,
                    hint=_join_hint(Identity(found.id, found.key_fingerprint)),
                )
            )
        return Identity(found.id, found.key_fingerprint)
    row = RegisterIdentity(
        id=new_id(),
        slot=1,
        key_fingerprint=keys.fingerprint,
        created_at=ctx.now,
        created_by=ctx.actor,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit_log.record(ctx, "register.create", {"register_identity": row})
    return Identity(row.id, row.key_fingerprint)


# --- trusted signing keys -------------------------------------------------------------------


def trust_key(ctx: Context, public_key: bytes) -> VerifierKey:
    """List a PC's checkpoint-signing key as trusted (once; recorded in the log)."""
    key = verifier_key(public_key)
    if ctx.session.scalar(select(TrustedKey.id).where(TrustedKey.public_key == public_key.hex())):
        return key
    row = TrustedKey(
        id=new_id(),
        key_id=key.key_id,
        name=key.name,
        public_key=public_key.hex(),
        added_at=ctx.now,
        added_by=ctx.actor,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit_log.record(ctx, "register.trust_key", {"trusted_keys": row})
    return key


def trusted_keys(ctx: Context) -> list[VerifierKey]:
    """Every signing key the register trusts, oldest first."""
    rows = ctx.session.scalars(select(TrustedKey.public_key).order_by(TrustedKey.added_at))
    return [verifier_key(bytes.fromhex(public)) for public in rows]


def _trust_own_signing_key(ctx: Context, settings: Settings) -> VerifierKey:
    from consentreg.crypto import Signer

    return trust_key(ctx, Signer.load(settings.signing_key_file).public_key_bytes())


# --- joining another PC ---------------------------------------------------------------------


def export_key(settings: Settings, *, passphrase: str) -> bytes:
    """This register's master key sealed under `passphrase` (consentreg.crypto), after checking
    that this PC's key is the register's."""
    from consentreg.crypto import read_master_key, seal_master_key

    engine = engine_for(settings)
    try:
        keys = Keyring.load(settings.key_file)
        identity = require_key(settings, engine, keys)
    finally:
        engine.dispose()
    master = read_master_key(settings.key_file)
    return seal_master_key(master, register_id=identity.register_id, passphrase=passphrase)


def join_register(settings: Settings, *, export: bytes, passphrase: str) -> JoinReport:
    """`consentreg join`: open a key export, check it belongs to the register at this PC's
    database, then write the key file and a new signing key (mode 0600) and list that key as
    trusted, all or nothing. Refuses (nothing written): no register there yet (exit 2), a file
    for another register or whose key is not this register's (exit 7), a passphrase that does not
    open it (exit 2), a different key file already on this PC (exit 2)."""
    from consentreg.config import ensure_home
    from consentreg.crypto import (
        Signer,
        export_register_id,
        new_signing_key_pem,
        open_master_key,
        write_key_file,
        write_signing_key_file,
    )
    from consentreg.db.schema import require_head

    engine = engine_for(settings)
    try:
        require_head(engine)
        with engine.connect() as conn:
            identity = read_identity(conn)
        if identity is None:
            raise ConfigError(
                "the database holds no register yet: run `consentreg init` on the first PC"
            )
        if export_register_id(export) != identity.register_id:
            raise WrongKeyError(
                msg(
                    "the key file is for register {value}, this database holds register {identity_register_id}: nothing was written",
                    value=export_register_id(export),
                    identity_register_id=identity.register_id,
                )
            )
        _, master = open_master_key(export, passphrase=passphrase)
        keys = Keyring.from_master(master)
        if keys.fingerprint != identity.fingerprint:
            raise WrongKeyError(
                msg(
                    "the key in the file is not register {identity_register_id}'s key (the file was made from a damaged or another key): nothing was written",
                    identity_register_id=identity.register_id,
                )
            )
        if settings.key_file.exists():
            if Keyring.load(settings.key_file).fingerprint != keys.fingerprint:
                raise InvalidInputError(
                    msg(
                        "this PC already has another key file at {settings_key_file}: it was not replaced; move it away first if it is not needed",
                        settings_key_file=settings.key_file,
                    )
                )
            with Register(settings, engine, keys).work() as ctx:
                key = _trust_own_signing_key(ctx, settings)
            return JoinReport(identity.register_id, key.text, already_joined=True)
        if settings.signing_key_file.exists():
            raise InvalidInputError(
                msg(
                    "this PC has a signing key {settings_signing_key_file} but no key file: move the signing key away first (it belongs to another register)",
                    settings_signing_key_file=settings.signing_key_file,
                )
            )
        ensure_home(settings)
        pem = new_signing_key_pem()
        signer = Signer.from_pem(pem)
        written: list[Path] = []
        try:
            with Register(settings, engine, keys).work() as ctx:
                key = trust_key(ctx, signer.public_key_bytes())
                write_key_file(settings.key_file, master)
                written.append(settings.key_file)
                write_signing_key_file(settings.signing_key_file, pem)
                written.append(settings.signing_key_file)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        return JoinReport(identity.register_id, key.text, already_joined=False)
    finally:
        engine.dispose()
