"""The quality gate: thresholds from a checked-in TOML file, compared with a report."""

from __future__ import annotations

import tomllib
from pathlib import Path

DEFAULT_GATE = Path(__file__).resolve().parent / "gate.toml"


def load_gate(path: Path = DEFAULT_GATE) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def check_gate(report: dict, gate: dict) -> list[str]:
    """Human-readable failures; empty when every threshold holds. A metric the report lacks
    fails too: a gate that silently checks nothing would be worse than none."""
    failures: list[str] = []
    for section, spec in gate.items():
        if section == "retrieval":
            for config, metrics in spec.items():
                values = report.get("retrieval", {}).get(config, {}).get("overall", {})
                failures += _check(f"retrieval.{config}", values, metrics)
        elif section == "answers":
            failures += _check("answers", report.get("answers", {}).get("overall", {}), spec)
    return failures


def _check(where: str, values: dict, metrics: dict) -> list[str]:
    out = []
    for name, bounds in metrics.items():
        if name not in values:
            out.append(f"{where}.{name}: missing from the report")
            continue
        value = values[name]
        if "min" in bounds and value < bounds["min"]:
            out.append(f"{where}.{name} = {value:.3f} < {bounds['min']}")
        if "max" in bounds and value > bounds["max"]:
            out.append(f"{where}.{name} = {value:.3f} > {bounds['max']}")
    return out
