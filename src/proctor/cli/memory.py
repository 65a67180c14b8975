"""``proctor memory``: agent memory from the shell: put, get, search and delete in a scope;
review pending items (with their source); erase a subject; sweep expired items."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from proctor.errors import ProctorError
from proctor.flow import Trust
from proctor.flow._labels import PRINCIPAL_SOURCES
from proctor.memory import Memory, MemoryItem, Origin, Scope, open_memory
from proctor.memory._vectors import check_mode
from proctor.policy import load_policies
from proctor.store import StoreError, StoreSettings

app = typer.Typer(
    help="Agent memory: scoped items, review of pending items, erasure, expiry.",
    no_args_is_help=True,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PROCTOR_DATABASE_URL",
        help="SQLAlchemy URL of the store (default: the SQLite file proctor.db).",
        show_default=False,
    ),
]
PolicyPath = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Policy file or directory whose memory sections apply (default: the defaults).",
        show_default=False,
    ),
]
Tenant = Annotated[str, typer.Option("--tenant", help="Tenant (required).", show_default=False)]
Workspace = Annotated[
    str, typer.Option("--workspace", help="Workspace (required).", show_default=False)
]
Agent = Annotated[str, typer.Option("--agent", help="Agent (required).", show_default=False)]
Subject = Annotated[
    str | None,
    typer.Option("--subject", help="The customer or account it is about.", show_default=False),
]
By = Annotated[
    str, typer.Option("--by", help="Who does this (recorded in the audit log).", show_default=False)
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class SearchModeOption(StrEnum):
    KEYWORD = "keyword"
    VECTOR = "vector"
    HYBRID = "hybrid"


@contextmanager
def _memory(database_url: str | None, policy: Path | None = None) -> Iterator[Memory]:
    base = StoreSettings.from_env()
    store = StoreSettings(
        database_url=database_url,
        sqlite_path=base.sqlite_path,
        sqlite_synchronous=base.sqlite_synchronous,
    )
    try:
        policies = load_policies(policy) if policy is not None else None
        memory = open_memory(store, policies=policies)
    except (ProctorError, OSError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None
    try:
        yield memory
    except (ProctorError, StoreError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(1) from None
    finally:
        if memory.audit is not None:
            memory.audit.close()
        memory.store.engine.dispose()


def _scope(tenant: str, workspace: str, agent: str, subject: str | None) -> Scope:
    try:
        return Scope(tenant, workspace, agent, subject)
    except ProctorError as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line(item: MemoryItem) -> str:
    trust = "trusted" if item.trusted else "untrusted"
    text = item.text if len(item.text) <= 80 else item.text[:77] + "..."
    return f"{item.id}  {item.kind}  {item.status}  {trust}  {item.scope}  {text}"


def _print(items: list[MemoryItem], as_json: bool) -> None:
    if as_json:
        out.print(json.dumps([i.to_dict() for i in items], indent=2, ensure_ascii=False))
        return
    for item in items:
        out.print(_line(item), markup=False)
    if not items:
        err.print("no items")


@app.command()
def put(
    text: Annotated[str, typer.Argument(help="What to remember.", show_default=False)],
    tenant: Tenant,
    workspace: Workspace,
    agent: Agent,
    subject: Subject = None,
    kind: Annotated[str, typer.Option("--kind", help="Kind of item.")] = "note",
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Where it comes from: operator, user, system (trusted) or anything else, such "
            "as email or web (untrusted).",
        ),
    ] = "operator",
    database_url: DatabaseUrl = None,
    policy: PolicyPath = None,
) -> None:
    """Store an item; prints its id and whether it awaits review."""
    scope = _scope(tenant, workspace, agent, subject)
    trust = Trust.TRUSTED if source in PRINCIPAL_SOURCES else Trust.UNTRUSTED
    with _memory(database_url, policy) as memory:
        item = memory.put(scope, text, kind=kind, origin=Origin(source, trust))
    out.print(_line(item), markup=False)
    if item.pending:
        err.print(f"awaits review: proctor memory show {item.id} --tenant {tenant}")


@app.command()
def get(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="Item id.", show_default=False)],
    tenant: Tenant,
    workspace: Workspace,
    agent: Agent,
    subject: Subject = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Show one item the scope may see (exit 1 if there is none)."""
    scope = _scope(tenant, workspace, agent, subject)
    with _memory(database_url) as memory:
        item = memory.get(scope, item_id)
    if item is None:
        err.print(f"no item {item_id} in {scope}")
        raise typer.Exit(1)
    _print([item], as_json)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Keywords.", show_default=False)],
    tenant: Tenant,
    workspace: Workspace,
    agent: Agent,
    subject: Subject = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 10,
    mode: Annotated[
        SearchModeOption,
        typer.Option(
            "--mode",
            help="keyword, or vector / hybrid (need an embedder: PROCTOR_MEMORY_MINILM_PATH).",
        ),
    ] = SearchModeOption.KEYWORD,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Search in a scope (never items awaiting review, never expired ones)."""
    scope = _scope(tenant, workspace, agent, subject)
    with _memory(database_url) as memory:
        _print(memory.search(scope, query, limit=limit, mode=check_mode(mode.value)), as_json)


@app.command()
def delete(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="Item id.", show_default=False)],
    tenant: Tenant,
    workspace: Workspace,
    agent: Agent,
    by: By,
    subject: Subject = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Delete an item of a scope (exit 1 if the scope has no such item)."""
    scope = _scope(tenant, workspace, agent, subject)
    with _memory(database_url) as memory:
        done = memory.delete(scope, item_id, by=by)
    if not done:
        err.print(f"no item {item_id} in {scope}")
        raise typer.Exit(1)
    out.print(f"deleted {item_id}")


@app.command()
def pending(
    tenant: Tenant,
    workspace: Annotated[str | None, typer.Option("--workspace", show_default=False)] = None,
    agent: Annotated[str | None, typer.Option("--agent", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Items of a tenant awaiting review, oldest first."""
    with _memory(database_url) as memory:
        items = memory.pending(tenant, workspace=workspace, agent=agent, limit=limit)
    _print(items, as_json)


@app.command()
def show(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="Item id.", show_default=False)],
    tenant: Tenant,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """What a reviewer needs: the item, its labels and detector findings, where it came from
    (source, session, contents) and the audit records of its writing and of its sources."""
    with _memory(database_url) as memory:
        item = memory.item(tenant, item_id)
        if item is None:
            err.print(f"no item {item_id} in tenant {tenant}")
            raise typer.Exit(1)
        records: list[dict[str, object]] = []
        if memory.audit is not None and item.session_id is not None:
            wanted = set(item.contents)
            for rec in memory.audit.records(session_id=item.session_id):
                if rec.id == item.audit_id or (
                    rec.kind == "content.ingested" and rec.body.get("content_id") in wanted
                ):
                    records.append(rec.as_dict())
        elif memory.audit is not None and item.audit_id is not None:
            found = memory.audit.get(item.audit_id)
            records += [found.as_dict()] if found is not None else []
    if as_json:
        data = {"item": item.to_dict(), "records": records}
        out.print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    rows = [
        ("id", item.id),
        ("scope", str(item.scope)),
        ("kind", item.kind),
        ("status", str(item.status)),
        ("trusted", str(item.trusted).lower()),
        ("confidentiality", str(item.confidentiality)),
        ("source", item.source),
        ("session", item.session_id or "-"),
        ("contents", ", ".join(item.contents) or "-"),
        ("audit record", item.audit_id or "-"),
        ("created", _when(item.created_at)),
        ("expires", _when(item.expires_at)),
        (
            "reviewed",
            f"{item.reviewed_by} at {_when(item.reviewed_at)}" if item.reviewed_by else "-",
        ),
    ]
    for name, value in rows:
        out.print(f"{name + ':':17}{value}", markup=False)
    for finding in item.findings:
        out.print(f"{'instruction-like:':17}{finding}", markup=False)
    out.print("text:", markup=False)
    out.print("  " + item.text.replace("\n", "\n  "), markup=False)
    for shown in records:
        out.print(f"record {shown['id']}  {shown['kind']}  {shown['ts']}", markup=False)


def _review(
    item_id: str, tenant: str, by: str, note: str | None, approve: bool, url: str | None
) -> None:
    with _memory(url) as memory:
        done = memory.review(tenant, item_id, approve=approve, by=by, note=note)
    if done is None:
        out.print(f"rejected {item_id} (deleted)")
    else:
        trust = "trusted" if done.trusted else "untrusted: its text reads as instructions"
        out.print(f"approved {item_id} ({trust})")


Note = Annotated[str | None, typer.Option("--note", help="Why (recorded).", show_default=False)]
ItemId = Annotated[str, typer.Argument(metavar="ID", help="Item id.", show_default=False)]


@app.command()
def approve(
    item_id: ItemId, tenant: Tenant, by: By, note: Note = None, database_url: DatabaseUrl = None
) -> None:
    """Approve an item awaiting review: it may then reach a context (trusted, unless its text
    reads as instructions)."""
    _review(item_id, tenant, by, note, True, database_url)


@app.command()
def reject(
    item_id: ItemId, tenant: Tenant, by: By, note: Note = None, database_url: DatabaseUrl = None
) -> None:
    """Reject an item awaiting review: it is deleted."""
    _review(item_id, tenant, by, note, False, database_url)


@app.command()
def erase(
    tenant: Tenant,
    subject: Annotated[
        str, typer.Option("--subject", help="The subject to forget.", show_default=False)
    ],
    by: By,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Forget everything memory holds about a subject in a tenant (right to be forgotten):
    every workspace, agent and status. Audited; prints what was deleted."""
    with _memory(database_url) as memory:
        report = memory.erase(tenant, subject, by=by, reason=reason)
    if as_json:
        out.print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    out.print(f"erased {report.count} item(s) about {subject} in {tenant}", markup=False)
    for kind, n in sorted(report.by_kind.items()):
        out.print(f"  kind {kind}: {n}", markup=False)
    for ws, n in sorted(report.by_workspace.items()):
        out.print(f"  workspace {ws}: {n}", markup=False)
    out.print(f"  fingerprints: {report.fingerprints}; audit record {report.audit_id}")


@app.command()
def sweep(database_url: DatabaseUrl = None) -> None:
    """Purge expired items of every tenant (run it from cron; expired items are never
    returned, even before they are purged)."""
    with _memory(database_url) as memory:
        n = memory.sweep()
    out.print(f"purged {n} expired item(s)")


@app.command()
def status(database_url: DatabaseUrl = None) -> None:
    """Whether row-level security applies to this connection's role (PostgreSQL)."""
    with _memory(database_url) as memory:
        enforced = memory.store.rls_enforced()
    if enforced is None:
        out.print("SQLite: isolation by the query layer (no row-level security)")
    elif enforced:
        out.print("PostgreSQL: row-level security enforced for this role")
    else:
        err.print(
            "[yellow]warning[/] PostgreSQL: this role is a superuser or has BYPASSRLS; "
            "row-level security does not apply to it. Run the gateway as an ordinary role."
        )
        raise typer.Exit(1)
