"""``proctor mcp tools``: list (table and JSON), diff, approve with a reviewed fingerprint,
revoke; every refusal with a message and an exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.pins._world import World, make_world, tool
from typer.testing import CliRunner

from proctor.cli import app
from proctor.pins import fingerprint

SEED = "5d" * 32


@pytest.fixture
def world(sqlite_url):
    w = make_world(sqlite_url)
    w.pins.record("shop", {"refund": tool(), "orders_get": tool("orders_get")})
    yield w
    w.close()


def cli(world: World, *args: str, who: str = "otto"):
    env = {
        "PROCTOR_DATABASE_URL": world.url,
        "PROCTOR_AUDIT_SIGNING_KEY": SEED,
        "PROCTOR_AS": who,
        "PROCTOR_KEY": world.keys[who],
        "COLUMNS": "250",
    }
    return CliRunner().invoke(app, ["mcp", "tools", *args], env=env)


def test_list_as_json_and_table(world: World):
    res = cli(world, "--json", who="vera")
    assert res.exit_code == 0, res.output
    rows = {r["tool"]: r for r in json.loads(res.stdout)}
    assert rows["refund"]["state"] == "new"
    assert rows["refund"]["seen_fingerprint"] == fingerprint(tool())
    table = cli(world, "--server", "shop", who="vera")
    assert f"sha256:{fingerprint(tool())[:12]}" in table.output
    assert "new" in table.output


def test_approve_with_the_reviewed_fingerprint(world: World):
    wrong = cli(world, "approve", "shop", "refund", "--fingerprint", "00000000")
    assert wrong.exit_code == 1
    assert "changed since it was reviewed" in wrong.output
    fp = fingerprint(tool())
    ok = cli(world, "approve", "shop", "refund", "--fingerprint", fp[:12])
    assert ok.exit_code == 0, ok.output
    assert f"shop/refund pinned at sha256:{fp[:12]} by otto" in ok.output
    rest = cli(world, "approve", "shop", "--all")
    assert "shop/orders_get pinned" in rest.output
    assert cli(world, "approve", "shop", "--all").output.startswith("every tool of shop")


def test_usage_errors(world: World):
    assert cli(world, "approve", "shop").exit_code == 1  # neither TOOL nor --all
    assert cli(world, "approve", "shop", "refund", "--all").exit_code == 1
    missing = cli(world, "diff", "shop", "nope", who="vera")
    assert missing.exit_code == 1
    assert "no tool 'nope'" in missing.output
    assert cli(world, "approve", "mail", "refund").exit_code == 1  # another server's


def test_revoke_then_diff_shows_the_whole_definition(world: World):
    assert cli(world, "approve", "shop", "refund").exit_code == 0
    res = cli(world, "revoke", "shop", "refund", "--reason", "incident 12")
    assert res.exit_code == 0, res.output
    assert "shop/refund is new" in res.output
    shown = cli(world, "diff", "shop", "refund", who="vera")
    assert "definition (never approved):" in shown.output
    assert '"description": "Refund an order."' in shown.output
    refused = cli(world, "revoke", "shop", "refund", "--reason", "not mine to do", who="vera")
    assert refused.exit_code == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pins", "off"], "--pins 'off': expected enforce or tofu"),
        (["--name", "Bad Name"], "expected NAME=COMMAND or NAME=URL"),
    ],
)
def test_mcp_proxy_refuses_bad_pin_options(world: World, args, message):
    policy = Path(__file__).parents[1] / "mcp_proxy" / "policy.yaml"
    env = {"PROCTOR_DATABASE_URL": world.url, "PROCTOR_AUDIT_SIGNING_KEY": SEED}
    res = CliRunner().invoke(
        app, ["mcp-proxy", "--policy", str(policy), *args, "--", "python", "x.py"], env=env
    )
    assert res.exit_code == 2
    assert message in res.output
