"""``proctor access add --role agent``: an agent key with its grant; ``proctor serve`` and
``proctor mcp-proxy`` refuse bad arguments with a message, before serving anything."""

from __future__ import annotations

from typer.testing import CliRunner

from proctor.approvals import ApprovalQueue
from proctor.cli import app
from proctor.store import create_store_engine

from ._world import SEED


def cli(url, *args, who=None, key=None):
    env = {
        "PROCTOR_DATABASE_URL": url,
        "PROCTOR_AUDIT_SIGNING_KEY": SEED,
        "COLUMNS": "200",
        "PROCTOR_AS": who,
        "PROCTOR_KEY": key,
    }
    return CliRunner().invoke(app, list(args), env=env)


def test_agent_keys_get_their_grant(sqlite_url):
    root = cli(sqlite_url, "access", "add", "root", "--role", "admin")
    assert root.exit_code == 0, root.output
    root_key = root.stdout.strip().splitlines()[-1]
    res = cli(
        sqlite_url,
        "access",
        "add",
        "bot",
        "--role",
        "agent",
        "--agent",
        "refunds-bot",
        "--tenant",
        "acme",
        who="root",
        key=root_key,
    )
    assert res.exit_code == 0, res.output
    grant = ApprovalQueue(create_store_engine(sqlite_url)).grants.get("bot")
    assert grant is not None
    assert grant.allows("refunds-bot", "acme")
    assert not grant.allows("refunds-bot", "globex")
    assert not grant.allows("hr-bot", "acme")


def test_agent_role_needs_agent_and_tenant(sqlite_url):
    res = cli(sqlite_url, "access", "add", "bot", "--role", "agent", "--agent", "refunds-bot")
    assert res.exit_code == 1
    assert "--agent and --tenant go with role agent" in res.output
    res = cli(sqlite_url, "access", "add", "dana", "--role", "approver", "--tenant", "acme")
    assert res.exit_code == 1


def test_serve_refuses_a_bad_policy_with_file_and_line(tmp_path, sqlite_url):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nagent: {name: x}\n")
    res = cli(sqlite_url, "serve", "--policy", str(bad))
    assert res.exit_code == 1
    assert "bad.yaml:2" in res.output


def test_mcp_proxy_needs_a_downstream(tmp_path, sqlite_url):
    from pathlib import Path

    policy = Path(__file__).parents[1] / "mcp_proxy" / "policy.yaml"
    res = cli(sqlite_url, "mcp-proxy", "--policy", str(policy))
    assert res.exit_code == 2
    assert "no downstream server" in res.output
    res = cli(sqlite_url, "mcp-proxy", "--policy", str(policy), "--server", "Bad Name=x")
    assert res.exit_code == 2
    assert "expected NAME=COMMAND or NAME=URL" in res.output
