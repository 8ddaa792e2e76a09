"""Scaled corpora: N× the demo corpus (``examples/corpus``), with a manifest.

Variant 0 is the demo corpus unchanged. Every further variant copies each demo file with light,
deterministic changes, so that texts — and the content hashes the embedding cache keys on —
differ, while the structure the pipeline detects (sections, quarters, lists) stays:

- the title line gets a variant marker (``Miljöstrategi (variant 0042)``) and a marker paragraph
  is appended;
- bullet lines (``•``, ``-``, ``*``, ``–``) are shuffled within each list;
- two- and three-digit numbers that are not part of a section number, year or page marker are
  shifted;
- in every line of five or more words one word of five or more letters, and a small share
  (default 5 %) of the others, is swapped for another word of the same document (never words
  with digits or quarter words), so sentences and list items differ too.

Files are named ``v0042-<original name>`` in one flat folder, so sorting groups them by variant
and ``corpus.toml`` (same metadata as the demo manifest: audience, language, organisation …)
applies to all. Document ids follow from the file names.

Run::

    .venv/bin/python -m benchmarks.corpus --scale 100 --out /tmp/corpus-100
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import DEMO_CORPUS

BULLET = re.compile(r"^\s*[•\-*–]\s")
NUMBER = re.compile(r"(?<![\d./§-])\b(\d{2,3})\b(?![\d./-])")
WORD = re.compile(r"[^\W\d_]{5,}", re.UNICODE)
MIN_WORDS = 5
PROTECTED = re.compile(r"kvartal|quarter|etape", re.IGNORECASE)


@dataclass(frozen=True)
class GeneratedCorpus:
    path: Path
    manifest: Path
    scale: int
    files: list[Path]

    def variant_files(self, variant: int) -> list[Path]:
        """The files of one variant (all demo documents once), in ingest order."""
        prefix = f"v{variant:04d}-"
        return [f for f in self.files if f.name.startswith(prefix)]


def vary_text(text: str, title: str, variant: int, word_swap: float = 0.05) -> str:
    """Variant ``variant`` (≥ 1) of one document's text; deterministic."""
    rng = random.Random(f"{variant}:{title}")
    marker = f"variant {variant:04d}"
    lines = text.split("\n")
    lines = _mark_title(lines, title, marker)
    lines = _shuffle_bullets(lines, rng)
    vocabulary = sorted({w for w in WORD.findall(text) if not PROTECTED.search(w)})
    shift = variant % 9 + 1
    out = []
    for line in lines:
        line = NUMBER.sub(lambda m: str(int(m.group(1)) + shift), line)
        if word_swap > 0 and len(line.split()) >= MIN_WORDS and vocabulary:
            line = _swap_words(line, vocabulary, word_swap, rng)
        out.append(line)
    return "\n".join(out).rstrip("\n") + f"\n\nBenchmark {marker}.\n"


def _mark_title(lines: list[str], title: str, marker: str) -> list[str]:
    for i, line in enumerate(lines):
        if line.strip() == title.strip():
            return [*lines[:i], f"{line.rstrip()} ({marker})", *lines[i + 1 :]]
    return [f"{title} ({marker})", "", *lines]


def _shuffle_bullets(lines: list[str], rng: random.Random) -> list[str]:
    """Shuffle bullet lines among the bullet positions of each run of bullets (blank lines
    inside a run stay where they are)."""
    out = list(lines)
    i = 0
    while i < len(out):
        if not BULLET.match(out[i]):
            i += 1
            continue
        j, positions = i, []
        while j < len(out) and (BULLET.match(out[j]) or not out[j].strip()):
            if out[j].strip():
                positions.append(j)
            j += 1
        items = [out[p] for p in positions]
        rng.shuffle(items)
        for p, item in zip(positions, items, strict=True):
            out[p] = item
        i = j
    return out


def _swap_words(line: str, vocabulary: list[str], share: float, rng: random.Random) -> str:
    """Swap one eligible word of the line for sure (so the line differs from the original) and
    each further one with probability ``share``."""
    eligible = [m for m in WORD.finditer(line) if not PROTECTED.search(m.group(0))]
    if not eligible:
        return line
    forced = rng.randrange(len(eligible))
    parts, last = [], 0
    for n, match in enumerate(eligible):
        if n != forced and rng.random() >= share:
            continue
        word, other = match.group(0), rng.choice(vocabulary)
        parts += [
            line[last : match.start()],
            other.capitalize() if word[0].isupper() else other.lower(),
        ]
        last = match.end()
    return "".join(parts) + line[last:]


def generate(
    out: Path, scale: int, source: Path = DEMO_CORPUS, word_swap: float = 0.05
) -> GeneratedCorpus:
    """Write ``scale`` variants of the corpus in ``source`` to ``out`` with a ``corpus.toml``."""
    with (source / "corpus.toml").open("rb") as fh:
        entries = tomllib.load(fh)["documents"]
    out.mkdir(parents=True, exist_ok=True)
    manifest_parts: list[str] = [
        f"# {scale}x the corpus in {source.name}, made by benchmarks.corpus\n"
    ]
    files: list[Path] = []
    for variant in range(scale):
        for entry in entries:
            text = (source / entry["file"]).read_text(encoding="utf-8")
            title = entry.get("title", "")
            if variant:
                text = vary_text(text, title or Path(entry["file"]).stem, variant, word_swap)
                title = f"{title} (variant {variant:04d})" if title else title
            name = f"v{variant:04d}-{entry['file']}"
            (out / name).write_text(text, encoding="utf-8")
            files.append(out / name)
            manifest_parts.append(_manifest_entry({**entry, "file": name, "title": title}))
    manifest = out / "corpus.toml"
    manifest.write_text("\n".join(manifest_parts), encoding="utf-8")
    return GeneratedCorpus(out, manifest, scale, sorted(files))


def _manifest_entry(entry: dict) -> str:
    # JSON strings are valid TOML basic strings.
    body = "\n".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items() if v)
    return f"[[documents]]\n{body}\n"


def distinct_share(corpus: GeneratedCorpus) -> float:
    """Share of distinct non-blank lines among all non-blank lines (1.0: every line differs)."""
    lines = [
        line.strip()
        for f in corpus.files
        for line in f.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) > 30
    ]
    return len(set(lines)) / len(lines) if lines else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100, help="copies of the demo corpus")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--word-swap", type=float, default=0.05, help="share of words swapped")
    args = parser.parse_args()
    corpus = generate(args.out, args.scale, word_swap=args.word_swap)
    size = sum(f.stat().st_size for f in corpus.files)
    print(
        f"{len(corpus.files)} files, {size / 1e6:.1f} MB in {corpus.path}; "
        f"{distinct_share(corpus):.1%} of lines longer than 30 characters are distinct"
    )


if __name__ == "__main__":
    main()
