"""Benchmarks of Strategy Assistant: ingestion throughput, query latency, HTTP load.

Run them from the repository root as modules (``python -m benchmarks.<name> --help``); they are
not part of the test suite. Results go to ``benchmarks/results/<name>.json``; the numbers we
measured are written up in ``docs/benchmarks.md``.
"""
