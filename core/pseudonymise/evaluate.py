"""The annotated Dutch set and how recognizers are scored on it.

Scoring is about what pseudonymisation must achieve, not about exact span
boundaries:
  recall    a gold entity counts as found when every letter and digit of it lies
            inside some detected span (of any label): then nothing of it leaks;
            `recall_labelled` also demands the same label.
  precision a detected span is correct when it overlaps a gold entity; a span
            that overlaps nothing is over-redaction.
Per-type figures group gold entities by their label (recall) and detections by
their label (precision).
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from archiefstroom.core.pseudonymise.entities import LABELS, Entity

DATASET_DIR = Path(__file__).resolve().parents[2] / "datasets" / "pseudonymise"
SOURCE = DATASET_DIR / "annotated.txt"
BUILT = DATASET_DIR / "pseudonymise.jsonl"

_MARK = re.compile(r"\[\[([A-Z]+)\|(.+?)\]\]")


@dataclass
class Example:
    id: str
    text: str
    entities: list[Entity]
    section: str = ""

    def datum(self) -> dict:
        return {"id": self.id, "section": self.section, "text": self.text,
                "entities": [e.datum() for e in self.entities]}


@dataclass
class Dataset:
    examples: list[Example]
    known_accounts: set[str] = field(default_factory=set)


def parse_markup(line: str) -> tuple[str, list[Entity]]:
    """'bel [[TEL|06-12345678]]' -> ('bel 06-12345678', [Entity(4, 15, 'TEL')])."""
    out, entities, last = [], [], 0
    pos = 0
    for m in _MARK.finditer(line):
        label, value = m.group(1), m.group(2)
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r} in {line!r}")
        out.append(line[last:m.start()])
        pos += m.start() - last
        entities.append(Entity(pos, pos + len(value), label, "gold"))
        out.append(value)
        pos += len(value)
        last = m.end()
    out.append(line[last:])
    return "".join(out), entities


def parse_source(text: str) -> Dataset:
    examples, section, known = [], "", set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            if line.startswith("# section:"):
                section = line.split(":", 1)[1].strip()
            elif line.startswith("# known_accounts:"):
                known = {h.strip().lower() for h in line.split(":", 1)[1].split(",") if h.strip()}
            continue
        plain, entities = parse_markup(line)
        examples.append(Example(f"L{n}", plain, entities, section))
    return Dataset(examples, known)


def load(path: Path = BUILT) -> Dataset:
    """The built JSON-lines set (first line holds the metadata)."""
    examples, known = [], set()
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        if "known_accounts" in d:
            known = set(d["known_accounts"])
            continue
        examples.append(Example(d["id"], d["text"], [Entity(e["start"], e["end"], e["label"], "gold")
                                                     for e in d["entities"]], d.get("section", "")))
    return Dataset(examples, known)


def write(ds: Dataset, path: Path = BUILT) -> None:
    lines = [json.dumps({"known_accounts": sorted(ds.known_accounts)}, ensure_ascii=False)]
    lines += [json.dumps(e.datum(), ensure_ascii=False) for e in ds.examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ scoring

@dataclass
class Score:
    gold: Counter = field(default_factory=Counter)
    hidden: Counter = field(default_factory=Counter)
    labelled: Counter = field(default_factory=Counter)
    predicted: Counter = field(default_factory=Counter)
    correct: Counter = field(default_factory=Counter)
    misses: list = field(default_factory=list)
    false_positives: list = field(default_factory=list)

    def recall(self, label: str | None = None, labelled: bool = False) -> float:
        num = self.labelled if labelled else self.hidden
        n = self.gold[label] if label else sum(self.gold.values())
        got = num[label] if label else sum(num.values())
        return got / n if n else 1.0

    def precision(self, label: str | None = None) -> float:
        n = self.predicted[label] if label else sum(self.predicted.values())
        got = self.correct[label] if label else sum(self.correct.values())
        return got / n if n else 1.0


def _covered(text: str, gold: Entity, spans: list[Entity]) -> bool:
    for i in range(gold.start, gold.end):
        if text[i].isalnum() and not any(s.start <= i < s.end for s in spans):
            return False
    return True


def score(ds: Dataset, detect: Callable[[str], Iterable[Entity]]) -> Score:
    s = Score()
    for ex in ds.examples:
        pred = list(detect(ex.text))
        for g in ex.entities:
            s.gold[g.label] += 1
            if _covered(ex.text, g, pred):
                s.hidden[g.label] += 1
                if _covered(ex.text, g, [p for p in pred if p.label == g.label]):
                    s.labelled[g.label] += 1
            else:
                s.misses.append((ex.id, g.label, ex.text[g.start:g.end]))
        for p in pred:
            s.predicted[p.label] += 1
            if any(p.start < g.end and g.start < p.end for g in ex.entities):
                s.correct[p.label] += 1
            else:
                s.false_positives.append((ex.id, p.label, ex.text[p.start:p.end]))
    return s


def report(scores: dict[str, Score]) -> str:
    """Table: per label, recall / precision for each mode side by side."""
    labels = sorted({lab for sc in scores.values() for lab in (*sc.gold, *sc.predicted)},
                    key=lambda lab: list(LABELS).index(lab) if lab in LABELS else 99)
    modes = list(scores)
    head = f"{'label':<14}{'n':>5}  " + "  ".join(f"{m + ' R/P':>17}" for m in modes)
    rows = [head, "-" * len(head)]
    for lab in labels:
        n = next(iter(scores.values())).gold[lab]
        cells = "  ".join(f"{sc.recall(lab):>8.3f}/{sc.precision(lab):<8.3f}" for sc in scores.values())
        rows.append(f"{lab:<14}{n:>5}  {cells}")
    cells = "  ".join(f"{sc.recall():>8.3f}/{sc.precision():<8.3f}" for sc in scores.values())
    rows.append(f"{'ALL':<14}{sum(next(iter(scores.values())).gold.values()):>5}  {cells}")
    cells = "  ".join(f"{sc.recall(labelled=True):>8.3f}{'':9}" for sc in scores.values())
    rows.append(f"{'ALL labelled':<14}{'':>5}  {cells}")
    return "\n".join(rows)


def by_label_sources(ds: Dataset) -> dict[str, int]:
    return dict(Counter(e.label for ex in ds.examples for e in ex.entities))


def sections(ds: Dataset) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for ex in ds.examples:
        out[ex.section] += 1
    return dict(out)
