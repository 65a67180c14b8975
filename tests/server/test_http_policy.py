"""The policy's ``http:`` section: checked at load time, with file and line."""

from __future__ import annotations

import pytest

from proctor.errors import PolicyError
from proctor.policy import load_policy_text

BASE = """
version: 1
agent: {name: crm-bot, role: svc, owner: ops}
environments: {production: {max_autonomy: write}}
tools:
  customers.notify:
    autonomy: write
    args: {customer_id: string}
    http:
      url: URL
      method: METHOD
      credential: api_key
credentials:
  tools:
    customers.notify:
      secrets: {SECRET: "secret://crm-key"}
"""


def policy(url="https://crm.example/c/{customer_id}", method="POST", secret="api_key"):
    return BASE.replace("URL", url).replace("METHOD", method).replace("SECRET", secret)


def test_a_valid_http_tool_loads():
    pol = load_policy_text(policy(), "crm.yaml")
    spec = pol.tools["customers.notify"].spec.http
    assert spec is not None
    assert (spec.method, spec.credential) == ("POST", "api_key")


@pytest.mark.parametrize(
    ("kwargs", "where", "says"),
    [
        (
            {"secret": "other"},
            "crm.yaml:12: tools.customers.notify.http.credential",
            "is not a secret of this tool",
        ),
        (
            {"url": "ftp://crm.example/x"},
            "crm.yaml:10: tools.customers.notify.http.url",
            "should match pattern",
        ),
        ({"method": "TRACE"}, "crm.yaml:11: tools.customers.notify.http.method", "Input should be"),
    ],
)
def test_bad_http_tools_are_refused_with_file_and_line(kwargs, where, says):
    with pytest.raises(PolicyError) as err:
        load_policy_text(policy(**kwargs), "crm.yaml")
    text = str(err.value)
    assert where in text, text
    assert says in text, text
