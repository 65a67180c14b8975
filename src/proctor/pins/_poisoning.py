"""Tool poisoning: instructions to the model hidden in a tool's description or schema.

A tool description is read by the model as guidance, so an attacker who controls an MCP server
writes orders there (Invariant Labs' "tool poisoning" and "shadowing"): an ``<IMPORTANT>``
block that tells the model to read ``~/.ssh/id_rsa`` and pass it in a parameter, not to tell
the user, or to change how *another* tool is used. The content detectors are tuned for emails
and web pages; these rules are for the shape of such orders inside a definition.
"""

from __future__ import annotations

from proctor.detect import PatternDetector, Rule
from proctor.model import Severity

_FILES = (
    r"(?:~/|\$home/|/home/\w+/|/root/|%userprofile%)?\.?(?:ssh/|aws/credentials|"
    r"cursor/mcp\.json|config/gcloud|kube/config|netrc|npmrc|pypirc|docker/config\.json|"
    r"gnupg)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|/etc/(?:passwd|shadow)\b|(?:^|[\s\"'`/])\.env\b|"
    r"\bmcp\.json\b|\bcredentials\.json\b|\bwallet\.dat\b"
)


class ToolPoisoning(PatternDetector):
    id = "tool.poisoning"
    description = (
        "Orders to the model inside a tool definition: <IMPORTANT>/<SYSTEM> blocks, reading "
        "secret files (~/.ssh, .env, mcp.json), hiding things from the user, passing content "
        "in a side parameter, and rules about other tools (shadowing)."
    )
    severity = Severity.HIGH
    rescannable = False
    rules = (
        Rule(
            "tag",
            r"</?\s*(?:important|system|instructions?|secret|hidden|admin|critical|note to "
            r"(?:the )?(?:ai|assistant|model))\s*>",
            "a tag that addresses the model, as a poisoned tool description uses to give orders",
            0.8,
            triggers=("<",),
        ),
        Rule(
            "secret-file",
            _FILES,
            "names a file that holds keys or credentials; a tool description has no reason to",
            0.9,
            triggers=(
                "ssh",
                "id_",
                "aws",
                "mcp",
                ".env",
                "netrc",
                "passwd",
                "shadow",
                "kube",
                "gcloud",
                "npmrc",
                "pypirc",
                "docker",
                "gnupg",
                "credentials",
                "wallet",
            ),
        ),
        Rule(
            "conceal",
            r"\b(?:do not|don't|never|without)\s(?:tell|telling|mention|mentioning|inform|"
            r"informing|notify|notifying|alert|alerting|reveal|revealing|show|showing)\b[^.\n]{0,90}"
            r"\b(?:the )?(?:user|human|operator|anyone)\b|\b(?:the )?user (?:must|should) not "
            r"(?:know|see|be told)\b",
            "tells the model to hide what it does from the user",
            0.9,
            triggers=("user", "human", "operator", "anyone"),
        ),
        Rule(
            "side-channel",
            r"\b(?:pass|put|include|send|add|append|copy|provide)\b[^.\n]{0,40}\b(?:contents?|"
            r"text|key|file|conversation|history|messages?|secrets?|tokens?|credentials?)\b"
            r"[^.\n]{0,30}\b(?:as|in|into|inside)\s(?:the )?(?:`[^`]{1,40}`|'[^']{1,40}'|"
            r"\"[^\"]{1,40}\"|\w+)\s(?:param(?:eter)?|argument|field)\b|\b(?:pass|put|send)\b"
            r"[^.\n]{0,40}\bas\s`[^`]{1,40}`",
            "tells the model to move content into a parameter (a channel out of the session)",
            0.8,
            triggers=("pass", "put", "include", "send", "add", "append", "copy", "provide"),
        ),
        Rule(
            "before-using",
            r"\b(?:before|prior to|after) (?:using|calling|running|invoking) (?:this|the|any) "
            r"(?:tool|function)\b[^.\n]{0,40}\b(?:you must|must|always|first)?\s?(?:read|call|"
            r"fetch|open|send|run|execute|use)\b",
            "orders the model to do something else before or after using the tool",
            0.7,
            triggers=("before", "prior", "after"),
        ),
        Rule(
            "shadowing",
            r"\b(?:when|whenever|if) (?:the |any )?(?:user|model|assistant|agent|you)?\s?"
            r"(?:calls?|uses?|invokes?|runs?)\s(?:the |any |another |other )?[`'\"]?[\w.-]+"
            r"[`'\"]? (?:tool|function)\b[^.\n]{0,60}\b(?:always|must|instead|also)\b|"
            r"\b(?:when|whenever|if) (?:the |any )?[`'\"]?[\w.-]+[`'\"]? (?:tool|function) is "
            r"(?:called|used|invoked|run)\b[^.\n]{0,60}\b(?:always|must|instead|also)\b|"
            r"\b(?:all|any|every) (?:other )?(?:tools?|emails?|messages?) (?:must|should) "
            r"(?:be sent|go|also go) to\b",
            "gives rules for another tool (shadowing): it changes calls this tool is not part of",
            0.8,
            triggers=("when", "if", "all", "any", "every"),
        ),
        Rule(
            "override",
            r"\b(?:ignore|disregard|override|forget)\b[^.\n]{0,30}\b(?:instructions?|rules|"
            r"guidelines|polic(?:y|ies)|the user)\b",
            "tells the model to set aside its instructions",
            0.9,
            triggers=("ignore", "disregard", "override", "forget"),
        ),
    )
