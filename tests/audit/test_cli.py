"""``proctor audit verify | show | export``."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from proctor import Gate
from proctor.audit import AuditHook, Signer, canonical_json
from proctor.cli import app

from ._policy import refunds_policy
from .conftest import SEED
from .test_tamper import drop_triggers, sql


@pytest.fixture
def recorded(db_url, make_log):
    """A log holding one session of three refund calls; returns (url, log, session id)."""
    log = make_log(db_url, checkpoint_every=3)
    gate = Gate(refunds_policy(), hooks=[AuditHook(log)])

    @gate.tool("payments.refund")
    def refund(order_id: str, amount: float) -> str:
        return "ok"

    session = gate.open_session("refunds-bot", principal="ticket:T-9", tenant="acme")
    for amount in (40.0, 250.0, 5000.0):
        gate.call(session, "payments.refund", {"order_id": "O-1", "amount": amount})
    gate.close()
    log.checkpoint()
    return db_url, log, session.id


def run(url: str, *args: str):
    env = {
        "PROCTOR_DATABASE_URL": url,
        "PROCTOR_AUDIT_SIGNING_KEY": SEED,
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    return CliRunner().invoke(app, ["audit", *args], env=env)


def test_verify_passes_on_an_intact_log(recorded):
    url, _, _ = recorded
    result = run(url, "verify")
    assert result.exit_code == 0, result.output
    assert "ok 8 records (seq 1..8), 3 signed checkpoints (last at seq 8)" in result.output
    assert "3 Merkle roots recomputed" in result.output


def test_verify_fails_and_names_the_first_bad_record(recorded):
    url, log, _ = recorded
    drop_triggers(log.engine)
    sql(log.engine, "UPDATE proctor_audit_records SET body = '{}' WHERE seq = 4")
    result = run(url, "verify")
    assert result.exit_code == 1
    assert "FAIL first bad record: seq 4: edited" in result.output


def test_verify_with_an_explicit_untrusted_key_fails(recorded):
    url, _, _ = recorded
    other = Signer.from_seed("42" * 32).public_hex
    result = run(url, "verify", "--public-key", other)
    assert result.exit_code == 1
    assert "untrusted_key" in result.output


def test_show_tells_the_story_of_a_session(recorded):
    url, _, session = recorded
    result = run(url, "show", "--session", session)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 8
    assert "session opened: agent refunds-bot acting for ticket:T-9 in tenant acme" in lines[0]
    assert "decided payments.refund(amount=<number " in lines[1]
    assert "-> ALLOW" in lines[1]
    assert "saw untrusted internal content cnt_" in lines[2]  # what the agent saw: the output
    assert "from tool:payments.refund" in lines[2]
    assert "payments.refund executed, output <string" in lines[3]
    assert "-> HOLD [amount generated, order_id generated]" in lines[4]
    assert "by refund.over-100: Refunds above 100 need a finance approver." in lines[4]
    assert "awaiting approval apr_" in lines[5]
    assert "-> DENY [amount generated, order_id generated] by refund.over-1000" in lines[6]
    assert "O-1" not in result.output.replace("O-1000", "")


def test_show_an_unknown_session_fails(recorded):
    url, _, _ = recorded
    result = run(url, "show", "--session", "ses_nope")
    assert result.exit_code == 1


def test_export_streams_one_json_record_per_line(recorded):
    url, _, _ = recorded
    result = run(url, "export", "--format", "jsonl")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["seq"] for r in records] == list(range(1, 9))
    assert records[3]["prev"] == records[2]["hash"]
    assert {"seq", "id", "ts", "kind", "session", "links", "body", "prev", "hash"} == set(
        records[0]
    )
    for r in records:  # a SIEM can re-check each line on its own
        content = {k: v for k, v in r.items() if k != "hash"}
        assert hashlib.sha256(canonical_json(content).encode()).hexdigest() == r["hash"]
    after = run(url, "export", "--after", "5")
    assert [json.loads(x)["seq"] for x in after.output.splitlines()] == [6, 7, 8]


def test_a_missing_database_is_an_error_not_a_new_file(tmp_path):
    result = CliRunner().invoke(
        app,
        ["audit", "verify"],
        env={"PROCTOR_DATABASE_URL": "", "PROCTOR_SQLITE_PATH": str(tmp_path / "none.db")},
    )
    assert result.exit_code == 2
    assert not (tmp_path / "none.db").exists()


def test_verify_with_the_public_key_in_a_pem_file(recorded, tmp_path):
    url, _, _ = recorded
    pem = Signer.from_seed(SEED).public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "audit.pub").write_bytes(pem)
    result = run(url, "verify", "--public-key", str(tmp_path / "audit.pub"))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
