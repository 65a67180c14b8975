"""tool_from_function: the validators derived from a typed function."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from proctor import RegistrationError
from proctor.tools import tool_from_function


def lookup(customer_id: str, limit: int = 10) -> list[str]:
    """Look customers up."""
    return [customer_id] * limit


async def fetch(url: str) -> None:
    return None


def test_sync_function_with_return_type():
    tool = tool_from_function(lookup, "crm.lookup")
    assert tool.name == "crm.lookup"
    assert tool.fn is lookup
    assert tool.is_async is False
    assert tool.description == "Look customers up."
    assert tool.output_schema == {"type": "array", "items": {"type": "string"}}
    assert tool.params_model.model_validate({"customer_id": "C1"}).__dict__ == {
        "customer_id": "C1",
        "limit": 10,
    }


def test_async_function_returning_none_has_no_output_validator():
    tool = tool_from_function(fetch, "web.fetch", "Fetch a page.")
    assert tool.is_async is True
    assert tool.output is None
    assert tool.description == "Fetch a page."


@pytest.mark.parametrize(
    "args",
    [
        pytest.param({"customer_id": 1}, id="no-coercion"),
        pytest.param({"customer_id": "C1", "limit": "3"}, id="no-str-to-int"),
        pytest.param({"customer_id": "C1", "extra": 1}, id="extra-forbidden"),
        pytest.param({}, id="missing"),
    ],
)
def test_parameters_model_is_strict(args):
    tool = tool_from_function(lookup, "crm.lookup")
    with pytest.raises(ValidationError):
        tool.params_model.model_validate(args)


def test_output_validator_is_strict():
    tool = tool_from_function(lookup, "crm.lookup")
    assert tool.output is not None
    with pytest.raises(ValidationError):
        tool.output.validate_python([1, 2], strict=True)


def test_name_with_dots_and_dashes_builds_a_model():
    tool = tool_from_function(lookup, "crm.look-up")
    assert tool.params_model.__name__ == "Params_crm_look_up"


def test_unannotated_parameter_is_refused():
    def untyped(x):
        return x

    with pytest.raises(RegistrationError, match="'x' needs a type annotation"):
        tool_from_function(untyped, "t")
