"""The public names of ``proctor.approvals`` are pinned: adding or removing one is a decision."""

from __future__ import annotations

import proctor.approvals


def test_public_names_are_pinned():
    assert proctor.approvals.__all__ == [
        "ANY_TENANT",
        "CONTAINED",
        "FINAL",
        "KILL_SWITCH",
        "AccessRegistry",
        "AgentControls",
        "AgentGrant",
        "AgentGrants",
        "ApprovalQueue",
        "ApprovalRequest",
        "ApprovalSettings",
        "ApprovalState",
        "ApprovalStore",
        "ApprovalWorker",
        "BreakGlassGrant",
        "Claim",
        "Edit",
        "InMemoryApprovals",
        "NewRequest",
        "Notification",
        "Notifier",
        "Pause",
        "PendingApproval",
        "Principal",
        "Recorder",
        "Recovery",
        "Resolution",
        "Role",
        "SessionMemory",
        "Ticket",
        "Vote",
        "WebhookNotifier",
        "idempotency_key",
        "sign",
        "verify_signature",
    ]
    assert all(hasattr(proctor.approvals, name) for name in proctor.approvals.__all__)


def test_settings_from_the_environment():
    import pytest

    from proctor.approvals import ApprovalSettings, WebhookNotifier
    from proctor.errors import ApprovalConfigError

    assert ApprovalSettings.from_env({}).notifier() is None
    conf = ApprovalSettings.from_env(
        {
            "PROCTOR_WEBHOOK_URL": "https://hooks.example.test/x",
            "PROCTOR_WEBHOOK_SECRET": "s" * 32,
            "PROCTOR_BREAK_GLASS_MAX_MINUTES": "30",
        }
    )
    assert isinstance(conf.notifier(), WebhookNotifier)
    assert conf.max_break_glass_minutes == 30
    with pytest.raises(ApprovalConfigError, match="set both or neither"):
        ApprovalSettings.from_env({"PROCTOR_WEBHOOK_URL": "https://hooks.example.test/x"})
    with pytest.raises(ApprovalConfigError, match="whole number"):
        ApprovalSettings.from_env({"PROCTOR_BREAK_GLASS_MAX_MINUTES": "an hour"})
    with pytest.raises(ApprovalConfigError, match="1 to 1440"):
        ApprovalSettings.from_env({"PROCTOR_BREAK_GLASS_MAX_MINUTES": "0"})
