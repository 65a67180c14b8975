"""`proctor vault rotate-key | status` as an operator runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from proctor.cli import app
from proctor.store import StoreSettings
from proctor.vault import DataClass, Keyring, VaultSettings, open_vault

runner = CliRunner()


def test_rotate_key_then_reencrypt_moves_every_token(db_url, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("PROCTOR_VAULT_KEYS", raising=False)
    ring_file = tmp_path / "vault.keys"
    Keyring.generate().save(ring_file)
    settings = VaultSettings(StoreSettings(database_url=db_url), keyring_file=ring_file)
    vault = open_vault(settings)
    old = vault.keyring.current
    tokens = [
        vault.tokenize("acme", "s", "email", DataClass.CUSTOMER, f"u{i}@x.example")
        for i in range(3)
    ]
    args = ["--keyring", str(ring_file), "--database-url", db_url]

    res = runner.invoke(app, ["vault", "rotate-key", *args])
    assert res.exit_code == 0, res.output
    new = Keyring.from_file(ring_file).current
    assert f"current key {new} (was {old}); 2 keys" in res.output
    assert vault.store.count_by_key() == {old: 3}  # rotation alone moves nothing

    res = runner.invoke(app, ["vault", "rotate-key", "--reencrypt", *args])
    assert res.exit_code == 0, res.output
    newest = Keyring.from_file(ring_file).current
    assert "resealed 3 tokens" in res.output
    assert vault.store.count_by_key() == {newest: 3}
    reopened = open_vault(settings)
    assert [reopened.detokenize(t, tenant="acme", session_id="s").value for t in tokens] == [
        f"u{i}@x.example" for i in range(3)
    ]

    res = runner.invoke(app, ["vault", "status", *args])
    assert res.exit_code == 0, res.output
    assert f"{newest} (current)" in res.output
    assert "tokens 3" in res.output
    vault.store.engine.dispose()
    reopened.store.engine.dispose()


def test_an_inline_keyring_is_not_rotated_by_the_cli(tmp_path: Path):
    env = {"PROCTOR_VAULT_KEYS": "k1:" + "ab" * 32, "PROCTOR_SQLITE_PATH": str(tmp_path / "p.db")}
    res = runner.invoke(app, ["vault", "rotate-key"], env=env)
    assert res.exit_code == 2
    assert "PROCTOR_VAULT_KEYS" in res.output
