"""The built-in detectors, listed by hand: the registry resolves YAML ids here, nowhere else."""

from __future__ import annotations

from proctor.detect._base import Detector
from proctor.detect.detectors.classifier import InjectionClassifier
from proctor.detect.detectors.encoded import EncodedInstructions
from proctor.detect.detectors.hidden_markup import HiddenMarkup
from proctor.detect.detectors.markdown_exfil import MarkdownExfiltration
from proctor.detect.detectors.override import InstructionOverride
from proctor.detect.detectors.prompt_leak import PromptLeak
from proctor.detect.detectors.role_hijack import RoleHijack
from proctor.detect.detectors.tool_call import ToolCallShape
from proctor.detect.detectors.unicode import InvisibleUnicode

BUILTIN: dict[str, type[Detector]] = {
    cls.id: cls
    for cls in (
        InstructionOverride,
        RoleHijack,
        PromptLeak,
        ToolCallShape,
        EncodedInstructions,
        InvisibleUnicode,
        HiddenMarkup,
        MarkdownExfiltration,
        InjectionClassifier,
    )
}
RULE_DETECTORS: tuple[str, ...] = tuple(k for k in BUILTIN if k != InjectionClassifier.id)
