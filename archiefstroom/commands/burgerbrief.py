"""`archiefstroom burgerbrief score|eval|train|export-feedback`: the classifier on files, its quality on
the project's dev set, retraining, and webcare's verdicts as labelled data."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from archiefstroom.commands.webcare import read_topic
from archiefstroom.core.burgerbrief import alerts as core
from archiefstroom.core.burgerbrief import classifier, train
from archiefstroom.core.burgerbrief.classifier import DEFAULT_THRESHOLD, Classifier
from archiefstroom.ground import config
from archiefstroom.ground.settings import ConfigError


def register(sub):
    p = sub.add_parser("burgerbrief", help="burgerbrief detection: score files, evaluate, train, export feedback")
    a = p.add_subparsers(dest="bb_action", required=True, metavar="ACTION")
    sc = a.add_parser("score", help="add a `burgerbrief` object to JSON lines with a `text` field")
    sc.add_argument("--in", dest="infile", type=Path, required=True, help="JSON lines: text (org, post, platform optional); - = stdin")
    sc.add_argument("--out", dest="outfile", type=Path, required=True, help="output JSON lines; - = stdout")
    sc.add_argument("--threshold", type=float, help="calibrated score threshold (default: burgerbrief.threshold)")
    sc.add_argument("--model", type=Path, help="model file (default: burgerbrief.model_path or the shipped model)")
    sc.add_argument("--base-rate", type=float, help="live share of burgerbrieven (default: burgerbrief.base_rate)")
    ev = a.add_parser("eval", help="precision, recall and F1 overall and per category, category accuracy "
                                   "(the dev set by default; the blind set is datasets/burgerbrief/blind.jsonl)")
    ev.add_argument("--data", type=Path, help="labelled JSON lines (default: datasets/burgerbrief/dev.jsonl; "
                                              "the figure to quote: datasets/burgerbrief/blind.jsonl)")
    ev.add_argument("--model", type=Path)
    ev.add_argument("--threshold", type=float)
    ev.add_argument("--base-rate", type=float, help="rescale scores to this share of burgerbrieven (default: none; "
                                                   "the dev set is half burgerbrieven)")
    ev.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ev.add_argument("--errors", type=int, default=0, metavar="N", help="also list N misclassified lines")
    tr = a.add_parser("train", help="train the model on labelled JSON lines (train split, plus exported feedback)")
    tr.add_argument("--data", type=Path, action="append",
                    help="labelled JSON lines; repeatable (default: datasets/burgerbrief/train.jsonl)")
    tr.add_argument("--out", type=Path, help="model file to write (default: the shipped model)")
    ex = a.add_parser("export-feedback", help="webcare verdicts joined with the alert text, as labelled JSON lines")
    ex.add_argument("--out", type=Path, required=True, help="output JSON lines (datasets/burgerbrief format)")
    ex.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the topics' ends")
    p.set_defaults(func=run)


def _settings(args):
    try:
        return config.load(args.config)
    except ConfigError:
        if args.config:
            raise
        return None  # no configuration at all: defaults are fine for file scoring


def _classifier(args, cfg, *, settings_base_rate: bool = True):
    s = cfg.burgerbrief if cfg else None
    threshold = args.threshold if args.threshold is not None else (s.threshold if s else DEFAULT_THRESHOLD)
    if not 0 < threshold < 1:
        print("archiefstroom: --threshold: expected a number between 0 and 1", file=sys.stderr)
        raise SystemExit(2)
    model = args.model or (s.model_path if s else None)
    base_rate = args.base_rate if args.base_rate is not None else (s.base_rate if s and settings_base_rate else None)
    if base_rate is not None and not 0 < base_rate < 1:
        print("archiefstroom: --base-rate: expected a number between 0 and 1", file=sys.stderr)
        raise SystemExit(2)
    return Classifier(model_path=model, threshold=threshold, base_rate=base_rate)


def _open_in(path: Path):
    return sys.stdin if str(path) == "-" else path.open(encoding="utf-8")


def _open_out(path: Path):
    return sys.stdout if str(path) == "-" else path.open("w", encoding="utf-8")


def score(args) -> int:
    cfg = _settings(args)
    clf = _classifier(args, cfg)
    fin, fout = _open_in(args.infile), _open_out(args.outfile)
    n = bad = 0
    try:
        chunk: list[tuple[int, dict]] = []

        def flush():
            results = clf.classify_batch([d.get("text") or "" for _, d in chunk], [d.get("org") for _, d in chunk])
            for (_, doc), res in zip(chunk, results):
                d = res.datum()
                d.pop("verdict", None)
                doc["burgerbrief"] = d
                fout.write(json.dumps(doc, ensure_ascii=False) + "\n")
            chunk.clear()

        for lineno, line in enumerate(fin, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
                    raise ValueError
            except ValueError:
                bad += 1
                print(f"archiefstroom: {args.infile}:{lineno}: expected a JSON object with a string `text` field; "
                      "line skipped", file=sys.stderr)
                continue
            chunk.append((lineno, doc))
            n += 1
            if len(chunk) >= 2048:
                flush()
        if chunk:
            flush()
    finally:
        if fin is not sys.stdin:
            fin.close()
        if fout is not sys.stdout:
            fout.close()
    print(f"scored {n} lines" + (f", skipped {bad}" if bad else ""), file=sys.stderr)
    return 1 if bad else 0


def evaluate(args) -> int:
    cfg = _settings(args)
    clf = _classifier(args, cfg, settings_base_rate=False)
    metrics = train.evaluate(clf, train.read_jsonl(args.data or train.DEV_FILE))
    errors = metrics.pop("errors")
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(f"model {clf.model.version}, threshold {clf.threshold}, data {args.data or train.DEV_FILE}")
        print(train.format_report(metrics))
    for e in errors[:args.errors]:
        print(f"  {'FN' if e['gold'] else 'FP'} {e['score']:.3f}  {e['text']}")
    return 0


def train_cmd(args) -> int:
    records = []
    for path in args.data or [train.TRAIN_FILE]:
        records += train.read_jsonl(path)
    model, meta = train.train(records)
    out = args.out or classifier.MODEL_FILE
    model.save(out, meta)
    print(f"trained on {meta['examples']} examples ({meta['features']} features); wrote {out}")
    print(f"calibration (out-of-fold): Brier {meta['calibration']['oof_brier']:.4f}, "
          f"F1 at 0.5 {meta['calibration']['oof_f1_at_0.5']:.3f}")
    return 0


def export_feedback(args) -> int:
    cfg = config.load(args.config)
    s = cfg.burgerbrief
    alerts = [core.decode(m.value, core.ALERT_SCHEMA) for m in read_topic(cfg, s.alert_topic, timeout_s=args.timeout)]
    feedback = [core.decode(m.value, core.FEEDBACK_SCHEMA)
                for m in read_topic(cfg, s.feedback_topic, timeout_s=args.timeout)]
    rows = core.labelled_examples(alerts, feedback)
    with args.out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    confirmed = sum(r["label"] for r in rows)
    print(f"exported {len(rows)} verdicts ({confirmed} burgerbrief, {len(rows) - confirmed} geen burgerbrief) "
          f"from {len(feedback)} feedback messages to {args.out}")
    return 0


def run(args) -> int:
    return {"score": score, "eval": evaluate, "train": train_cmd, "export-feedback": export_feedback}[args.bb_action](args)
