"""The built-in customer-support demo (``proctor demo``): simulated tools, a scripted day."""

from __future__ import annotations

from proctor.demo._script import SCRIPT, build_gate, demo_policy, run_demo
from proctor.demo._tools import BackOffice, FlakyKnowledgeBase

__all__ = ["SCRIPT", "BackOffice", "FlakyKnowledgeBase", "build_gate", "demo_policy", "run_demo"]
