"""Writing an evaluation report as JSON, Markdown and a self-contained HTML page with plots.

Plots are inline SVG built here: no plotting library, no network, the page opens anywhere.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from eval.metrics import KS

RETRIEVAL_COLUMNS = [f"hit@{k}" for k in KS] + ["mrr@10"]
ANSWER_COLUMNS = [
    "keyword_recall",
    "citation_precision",
    "citation_recall",
    "abstention_accuracy",
    "false_abstention",
]


def _table(headers: list[str], rows: list[list[object]]) -> str:
    def fmt(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def worst_failures(report: dict, limit: int = 10) -> list[dict]:
    """Answerable questions the product got wrong: retrieval missed or answer abstained/missed."""
    out = []
    retrieval_rows = {
        r["id"]: r for r in report.get("retrieval", {}).get("hybrid", {}).get("rows", [])
    }
    for row in report.get("answers", {}).get("rows", []):
        r = retrieval_rows.get(row["id"], {})
        wrong = (row["answerable"] and (not row["found"] or not row["citation_hit"])) or (
            not row["answerable"] and row["found"]
        )
        if wrong or (r and r.get("rank") is None):
            out.append(
                {**row, "retrieval_rank": r.get("rank"), "retrieved": r.get("retrieved", [])}
            )
    return out[:limit]


def to_markdown(report: dict) -> str:
    parts = [
        f"# Evaluation report\n\ndataset: `{report.get('dataset')}` — {report.get('items')} questions\n"
    ]
    retrieval = report.get("retrieval", {})
    if retrieval:
        parts.append("## Retrieval\n")
        parts.append(
            _table(
                ["config", *RETRIEVAL_COLUMNS, "p50 ms", "p95 ms"],
                [
                    [
                        name,
                        *[c["overall"][m] for m in RETRIEVAL_COLUMNS],
                        c["latency"]["p50_ms"],
                        c["latency"]["p95_ms"],
                    ]
                    for name, c in retrieval.items()
                ],
            )
        )
        for group in ("by_language", "by_type"):
            parts.append(f"\n### hit@5 {group.replace('_', ' ')}\n")
            names = sorted({g for c in retrieval.values() for g in c[group]})
            parts.append(
                _table(
                    ["config", *names],
                    [
                        [cfg, *[c[group].get(g, {}).get("hit@5", 0.0) for g in names]]
                        for cfg, c in retrieval.items()
                    ],
                )
            )
    answers = report.get("answers")
    if answers:
        parts.append("\n## Answers\n")
        parts.append(
            _table(
                ["scope", *ANSWER_COLUMNS],
                [
                    ["overall", *[answers["overall"][m] for m in ANSWER_COLUMNS]],
                    *[
                        [f"lang {k}", *[v[m] for m in ANSWER_COLUMNS]]
                        for k, v in answers["by_language"].items()
                    ],
                    *[
                        [f"type {k}", *[v[m] for m in ANSWER_COLUMNS]]
                        for k, v in answers["by_type"].items()
                    ],
                ],
            )
        )
        parts.append("\n## Latency (ms)\n")
        parts.append(
            _table(
                ["stage", "p50", "p95"],
                [[stage, v["p50_ms"], v["p95_ms"]] for stage, v in answers["latency"].items()],
            )
        )
    compare = report.get("compare")
    if compare:
        parts.append("\n## Configurations compared\n")
        parts.append(
            _table(
                ["config", "hit@5", "mrr@10", *ANSWER_COLUMNS],
                [
                    [
                        name,
                        c.get("hit@5", "–"),
                        c.get("mrr@10", "–"),
                        *[c.get(m, "–") for m in ANSWER_COLUMNS],
                    ]
                    for name, c in compare.items()
                ],
            )
        )
    failures = worst_failures(report)
    if failures:
        parts.append("\n## Worst failures\n")
        for f in failures:
            got = "; ".join(
                f"{r['doc_id']} › {r['section']}: {r['text'][:80]}" for r in f["retrieved"][:2]
            )
            parts.append(
                f"- **{f['id']}** ({f['language']}, {f['type']}) {f['question']}\n"
                f"  - expected: {f['expected']}\n  - retrieval rank: {f['retrieval_rank']}; "
                f"found: {f['found']}\n  - retrieved: {got}"
            )
    gate = report.get("gate")
    if gate is not None:
        parts.append(
            "\n## Gate\n\n" + ("passed" if not gate else "\n".join(f"- FAILED {g}" for g in gate))
        )
    return "\n".join(parts) + "\n"


def _bars(title: str, groups: dict[str, dict[str, float]]) -> str:
    """Grouped bar chart: ``groups[config][label] = value in 0..1``."""
    labels = sorted({label for values in groups.values() for label in values})
    configs = list(groups)
    colours = ["#1f6feb", "#8957e5", "#2da44e", "#bf8700", "#cf222e", "#57606a"]
    bar_w, gap, height = 14, 18, 160
    width = 60 + len(labels) * (len(configs) * bar_w + gap)
    out = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height + 60}">'
    ]
    for i, label in enumerate(labels):
        x0 = 50 + i * (len(configs) * bar_w + gap)
        for j, cfg in enumerate(configs):
            v = groups[cfg].get(label, 0.0)
            h = v * height
            out.append(
                f'<rect x="{x0 + j * bar_w}" y="{10 + height - h:.1f}" width="{bar_w - 2}" '
                f'height="{h:.1f}" fill="{colours[j % len(colours)]}"><title>{cfg} {label}: {v:.3f}</title></rect>'
            )
        out.append(f'<text x="{x0}" y="{height + 28}" font-size="11">{html.escape(label)}</text>')
    for tick in (0, 0.5, 1.0):
        y = 10 + height - tick * height
        out.append(
            f'<text x="5" y="{y + 4:.0f}" font-size="10">{tick:.1f}</text>'
            f'<line x1="40" x2="{width}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>'
        )
    legend = "".join(
        f'<tspan fill="{colours[j % len(colours)]}">■ {html.escape(c)} </tspan>'
        for j, c in enumerate(configs)
    )
    out.append(f'<text x="50" y="{height + 50}" font-size="11">{legend}</text></svg>')
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{''.join(out)}</figure>"


def _histogram(title: str, values: list[float], bins: int = 20) -> str:
    if not values:
        return ""
    hi = max(values) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v / hi * bins))] += 1
    top = max(counts)
    bars = "".join(
        f'<rect x="{40 + i * 16}" y="{10 + 150 - c / top * 150:.1f}" width="14" height="{c / top * 150:.1f}" '
        f'fill="#1f6feb"><title>{i * hi / bins:.0f}–{(i + 1) * hi / bins:.0f} ms: {c}</title></rect>'
        for i, c in enumerate(counts)
    )
    axis = f'<text x="40" y="180" font-size="10">0 ms</text><text x="{40 + bins * 16 - 40}" y="180" font-size="10">{hi:.0f} ms</text>'
    return f'<figure><figcaption>{html.escape(title)}</figcaption><svg width="{60 + bins * 16}" height="190">{bars}{axis}</svg></figure>'


def to_html(report: dict) -> str:
    import markdown_it

    body = markdown_it.MarkdownIt("commonmark").enable("table").render(to_markdown(report))
    figures = []
    retrieval = report.get("retrieval", {})
    if retrieval:
        figures.append(
            _bars(
                "Retrieval hit@5 per language",
                {
                    cfg: {lang: v["hit@5"] for lang, v in c["by_language"].items()}
                    for cfg, c in retrieval.items()
                },
            )
        )
    answers = report.get("answers")
    if answers:
        figures.append(
            _bars(
                "Answers per language",
                {
                    metric: {lang: v[metric] for lang, v in answers["by_language"].items()}
                    for metric in ("keyword_recall", "citation_recall")
                },
            )
        )
        total = answers["latency"].get("total", {}).get("values_ms", [])
        figures.append(_histogram("Answer latency (total, ms)", total))
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1f2328}"
        "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;"
        "font-size:.9rem}figure{display:inline-block;margin:1rem}"
    )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Evaluation report</title>"
        f"<style>{style}</style></head><body>{''.join(figures)}{body}</body></html>"
    )


def write_report(report: dict, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "report.json",
        "markdown": out_dir / "report.md",
        "html": out_dir / "report.html",
    }
    paths["json"].write_text(
        json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
    )
    paths["markdown"].write_text(to_markdown(report), encoding="utf-8")
    paths["html"].write_text(to_html(report), encoding="utf-8")
    return paths
