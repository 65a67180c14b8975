"""Offline training of the injection classifier, and the corpus the benchmark evaluates on."""
