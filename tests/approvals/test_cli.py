"""``proctor approvals | breakglass | agent | access``: every command authenticates its caller
(``--as`` and a key from ``PROCTOR_KEY``) and checks the role before it reads or writes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from proctor import OutcomeStatus
from proctor.approvals import ApprovalState
from proctor.audit import EventKind
from proctor.cli import app

from ._world import SEED


def cli(world_or_url, *args: str, who: str | None = None, key: str | None = None):
    url = world_or_url if isinstance(world_or_url, str) else world_or_url.url
    env = {
        "PROCTOR_DATABASE_URL": url,
        "PROCTOR_AUDIT_SIGNING_KEY": SEED,
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "PROCTOR_AS": None,
        "PROCTOR_KEY": None,
    }
    if who is not None:
        env["PROCTOR_AS"] = who
        env["PROCTOR_KEY"] = key if key is not None else world_or_url.keys[who]
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def pending(world):
    out = world.gate.call(world.session(), "payments.refund", {"order_id": "O-1", "amount": 250.0})
    assert out.status is OutcomeStatus.PENDING
    return world, out.approval_id


def test_list_and_show_need_a_known_principal_with_any_role(pending):
    world, rid = pending
    res = cli(world, "approvals", "list", "--json", who="vera")
    assert res.exit_code == 0, res.output
    (row,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert (row["id"], row["state"], row["tool"]) == (rid, "pending", "payments.refund")
    assert row["args"] == {"order_id": "O-1", "amount": 250.0}
    res = cli(world, "approvals", "show", rid, who="alice")
    assert res.exit_code == 0, res.output
    assert "Refunds above 100 need a finance approver." in res.stdout
    assert "never approved by: ticket:T-1, refunds-bot, svc-refunds" in res.stdout
    shown = json.loads(cli(world, "approvals", "show", rid, "--json", who="vera").stdout)
    assert shown["context"]["risk"]["moves_money"] is True


@pytest.mark.parametrize(
    ("args", "why"),
    [
        ((), "who are you"),
        (("--as", "alice"), "wrong key"),
        (("--as", "nobody"), "unknown"),
    ],
    ids=["no-identity", "wrong-key", "unknown"],
)
def test_every_command_refuses_an_unproven_caller(pending, args, why):
    world, rid = pending
    for command in (
        ["approvals", "list"],
        ["approvals", "show", rid],
        ["approvals", "approve", rid],
        ["approvals", "deny", rid, "--reason", "no way"],
        ["agent", "pause", "refunds-bot", "--reason", "incident response"],
        ["agent", "resume", "refunds-bot"],
        ["agent", "status"],
        [
            "breakglass",
            "issue",
            "--agent",
            "refunds-bot",
            "--tool",
            "payments.refund",
            "--environment",
            "production",
            "--minutes",
            "5",
            "--reason",
            "urgent month end",
        ],
        ["breakglass", "list"],
        ["access", "list"],
    ):
        env_key = "pk_not-the-key" if args else None
        res = (
            cli(world, *command, *args, who=None)
            if not args
            else CliRunner().invoke(
                app,
                [*command, *args],
                env={
                    "PROCTOR_DATABASE_URL": world.url,
                    "PROCTOR_AUDIT_SIGNING_KEY": SEED,
                    "PROCTOR_KEY": env_key,
                    "PROCTOR_AS": None,
                },
            )
        )
        assert res.exit_code == 3, (command, res.output)
        assert ("who are you" if not args else "unknown, wrong key or disabled") in res.output
    assert world.queue.get(rid).state is ApprovalState.PENDING
    assert world.queue.controls.paused("refunds-bot") is None


@pytest.mark.parametrize(
    ("who", "command", "needs"),
    [
        ("vera", ["approvals", "approve", "{rid}"], "not an approver"),
        ("carol", ["approvals", "approve", "{rid}"], "needs a member of finance"),
        ("root", ["approvals", "deny", "{rid}", "--reason", "no"], "not an approver"),
        ("alice", ["agent", "pause", "refunds-bot", "--reason", "i want to"], "operator or admin"),
        (
            "otto",
            [
                "breakglass",
                "issue",
                "--agent",
                "refunds-bot",
                "--tool",
                "payments.refund",
                "--environment",
                "production",
                "--minutes",
                "5",
                "--reason",
                "urgent month end",
            ],
            "needs role admin",
        ),
        ("alice", ["access", "list"], "needs role admin"),
        ("otto", ["access", "add", "eve", "--role", "admin"], "needs role admin"),
    ],
)
def test_roles_are_checked(pending, who, command, needs):
    world, rid = pending
    res = cli(world, *[c.format(rid=rid) for c in command], who=who)
    assert res.exit_code == 3, res.output
    assert needs in res.output


def test_approve_and_deny_from_the_command_line(world):
    s = world.session()
    a = world.gate.call(s, "payments.refund", {"order_id": "O-1", "amount": 250.0}).approval_id
    b = world.gate.call(s, "payments.refund", {"order_id": "O-2", "amount": 300.0}).approval_id
    res = cli(world, "approvals", "approve", a, "--note", "photo checked", who="alice")
    assert res.exit_code == 0
    assert f"{a} approved" in res.stdout
    res = cli(world, "approvals", "deny", b, "--reason", "duplicate refund", who="bob")
    assert res.exit_code == 0
    assert f"{b} denied" in res.stdout
    res = cli(world, "approvals", "approve", b, who="alice")
    assert res.exit_code == 1
    assert "is denied, not pending" in res.output
    assert world.queue.ticket(a, s).outcome(timeout=10).executed
    assert world.refunds == [("O-1", 250.0)]
    records = [r.body for r in world.log.records() if r.kind == EventKind.APPROVAL]
    assert [(r["action"], r["by"]) for r in records if r["approval_id"] == b][-1] == (
        "denied",
        "bob",
    )


def test_kill_switch_and_break_glass_from_the_command_line(world):
    s = world.session()
    approved = world.gate.call(s, "payments.refund", {"order_id": "O-9", "amount": 250.0})
    world.queue.approve(approved.approval_id, by=world.people["alice"])
    res = cli(world, "agent", "pause", "refunds-bot", "--reason", "incident 9 ongoing", who="otto")
    assert res.exit_code == 0, res.output
    assert f"voided 1 approved request(s) that had not run: {approved.approval_id}" in res.stdout
    assert world.queue.get(approved.approval_id).state is ApprovalState.CANCELLED
    out = world.gate.call(s, "orders.get", {"order_id": "O-1"})
    assert out.status is OutcomeStatus.PENDING
    assert "paused" in cli(world, "agent", "status", who="vera").stdout
    assert cli(world, "agent", "resume", "refunds-bot", who="otto").exit_code == 0
    res = cli(
        world,
        "breakglass",
        "issue",
        "--agent",
        "refunds-bot",
        "--tool",
        "payments.refund",
        "--environment",
        "production",
        "--minutes",
        "15",
        "--reason",
        "month-end backlog",
        who="root",
    )
    assert res.exit_code == 0
    assert "alert raised" in res.stdout
    grant = res.stdout.split(":")[0]
    out = world.gate.call(s, "payments.refund", {"order_id": "O-1", "amount": 250.0})
    assert out.status is OutcomeStatus.EXECUTED
    assert grant in cli(world, "breakglass", "list", who="vera").stdout
    assert cli(world, "breakglass", "revoke", grant, who="root").exit_code == 0
    res = cli(
        world,
        "breakglass",
        "issue",
        "--agent",
        "refunds-bot",
        "--tool",
        "payments.refund",
        "--environment",
        "production",
        "--minutes",
        "9999",
        "--reason",
        "month-end backlog",
        who="root",
    )
    assert res.exit_code == 1
    assert "1 to 240 minutes" in res.output


def test_break_glass_from_the_command_line_is_scoped_to_an_environment(world):
    base = ["breakglass", "issue", "--agent", "refunds-bot", "--tool", "payments.refund"]
    tail = ["--minutes", "15", "--reason", "staging incident 14, testers blocked"]
    res = cli(world, *base, *tail, who="root")
    assert res.exit_code == 2  # a usage error: the environment is mandatory
    assert "--environment" in res.output
    res = cli(world, *base, "--environment", "prod", *tail, who="root")
    assert res.exit_code == 2
    assert world.queue.controls.grants() == []
    res = cli(world, *base, "--environment", "staging", "--tenant", "acme", *tail, who="root")
    assert res.exit_code == 0, res.output
    assert "in staging, tenant acme until" in res.stdout
    big = {"order_id": "O-1", "amount": 250.0}
    assert world.gate.call(world.session(), "payments.refund", big).status is (
        OutcomeStatus.PENDING
    )
    staging = world.session(environment="staging")
    assert world.gate.call(staging, "payments.refund", big).status is OutcomeStatus.EXECUTED
    assert "staging, tenant acme" in cli(world, "breakglass", "list", who="vera").stdout


def test_bootstrap_the_registry_from_the_command_line(sqlite_url):
    res = cli(sqlite_url, "access", "add", "root", "--role", "admin")
    assert res.exit_code == 0, res.output
    root_key = res.stdout.strip()
    assert root_key.startswith("pk_")
    again = cli(sqlite_url, "access", "add", "mallory", "--role", "admin")
    assert again.exit_code == 3
    assert "an admin must add principals" in again.output
    res = CliRunner().invoke(
        app,
        ["access", "add", "alice", "--role", "approver", "--group", "finance"],
        env={
            "PROCTOR_DATABASE_URL": sqlite_url,
            "PROCTOR_AUDIT_SIGNING_KEY": SEED,
            "PROCTOR_AS": "root",
            "PROCTOR_KEY": root_key,
        },
    )
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        app,
        ["access", "list"],
        env={
            "PROCTOR_DATABASE_URL": sqlite_url,
            "PROCTOR_AUDIT_SIGNING_KEY": SEED,
            "PROCTOR_AS": "root",
            "PROCTOR_KEY": root_key,
            "COLUMNS": "200",
        },
    )
    assert "alice" in res.stdout
    assert "finance" in res.stdout


def test_reading_commands_never_create_a_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        app,
        ["approvals", "list", "--as", "x"],
        env={"PROCTOR_DATABASE_URL": None, "PROCTOR_SQLITE_PATH": None},
    )
    assert res.exit_code == 2
    assert "does not exist" in res.output
    assert list(tmp_path.iterdir()) == []


def test_refusals_are_recorded_once_each(pending):
    world, rid = pending
    assert cli(world, "approvals", "approve", rid, who="carol").exit_code == 3
    assert (
        cli(
            world, "agent", "pause", "refunds-bot", "--reason", "not mine to do", who="alice"
        ).exit_code
        == 3
    )
    assert cli(world, "approvals", "list", who="alice", key="pk_guess").exit_code == 3
    alerts = [r.body for r in world.log.records() if r.kind == EventKind.ALERT]
    refused = [(a["alert"], a["message"]) for a in alerts if a["alert"].endswith("refused")]
    assert [a for a, _ in refused] == ["approval.refused", "access.refused", "access.refused"]
    assert "carol" in refused[0][1]
    assert "alice was refused" in refused[1][1]
    assert "failed authentication as alice" in refused[2][1]
    pause = next(a for a in alerts if "alice was refused" in a["message"])
    assert pause["detail"]["command"].endswith("agent pause")  # the refused command, named
