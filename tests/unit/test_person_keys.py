"""Values under a person's own data key (consentreg.crypto, schema 0016): read back while the
key is there, "(erased)" once it is gone, bound to their row and to the people named in them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from consentreg.crypto import ERASED, Keyring, person_ids_of
from consentreg.errors import TamperedDataError

MASTER = bytes(range(32))
ANNE, BO = "a" * 32, "b" * 32


class Vault:
    """The `person_keys` table of a test: wrapped keys by person ID, None once erased."""

    def __init__(self) -> None:
        self.rows: dict[str, bytes | None] = {}
        self.fetched: list[list[str]] = []

    def fetch(self, ids: Sequence[str]) -> Mapping[str, bytes | None]:
        self.fetched.append(list(ids))
        return {pid: self.rows[pid] for pid in ids if pid in self.rows}


def keyring(vault: Vault) -> Keyring:
    """A keyring as one unit of work has it."""
    return Keyring.from_master(MASTER).bound(vault.fetch)


@pytest.fixture
def vault() -> Vault:
    found = Vault()
    writer = keyring(found)
    for pid in (ANNE, BO):
        found.rows[pid] = writer.new_person_key(pid)
    return found


def test_a_value_under_a_persons_key_reads_back_in_another_unit_of_work(vault: Vault) -> None:
    token = keyring(vault).encrypt("Anne", table="people", column="name", row_id=ANNE, person=ANNE)
    assert person_ids_of(token) == [ANNE]
    reader = keyring(vault)
    assert reader.decrypt(token, table="people", column="name", row_id=ANNE) == "Anne"
    assert reader.decrypt(token, table="people", column="name", row_id=ANNE) == "Anne"
    assert vault.fetched[-1] == [ANNE]  # fetched once per unit of work


def test_once_the_key_is_gone_the_value_reads_as_erased(vault: Vault) -> None:
    token = keyring(vault).encrypt("Anne", table="people", column="name", row_id=ANNE, person=ANNE)
    vault.rows[ANNE] = None
    reader = keyring(vault)
    assert reader.decrypt(token, table="people", column="name", row_id=ANNE) == ERASED
    decryptor = reader.field_decryptor(table="people", column="name")
    assert decryptor(token, ANNE) == ERASED
    assert reader.person_key_state(ANNE) == "erased"
    assert reader.person_blob_key(ANNE) is None


def test_a_value_about_two_people_is_erased_with_either(vault: Vault) -> None:
    token = keyring(vault).encrypt(
        "Anne og Bo", table="publications", column="caption", row_id="p1", person=[BO, ANNE]
    )
    assert person_ids_of(token) == [ANNE, BO]
    where = {"table": "publications", "column": "caption", "row_id": "p1"}
    assert keyring(vault).decrypt(token, **where) == "Anne og Bo"
    vault.rows[BO] = None
    assert keyring(vault).decrypt(token, **where) == ERASED


def test_a_value_moved_to_another_row_or_person_does_not_open(vault: Vault) -> None:
    token = keyring(vault).encrypt("Anne", table="people", column="name", row_id=ANNE, person=ANNE)
    with pytest.raises(TamperedDataError):
        keyring(vault).decrypt(token, table="people", column="name", row_id=BO)
    relabelled = token.replace(ANNE.encode(), BO.encode())  # named as Bo's: Bo's key fails
    with pytest.raises(TamperedDataError):
        keyring(vault).decrypt(relabelled, table="people", column="name", row_id=ANNE)


def test_a_person_without_a_key_row_is_under_the_registers_key(vault: Vault) -> None:
    reader = keyring(vault)
    assert reader.person_key_state("c" * 32) == "register"
    old = reader.encrypt("Gammel", table="people", column="name", row_id="c" * 32)
    assert person_ids_of(old) == []
    assert reader.decrypt(old, table="people", column="name", row_id="c" * 32) == "Gammel"


def test_a_wrapped_key_opens_only_with_the_registers_key(vault: Vault) -> None:
    wrapped = vault.rows[ANNE]
    assert wrapped is not None
    assert len(Keyring.from_master(MASTER).unwrap_person_key(wrapped, ANNE)) == 32
    with pytest.raises(TamperedDataError):
        Keyring.from_master(bytes(32)).unwrap_person_key(wrapped, ANNE)
    with pytest.raises(TamperedDataError):
        Keyring.from_master(MASTER).unwrap_person_key(wrapped, BO)
