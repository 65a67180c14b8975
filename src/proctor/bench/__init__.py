"""Benchmark adapters (outer ring): replay third-party agent benchmarks through the gate."""
