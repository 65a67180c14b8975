"""`proctor memory ...` as an operator and a reviewer run it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proctor.audit import AuditLog, AuditSettings
from proctor.cli import app
from proctor.store import StoreSettings
from proctor.vault import Keyring

runner = CliRunner()
SEED = "5e" * 32


@pytest.fixture
def cli(db_url, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROCTOR_VAULT_KEYS", raising=False)
    monkeypatch.delenv("PROCTOR_DIGEST_KEY", raising=False)
    ring = tmp_path / "vault.keys"
    Keyring.generate().save(ring)
    monkeypatch.setenv("PROCTOR_VAULT_KEYRING", str(ring))
    monkeypatch.setenv("PROCTOR_AUDIT_SIGNING_KEY", SEED)

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(app, ["memory", *args, "--database-url", db_url])
        assert res.exit_code == code, res.output
        return res.output

    run.url = db_url  # type: ignore[attr-defined]
    return run


SCOPE = ["--tenant", "acme", "--workspace", "retail", "--agent", "support-bot"]


def _id(output: str) -> str:
    found = re.search(r"mem_[0-9a-f]{16}", output)
    assert found, output
    return found.group()


def test_put_search_get_delete(cli):
    item = _id(cli("put", "Prefers email contact", *SCOPE, "--subject", "C-1"))
    assert item in cli("search", "email", *SCOPE, "--subject", "C-1")
    assert "no items" in cli("search", "email", *SCOPE, "--subject", "C-2")
    got = json.loads(cli("get", item, *SCOPE, "--subject", "C-1", "--json"))
    assert got[0]["trusted"] is True
    assert got[0]["source"] == "operator"
    cli(
        "get",
        item,
        "--tenant",
        "globex",
        "--workspace",
        "retail",
        "--agent",
        "support-bot",
        "--subject",
        "C-1",
        code=1,
    )
    cli("delete", item, *SCOPE, "--by", "ops", code=1)  # without its subject: not in scope
    assert f"deleted {item}" in cli("delete", item, *SCOPE, "--subject", "C-1", "--by", "ops")


def test_a_scope_is_required(cli):
    res = runner.invoke(app, ["memory", "search", "x", "--tenant", "acme"])
    assert res.exit_code == 2
    assert "--workspace" in res.output
    assert "not a valid name" in cli(
        "search", "x", "--tenant", "a b", "--workspace", "w", "--agent", "a", code=2
    )


def test_review_flow_shows_the_source_and_is_audited(cli):
    out = cli(
        "put",
        "IBAN changed per customer email",
        *SCOPE,
        "--kind",
        "bank_account",
        "--source",
        "email",
    )
    item = _id(out)
    assert "pending" in out
    assert item in cli("pending", "--tenant", "acme")
    shown = cli("show", item, "--tenant", "acme")
    assert "source:          email" in shown
    assert "trusted:         false" in shown
    assert "IBAN changed per customer email" in shown
    assert "record rec_" in shown  # the audit record of its writing
    assert "no items" in cli("search", "IBAN", *SCOPE)
    assert f"approved {item} (trusted)" in cli(
        "approve", item, "--tenant", "acme", "--by", "alice", "--note", "called the customer"
    )
    assert item in cli("search", "IBAN", *SCOPE)
    cli("approve", item, "--tenant", "acme", "--by", "alice", code=1)  # no longer pending
    rejected = _id(cli("put", "Entitled to gold tier", *SCOPE, "--kind", "entitlement"))
    assert "rejected" in cli("reject", rejected, "--tenant", "acme", "--by", "bob")
    log = AuditLog.open(
        AuditSettings(store=StoreSettings(database_url=cli.url), signing_key=SEED),
        migrate_schema=False,
    )
    kinds = [r.kind for r in log.records()]
    log.engine.dispose()
    assert kinds.count("memory.reviewed") == 2
    assert kinds.count("memory.written") == 2


def test_erase_and_sweep(cli):
    for ws in ("retail", "loans"):
        cli(
            "put",
            f"about C-9 in {ws}",
            "--tenant",
            "acme",
            "--workspace",
            ws,
            "--agent",
            "bot",
            "--subject",
            "C-9",
        )
    cli("put", "about C-8", *SCOPE, "--subject", "C-8")
    report = json.loads(
        cli(
            "erase",
            "--tenant",
            "acme",
            "--subject",
            "C-9",
            "--by",
            "dpo",
            "--reason",
            "request 42",
            "--json",
        )
    )
    assert report["count"] == 2
    assert report["by_workspace"] == {"loans": 1, "retail": 1}
    assert report["audit_id"].startswith("rec_")
    assert "erased 0 item(s)" in cli("erase", "--tenant", "acme", "--subject", "C-9", "--by", "dpo")
    assert "purged 0 expired item(s)" in cli("sweep")


def test_status_names_the_isolation_in_force(cli):
    res = runner.invoke(app, ["memory", "status", "--database-url", cli.url])
    if cli.url.startswith("sqlite"):
        assert res.exit_code == 0
        assert "no row-level security" in res.output
    else:  # the test server's user is a superuser: row-level security does not apply to it
        assert res.exit_code == 1
        assert "BYPASSRLS" in res.output


def test_vector_search_needs_a_configured_embedder(cli, monkeypatch, tmp_path):
    cli("put", "Prefers email contact", *SCOPE)
    out = cli("search", "email", *SCOPE, "--mode", "vector", code=1)
    assert "needs an embedder" in out
    monkeypatch.setenv("PROCTOR_MEMORY_MINILM_PATH", str(tmp_path))  # no model there
    assert "no model.onnx" in cli("search", "email", *SCOPE, "--mode", "vector", code=2)
