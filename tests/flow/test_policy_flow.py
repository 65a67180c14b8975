"""The policy file's flow section, output labels and argument roles."""

from __future__ import annotations

import pytest

import proctor
from proctor import PolicyError
from proctor.flow import role_of

from ._transcript import POLICY


def test_defaults_are_safe():
    flow = proctor.load_policy_text(POLICY).spec.flow
    assert flow.enabled
    assert (flow.untrusted_arguments, flow.trifecta, flow.instructions) == ("hold", "deny", "hold")
    assert (flow.generated_targets, flow.unanchored_payments) == ("hold", "hold")
    assert flow.confidential_from == "personal"


def test_output_label_shorthand():
    pol = proctor.load_policy_text(POLICY.replace("body: untrusted", "body: secret"))
    fl = pol.tools["mail.read"].spec.output.fields
    assert fl["body"].confidentiality == "secret"
    assert fl["subject"].trust == "untrusted"


@pytest.mark.parametrize(
    ("arg", "role"),
    [
        ("to", "recipient"),
        ("recipients", "recipient"),
        ("user_email", "recipient"),
        ("url", "destination"),
        ("iban", "account"),
        ("amount", "amount"),
        ("file_id", "target"),
        ("file_path", "target"),
        ("password", "credential"),
        ("street", "address"),
        ("body", "content"),
    ],
)
def test_roles_are_inferred_from_names(arg, role):
    text = POLICY.replace("args: {title: string, text: string}", f"args: {{{arg}: string}}")
    plan = proctor.load_policy_text(text).tools["notes.write"]
    assert role_of(plan, arg) == role


def test_a_declared_role_wins():
    text = POLICY.replace(
        "args: {title: string, text: string}", "args: {title: {type: string, role: target}}"
    )
    plan = proctor.load_policy_text(text).tools["notes.write"]
    assert role_of(plan, "title") == "target"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("flow:\n", "flow:\n  trifecta: maybe\n", "flow.trifecta"),
        ("flow:\n", "flow:\n  spotlight: glow\n", "flow.spotlight"),
        ("body: untrusted", "body: {trust: sometimes}", "tools.mail.read.output.fields.body.trust"),
        (
            "{title: string",
            "{title: {type: string, role: boss}",
            "tools.notes.write.args.title.role",
        ),
    ],
)
def test_bad_flow_settings_name_file_line_and_field(old, new, field):
    with pytest.raises(PolicyError) as info:
        proctor.load_policy_text(POLICY.replace(old, new, 1), "mailer.yaml")
    (problem,) = info.value.problems
    assert problem.field == field
    assert problem.file == "mailer.yaml"
    assert problem.line is not None
