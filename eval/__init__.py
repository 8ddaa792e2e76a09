"""Evaluation: datasets (JSONL), metrics, the runner and its reports, and the quality gate."""
