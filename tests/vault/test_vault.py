"""The tokenization vault: round trips, scope (a token never detokenizes in another tenant or
session), sealing, key rotation, and the SQL store on SQLite and PostgreSQL (concurrency,
atomic batches, durability across processes)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from proctor.errors import VaultError
from proctor.store import StoreSettings, create_store_engine, migrate, vault_tokens
from proctor.vault import (
    TOKEN,
    DataClass,
    Keyring,
    MemoryVaultStore,
    SqlVaultStore,
    Vault,
    VaultSettings,
    open_vault,
)

C = DataClass.CUSTOMER


@pytest.fixture
def sql_vault(db_url):
    engine = create_store_engine(db_url)
    migrate(engine)
    yield Vault(SqlVaultStore(engine), Keyring.generate())
    engine.dispose()


def test_round_trip_in_memory():
    v = Vault.ephemeral()
    tok = v.tokenize("acme", "ses_1", "email", C, "jane@example.com")
    assert TOKEN.fullmatch(tok)
    assert tok.startswith("tok_email_")
    back = v.detokenize(tok, tenant="acme", session_id="ses_1")
    assert (back.value, back.kind, back.data_class) == ("jane@example.com", "email", C)


def test_round_trip_on_the_database(sql_vault):
    tok = sql_vault.tokenize("acme", "ses_1", "card", DataClass.FINANCIAL, "4242")
    fresh = Vault(sql_vault.store, sql_vault.keyring)  # another replica: nothing cached
    assert fresh.detokenize(tok, tenant="acme", session_id="ses_1").value == "4242"


_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    value=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
    tenant=_ids,
    session=_ids,
    other_tenant=_ids,
    other_session=_ids,
)
def test_a_token_never_detokenizes_in_another_tenant_or_session(
    value, tenant, session, other_tenant, other_session
):
    v = Vault.ephemeral()
    tok = v.tokenize(tenant, session, "email", C, value)
    assert v.detokenize(tok, tenant=tenant, session_id=session).value == value
    for t, s in ((other_tenant, session), (tenant, other_session), (other_tenant, other_session)):
        if (t, s) == (tenant, session):
            continue
        with pytest.raises(VaultError, match="does not detokenize in this session"):
            v.detokenize(tok, tenant=t, session_id=s)


def test_unknown_and_foreign_tokens_get_the_same_answer():
    v = Vault.ephemeral()
    tok = v.tokenize("acme", "ses_1", "email", C, "a@example.com")
    with pytest.raises(VaultError) as foreign:
        v.detokenize(tok, tenant="globex", session_id="ses_1")
    with pytest.raises(VaultError) as unknown:
        v.detokenize("tok_email_" + "0" * 32, tenant="acme", session_id="ses_1")
    assert str(foreign.value).split("…")[1] == str(unknown.value).split("…")[1]


def test_a_row_moved_to_another_tenant_does_not_decrypt(sql_vault):
    tok = sql_vault.tokenize("acme", "ses_1", "email", C, "a@example.com")
    with sql_vault.store.engine.begin() as conn:  # an attacker with write access to the table
        conn.execute(update(vault_tokens).values(tenant="globex", session_id="ses_2"))
    fresh = Vault(sql_vault.store, sql_vault.keyring)
    with pytest.raises(VaultError, match="does not decrypt"):
        fresh.detokenize(tok, tenant="globex", session_id="ses_2")


def test_the_database_holds_no_value(sql_vault):
    sql_vault.tokenize("acme", "ses_1", "email", C, "needle@example.com")
    with sql_vault.store.engine.connect() as conn:
        rows = conn.execute(select(vault_tokens)).all()
    assert rows
    assert all(b"needle" not in bytes(r.sealed) for r in rows)
    assert all("needle" not in str(tuple(r)) for r in rows)


def test_rotation_old_keys_decrypt_new_writes_use_the_new_key(sql_vault):
    old = sql_vault.keyring.current
    t1 = sql_vault.tokenize("acme", "ses_1", "email", C, "before@example.com")
    sql_vault.keyring = sql_vault.keyring.rotated()
    new = sql_vault.keyring.current
    t2 = sql_vault.tokenize("acme", "ses_1", "email", C, "after@example.com")
    assert sql_vault.store.count_by_key() == {old: 1, new: 1}
    fresh = Vault(sql_vault.store, sql_vault.keyring)
    assert fresh.detokenize(t1, tenant="acme", session_id="ses_1").value == "before@example.com"
    assert fresh.detokenize(t2, tenant="acme", session_id="ses_1").value == "after@example.com"
    assert fresh.reencrypt() == 1
    assert sql_vault.store.count_by_key() == {new: 2}
    retired = Vault(sql_vault.store, fresh.keyring.without(old))
    assert retired.detokenize(t1, tenant="acme", session_id="ses_1").value == "before@example.com"


def test_a_ring_without_the_rows_key_refuses():
    v = Vault.ephemeral()
    tok = v.tokenize("acme", "ses_1", "email", C, "x@example.com")
    other = Vault(v.store, Keyring.generate())
    with pytest.raises(VaultError, match="not in the ring"):
        other.detokenize(tok, tenant="acme", session_id="ses_1")


def test_a_batch_that_fails_stores_nothing(sql_vault):
    minted: list[str] = []

    def fail_midway() -> None:
        with sql_vault.batch("acme", "ses_1") as b:
            minted.append(b.tokenize("email", C, "lost@example.com"))
            raise RuntimeError("the view failed before any token left it")

    with pytest.raises(RuntimeError):
        fail_midway()
    (tok,) = minted
    assert sql_vault.store.count_by_key() == {}
    with pytest.raises(VaultError):
        Vault(sql_vault.store, sql_vault.keyring).detokenize(tok, tenant="acme", session_id="ses_1")


def test_concurrent_writers_store_each_token_once(db_url):
    engine = create_store_engine(db_url)
    migrate(engine)
    ring = Keyring.generate()
    errors: list[BaseException] = []
    tokens: list[str] = []

    def work() -> None:
        v = Vault(SqlVaultStore(engine), ring)  # one replica each
        try:
            for i in range(20):
                tokens.append(v.tokenize("acme", "ses_1", "email", C, f"u{i}@example.com"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(tokens)) == 20
    assert len(tokens) == 80
    assert SqlVaultStore(engine).count_by_key() == {ring.current: 20}
    engine.dispose()


CHILD = """
import sys
from pathlib import Path
from proctor.store import StoreSettings
from proctor.vault import DataClass, VaultSettings, open_vault
store = StoreSettings(database_url=sys.argv[1])
v = open_vault(VaultSettings(store, keyring_file=Path(sys.argv[2])))
print(v.tokenize("acme", "ses_1", "email", DataClass.CUSTOMER, "durable@example.com"), flush=True)
import os
os._exit(9)  # no clean shutdown
"""


def test_a_token_survives_the_process_that_minted_it(db_url, tmp_path: Path):
    ring_file = tmp_path / "vault.keys"
    Keyring.generate().save(ring_file)
    res = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, str(ring_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 9, res.stderr
    tok = res.stdout.strip()
    settings = VaultSettings(StoreSettings(database_url=db_url), keyring_file=ring_file)
    v = open_vault(settings)
    assert v.detokenize(tok, tenant="acme", session_id="ses_1").value == "durable@example.com"
    v.store.engine.dispose()


def test_memory_store_keeps_the_first_row_of_a_token():
    store = MemoryVaultStore()
    v = Vault(store, Keyring.generate())
    tok = v.tokenize("acme", "s", "email", C, "a@example.com")
    v.tokenize("acme", "s", "email", C, "a@example.com")
    assert store.count_by_key() == {v.keyring.current: 1}
    assert v.detokenize(tok, tenant="acme", session_id="s").value == "a@example.com"


def test_the_dev_keyring_is_created_once_and_kept(tmp_path: Path, caplog):
    settings = VaultSettings(StoreSettings(sqlite_path=tmp_path / "p.db"))
    first = settings.keyring()
    assert "development keyring" in caplog.text
    assert settings.dev_keyring_path.stat().st_mode & 0o777 == 0o600
    assert settings.keyring().keys == first.keys


def test_sealing_in_the_middle_of_a_key_swap_uses_one_consistent_ring(monkeypatch):
    """The ring and its ciphers are swapped as one object: a seal that runs while the setter
    is still building the new ciphers (here: from inside the build, deterministically) uses
    either the old set or the new one, never the new ring with the old ciphers."""
    import proctor.vault._vault as module

    v = Vault.ephemeral()
    real = module.AESGCM
    sealed: list = []

    def building(key: bytes):
        if not sealed:  # once, halfway through the swap
            tok = v.token_for("acme", "ses_1", "email", "mid@example.com")
            sealed.append(v._seal(tok, "acme", "ses_1", "email", "customer", "mid@example.com"))
        return real(key)

    monkeypatch.setattr(module, "AESGCM", building)
    v.keyring = v.keyring.rotated()
    monkeypatch.setattr(module, "AESGCM", real)
    (row,) = sealed
    v._store_rows([row])
    assert v.detokenize(row.token, tenant="acme", session_id="ses_1").value == "mid@example.com"
    assert v.tokenize("acme", "ses_1", "email", C, "after@example.com")
