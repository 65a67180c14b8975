"""The published OpenAPI spec, fuzzed with schemathesis: no server error, no response that
breaks the schema, no status the spec does not list, and no ALLOW for a call the policy does
not allow (a tool outside it, or arguments its schema refuses)."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from pydantic import ValidationError
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from proctor.approvals import Role

from ._world import running, settings_for, write_policies


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    """One gateway on SQLite for the whole run, with a real session to aim at (and a digest
    key, so that its memory generates no development keyring in the working directory)."""
    root = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{root / 'proctor.db'}"
    import httpx

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    settings = settings_for(url, write_policies(root))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROCTOR_DIGEST_KEY", "d1" * 32)
        with running(settings, httpx.MockTransport(handle)) as world:
            access = world.gateway.queue.access
            root_p = access.authenticate("root", world.keys["root"])
            roles = [Role.ADMIN, Role.APPROVER, Role.AUDITOR, Role.OPERATOR]
            groups = ["finance", "memory@acme"]
            world.keys["super"] = access.add("super", roles, groups, by=root_p)
            world.sid = world.open()
            yield world


def test_spec_is_published(fuzzed):
    spec = fuzzed.client.get("/openapi.json").json()
    assert {
        "/v1/sessions",
        "/v1/sessions/{session_id}/decide",
        "/v1/approvals/{approval_id}/approve",
        "/v1/memory/items",
        "/v1/memory/items/{item_id}",
        "/v1/memory/search",
        "/v1/memory/review",
        "/v1/memory/review/{item_id}/approve",
        "/v1/memory/erase",
        "/v1/sessions/{session_id}/context",
    } <= set(spec["paths"])
    assert set(spec["components"]["securitySchemes"]) == {"APIKeyHeader", "HTTPBearer"}


def _never_allows_what_the_policy_refuses(fuzzed):
    def check(ctx, response, case):
        if not case.path.endswith(("/decide", "/call")) or response.status_code != 200:
            return None
        body = response.json()
        if body["verdict"] != "ALLOW":
            return None
        req = case.body
        pol = fuzzed.gateway.policies.require("refunds-bot", "production")
        plan = pol.tools.get(req["tool"])
        assert plan is not None, f"ALLOW for {req['tool']!r}, which the policy does not name"
        try:
            plan.args_model.model_validate(req.get("args", {}))
        except ValidationError as exc:
            raise AssertionError(f"ALLOW for arguments the policy refuses: {exc}") from None
        return None

    return check


def _operations():
    """(label, mode) for every operation: valid inputs (positive) and invalid ones (negative)."""
    return [
        pytest.param(mode, id=mode.value)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]


@pytest.mark.parametrize("mode", _operations())
def test_api_conforms_to_its_spec(fuzzed, mode):
    """Every operation, 30 generated requests each, valid and invalid (schemathesis's own
    pytest loader does not run under pytest 9.2, so the strategies are driven directly)."""
    api = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.client.app)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        _never_allows_what_the_policy_refuses(fuzzed),
    ]
    ran = 0
    for result in api.get_all_operations():
        op = result.ok()
        if op.path.endswith("/close"):
            continue  # closing the shared session would turn the rest into 409s

        @hypothesis.given(case=op.as_strategy(mode))
        @hypothesis.settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            people = case.path.startswith(("/v1/memory/review", "/v1/memory/erase"))
            agents = case.path.startswith(("/v1/sessions", "/v1/memory")) and not people
            who = "bot" if agents else "super"
            params = case.path_parameters or {}
            if "session_id" in params and len(str(case.body)) % 2 == 0:
                params["session_id"] = fuzzed.sid  # aim half the cases at a real session
            headers = {"X-Proctor-Key": f"{who}:{fuzzed.keys[who]}"}
            case.call_and_validate(headers=headers, checks=checks)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            # an operation without parameters or body has no invalid input to generate
            assert mode is GenerationMode.NEGATIVE
            continue
        ran += 1
    assert ran >= (18 if mode is GenerationMode.POSITIVE else 12)
