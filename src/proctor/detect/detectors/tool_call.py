"""Tool-call shapes inside data: JSON or markup that looks like the model calling a tool."""

from __future__ import annotations

from proctor.detect._base import PatternDetector, Rule
from proctor.model import Severity


class ToolCallShape(PatternDetector):
    id = "injection.tool_call"
    description = (
        "Text shaped like a tool or function call (OpenAI/Anthropic JSON, XML call markup, "
        "ReAct 'Action:' lines) inside content that should only be data."
    )
    severity = Severity.HIGH
    json_source = True
    rules = (
        Rule(
            "json.function_call",
            r"\"(?:function_call|tool_calls?|tool_use|tool_code)\"\s*:\s*[\[{\"]",
            "contains a function-call JSON object, as a model would emit to call a tool",
            0.85,
            triggers=('"function_call"', '"tool_call', '"tool_use"', '"tool_code"'),
        ),
        Rule(
            "json.name_arguments",
            r"\{\s*\"(?:name|tool|function|tool_name|action)\"\s*:\s*\"[\w.:-]{2,64}\"\s*,\s*"
            r"\"(?:arguments|args|parameters|input|params|action_input)\"\s*:\s*[{\"]",
            "contains a JSON object shaped like a tool call (name and arguments)",
            0.8,
            triggers=(
                '"arguments"',
                '"args"',
                '"parameters"',
                '"input"',
                '"params"',
                '"action_input"',
            ),
        ),
        Rule(
            "xml.call",
            r"<\s*/?\s*(?:tool_call|tool_use|function_calls?|invoke|antml:invoke|"
            r"function_results?|tool_result)\b",
            "contains tool-call markup",
            0.8,
            triggers=(
                "tool_call",
                "tool_use",
                "function_call",
                "invoke",
                "function_result",
                "tool_result",
            ),
        ),
        Rule(
            "react.action",
            r"^\s*action\s*:\s*[\w.-]{2,64}\s*\n\s*action input\s*:",
            "contains a ReAct-style 'Action:' / 'Action Input:' tool call",
            0.8,
            triggers=("action input",),
        ),
        Rule(
            "call.imperative",
            r"\b(?:call|invoke|use|run|execute) the (?:`|\")?[a-z][a-z0-9]*_[a-z0-9_]+(?:`|\")? "
            r"(?:tool|function)\b",
            "tells the model to call a named tool",
            0.55,
            Severity.MEDIUM,
            triggers=(" tool", " function"),
        ),
    )
