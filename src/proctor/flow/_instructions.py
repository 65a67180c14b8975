"""Instruction-like text: content that addresses the agent and tells it what to do.

This is not a classifier and is not relied on alone: values that appear only in untrusted
content are held whatever this says. It decides two narrower things: whether a value that a
system of record also shows was *suggested* by untrusted text (then it counts as untrusted),
and whether an argument carries instructions out of untrusted content.
"""

from __future__ import annotations

import re

_PATTERNS = (
    r"\bignore (?:all |any |the )?(?:previous|prior|above|earlier|preceding)\b",
    r"\bdisregard (?:all |any |the )?(?:previous|prior|above|earlier|your)\b",
    r"\b(?:new|updated|important|urgent|additional) (?:message|instructions?|task|directive)s?\b",
    r"\bbefore (?:you )?(?:can )?(?:solve|do|continue|proceed|answer|finish|complete)\b",
    r"\bafter you (?:do|have done|finish|complete) (?:that|this)\b",
    r"\b(?:please )?do the following\b",
    r"\byou (?:must|should|need to|have to|are required to) (?:now |first |also )?\w+",
    r"\b(?:to|dear|attention|hey|hi) (?:you,? )?(?:the )?(?:ai|assistant|agent|model|bot|llm|gpt|"
    r"chatbot|claude|gemini|llama)\b",
    r"\b(?:as|you are) (?:an? )?(?:ai|language model|assistant)\b",
    r"</?(?:information|instructions?|system|important|admin|prompt)>",
    r"\b(?:system prompt|your (?:instructions|task|goal|rules))\b",
    r"\b(?:instead|first),? (?:please )?(?:send|email|forward|transfer|delete|post|invite|visit|"
    r"create|change|update|share|book|reserve|pay)\b",
)
_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def instruction_like(normalized: str) -> str | None:
    """The first instruction-like phrase in ``normalized`` text, or None."""
    m = _RE.search(normalized)
    return m.group() if m else None
