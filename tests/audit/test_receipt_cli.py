"""``proctor receipt verify | get | complete``: verify needs a file and a public key, no
database; get and complete read the log."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from proctor import Gate
from proctor.audit import AuditHook, Signer
from proctor.cli import app

from ._policy import refunds_policy
from .conftest import SEED

PUBLIC = Signer.from_seed(SEED).public_hex


@pytest.fixture
def recorded(db_url, make_log):
    """Three refund calls; returns (url, log, outcomes)."""
    log = make_log(db_url, checkpoint_every=1000)
    gate = Gate(refunds_policy(), hooks=[AuditHook(log)])

    @gate.tool("payments.refund")
    def refund(order_id: str, amount: float) -> str:
        return "ok"

    session = gate.open_session("refunds-bot", principal="ticket:T-9", tenant="acme")
    outs = [refund(session, order_id="O-1", amount=a) for a in (40.0, 250.0, 5000.0)]
    gate.close()
    return db_url, log, outs


def run(*args: str, url: str | None = None, key: bool = True):
    env = {"COLUMNS": "200", "NO_COLOR": "1", "PROCTOR_DATABASE_URL": url or "sqlite:///nowhere"}
    if key:
        env["PROCTOR_AUDIT_SIGNING_KEY"] = SEED
    return CliRunner().invoke(app, ["receipt", *args], env=env)


def test_get_complete_and_verify_offline(recorded, tmp_path):
    url, log, outs = recorded
    denied = outs[2]
    path = tmp_path / "receipt.json"
    got = run("get", denied.call_id, "-o", str(path), url=url)
    assert got.exit_code == 0, got.output
    assert path.read_text().strip() == denied.receipt.to_json()  # the same bytes, signed again

    # verify: no database named at all
    ok = run("verify", str(path), "--public-key", PUBLIC, key=False)
    assert ok.exit_code == 0, ok.output
    assert "ok payments.refund call" in ok.output
    assert "DENY denied (rules refund.over-1000)" in ok.output
    assert "no inclusion proof yet" in ok.output
    assert run("verify", str(path), "--public-key", PUBLIC, "--require-proof").exit_code == 1

    early = run("complete", str(path), url=url)
    assert early.exit_code == 1
    assert "not covered by a signed checkpoint yet" in early.output
    log.checkpoint()
    done = tmp_path / "done.json"
    assert run("complete", str(path), "-o", str(done), url=url).exit_code == 0
    ok = run("verify", str(done), "--public-key", PUBLIC, "--require-proof", key=False)
    assert ok.exit_code == 0, ok.output
    assert f"included in checkpoint {log.checkpoints()[-1].seq}" in ok.output
    direct = run("get", outs[0].call_id, "--complete", url=url)
    assert direct.exit_code == 0, direct.output
    assert json.loads(direct.output)["proof"]["checkpoint"]["seq"] == log.checkpoints()[-1].seq


def test_verify_fails_on_a_changed_receipt_a_wrong_key_and_a_bad_file(recorded, tmp_path):
    _, _, outs = recorded
    receipt = outs[1].receipt
    assert receipt is not None
    path = tmp_path / "r.json"
    path.write_text(receipt.to_json().replace('"HOLD"', '"DENY"'))
    bad = run("verify", str(path), "--public-key", PUBLIC)
    assert (bad.exit_code, bad.output.split(" ")[0]) == (1, "FAIL")
    assert "signature does not verify" in bad.output
    path.write_text(receipt.to_json())
    other = Signer.from_seed("77" * 32).public_hex
    wrong = run("verify", str(path), "--public-key", other)
    assert wrong.exit_code == 1
    assert "not one of the trusted keys" in wrong.output
    path.write_text(receipt.to_json()[:-1])
    assert run("verify", str(path), "--public-key", PUBLIC).exit_code == 1
    assert run("verify", str(path), "--public-key", "nonsense").exit_code == 2
    assert run("verify", str(tmp_path / "missing.json"), "--public-key", PUBLIC).exit_code == 2


def test_get_an_unknown_call_and_without_a_key(recorded):
    url, _, outs = recorded
    missing = run("get", "call_unknown", url=url)
    assert missing.exit_code == 1
    assert "no outcome of call call_unknown" in missing.output
    session = run("get", outs[0].call_id, "--session", "ses_other", url=url)
    assert session.exit_code == 1
    if url.startswith("sqlite"):  # no key configured, and no dev key beside the file
        nokey = run("get", outs[0].call_id, url=url, key=False)
        assert nokey.exit_code == 2
        assert "no signing key" in nokey.output


def test_verify_args_checks_the_commitment(recorded, tmp_path):
    """A genuine receipt for the 40.00 refund presented as covering the 5000.00 one: verify
    --args fails; with the real arguments it passes; without --args the rest still checks."""
    url, _, outs = recorded
    small = outs[0]
    path = tmp_path / "small.json"
    assert run("get", small.call_id, "-o", str(path), url=url).exit_code == 0
    real, large = tmp_path / "real.json", tmp_path / "large.json"
    real.write_text(json.dumps({"order_id": "O-1", "amount": 40.0}))
    large.write_text(json.dumps({"amount": 5000.0, "order_id": "O-1"}))
    ok = run("verify", str(path), "--public-key", PUBLIC, "--args", str(real), key=False)
    assert ok.exit_code == 0, ok.output
    assert "agent refunds-bot, tenant acme, production, session ses_" in ok.output
    assert "arguments match" in ok.output
    bad = run("verify", str(path), "--public-key", PUBLIC, "--args", str(large), key=False)
    assert bad.exit_code == 1
    assert "FAIL not the arguments the receipt commits to" in bad.output
    plain = run("verify", str(path), "--public-key", PUBLIC, key=False)
    assert plain.exit_code == 0
    assert "arguments not checked" in plain.output
    # the receipt without its opening: everything else verifies, the arguments cannot
    text = json.loads(path.read_text())
    del text["opening"]
    path.write_text(json.dumps(text))
    assert run("verify", str(path), "--public-key", PUBLIC, key=False).exit_code == 0
    closed = run("verify", str(path), "--public-key", PUBLIC, "--args", str(real), key=False)
    assert closed.exit_code == 1
    assert "no opening" in closed.output
    large.write_text("[1]")
    assert run("verify", str(path), "--public-key", PUBLIC, "--args", str(large)).exit_code == 2
    missing = tmp_path / "nothere.json"
    assert run("verify", str(path), "--public-key", PUBLIC, "--args", str(missing)).exit_code == 2
