"""Evaluation harness: Q&A sets, runs, metrics and reports (``python -m eval``)."""
