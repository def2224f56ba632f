"""`archiefstroom pseudonymise`: pseudonymise JSON lines, evaluate the recognizers, manage keys.

  pseudonymise --in FILE.jsonl --out FILE.jsonl   adds text_pseudonymised + entities (offsets into the original)
  pseudonymise eval [--set annotated|holdout|independent|FILE] recall/precision per type: deduce vs own vs combined
  pseudonymise build-cache                         build deduce's lookup structures once (1-2 minutes)
  pseudonymise rotate-key --keyring FILE --new-id ID   add a fresh key to a key ring and make it active
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path

import yaml

from archiefstroom.core.pseudonymise import evaluate
from archiefstroom.core.pseudonymise.detector import Detector
from archiefstroom.core.pseudonymise.keys import DEFAULT_TOKEN_HEX, KeyRing, decode_key, encode_key
from archiefstroom.core.pseudonymise.names import deduce_engine
from archiefstroom.core.pseudonymise.officials import PublicFigures
from archiefstroom.core.pseudonymise.pseudonymiser import pseudonymise_text
from archiefstroom.core.pseudonymise.settings import KeyRingFile
from archiefstroom.core.rules.registry import government_ids
from archiefstroom.ground import config, pseudonymisation, registries
from archiefstroom.ground.settings import load_yaml

TARGETS_RECALL = {"EMAIL": 0.98, "TEL": 0.98, "BSN": 0.98, "IBAN": 0.98, "POSTCODE": 0.98, "KENTEKEN": 0.98,
                  "PERSOON": 0.92}
TARGET_PRECISION = 0.90


def register(sub):
    p = sub.add_parser("pseudonymise", help="pseudonymise JSON lines (--in/--out); 'eval' scores the recognizers")
    p.add_argument("action", nargs="?", default="run", choices=["run", "eval", "build-cache", "rotate-key"])
    p.add_argument("--in", dest="inp", type=Path, help="JSON lines with a 'text' field")
    p.add_argument("--out", type=Path, help="where to write the lines with text_pseudonymised and entities")
    p.add_argument("--field", default="text", help="the text field (default: text)")
    p.add_argument("--recognizers", choices=["combined", "deduce", "own"], help="override the configured mode")
    p.add_argument("--set", default="annotated",
                   help="eval: annotated | holdout | independent | path to an annotated .txt/.jsonl")
    p.add_argument("--errors", action="store_true", help="eval: list misses and false positives (invented data)")
    p.add_argument("--keyring", type=Path, help="rotate-key: the key ring YAML file (created when missing)")
    p.add_argument("--new-id", help="rotate-key: id of the new key, e.g. k2026-11")
    p.add_argument("--token-hex", type=int, default=None,
                   help=f"rotate-key: hex digits of the new key's tokens (default {DEFAULT_TOKEN_HEX}, at least 16)")
    p.set_defaults(func=run)


def run(args) -> int:
    return {"run": _run, "eval": _eval, "build-cache": _build_cache, "rotate-key": _rotate}[args.action](args)


def _settings(args):
    cfg = config.load(args.config)
    if args.recognizers:
        cfg.pseudonymisation.recognizers = args.recognizers
    return cfg


def _run(args) -> int:
    if not args.inp or not args.out:
        print("pseudonymise: --in FILE.jsonl and --out FILE.jsonl are required", file=sys.stderr)
        return 2
    cfg = _settings(args)
    rt = pseudonymisation.for_config(cfg, government_ids(registries.load_for(cfg)))
    n = 0
    with open(args.inp, encoding="utf-8") as src, open(args.out, "w", encoding="utf-8") as dst:
        for lineno, line in enumerate(src, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                print(f"pseudonymise: {args.inp}:{lineno}: not a JSON object", file=sys.stderr)
                return 1
            text = doc.get(args.field)
            res = pseudonymise_text(text if isinstance(text, str) else "", rt.detector, rt.ring)
            if rt.vault is not None:
                rt.vault.put_many(rt.ring.active, res.mappings)
            doc[f"{args.field}_pseudonymised"] = res.text if isinstance(text, str) else text
            doc["entities"] = [e.datum() for e in res.entities]
            doc["pseudonymisation_key_id"] = rt.ring.active
            dst.write(json.dumps(doc, ensure_ascii=False) + "\n")
            n += 1
    if rt.vault is not None:
        rt.vault.close()
    print(f"pseudonymised {n} lines -> {args.out} (key id {rt.ring.active}, recognizers {rt.settings.recognizers})")
    return 0


def _eval(args) -> int:
    cfg = _settings(args)
    src = {"annotated": evaluate.BUILT, "holdout": evaluate.DATASET_DIR / "holdout.txt",
           "independent": evaluate.DATASET_DIR / "independent.txt"}.get(args.set, Path(args.set))
    if not src.exists():
        print(f"pseudonymise eval: --set: expected annotated, holdout, independent or an existing file, got {args.set}",
              file=sys.stderr)
        return 2
    ds = evaluate.load(src) if src.suffix == ".jsonl" else evaluate.parse_source(src.read_text(encoding="utf-8"))
    keep = lambda h: h.lower() in ds.known_accounts  # noqa: E731  (the set's stand-in for the account registry)
    cache = pseudonymisation.deduce_cache_dir(cfg.pseudonymisation, cfg.data_dir)
    figures = _public_figures(cfg)   # the office holders and organisations that stay readable, as in the pipeline
    scores, speed = {}, {}
    for mode in ("deduce", "own", "combined"):
        det = Detector(mode, keep_handle=keep, officials=cfg.pseudonymisation.public_officials, deduce_cache=cache,
                       figures=figures)
        t = time.perf_counter()
        scores[mode] = evaluate.score(ds, det.detect)
        speed[mode] = len(ds.examples) / (time.perf_counter() - t)
    which = cfg.pseudonymisation.office_holders or registries.PUBLIC_FIGURES.name
    print(f"office holders: {which} version {figures.version}")
    print(f"{src.name}: {len(ds.examples)} texts, {sum(scores['combined'].gold.values())} entities "
          f"(recall = every letter/digit of an entity hidden; precision = detection overlaps an entity)\n")
    print(evaluate.report(scores))
    print("\ntexts/s (single core, detection only): " + ", ".join(f"{m} {v:.0f}" for m, v in speed.items()))
    chosen = cfg.pseudonymisation.recognizers
    best = max(scores, key=lambda m: (scores[m].recall() + scores[m].precision()))
    print(f"\nconfigured: {chosen}; best on this set: {best}")
    sc = scores[chosen]
    fails = [f"{lab} recall {sc.recall(lab):.3f} < {t}" for lab, t in TARGETS_RECALL.items()
             if sc.gold[lab] and sc.recall(lab) < t]
    if sc.precision() < TARGET_PRECISION:
        fails.append(f"precision {sc.precision():.3f} < {TARGET_PRECISION}")
    print("targets: " + ("met" if not fails else "NOT met: " + "; ".join(fails)))
    if args.errors:
        print("\nmisses (invented data):")
        for x in sc.misses:
            print("  ", *x)
        print("false positives:")
        for x in sc.false_positives:
            print("  ", *x)
    return 0 if not fails else 1


def _public_figures(cfg) -> PublicFigures:
    s = cfg.pseudonymisation
    path = s.office_holders
    if path is not None and not path.is_absolute():
        path = pseudonymisation.config_dir(cfg) / path
    return PublicFigures(registries.load_public_figures(path))


def _build_cache(args) -> int:
    cfg = config.load(args.config)
    cache = pseudonymisation.deduce_cache_dir(cfg.pseudonymisation, cfg.data_dir)
    t = time.perf_counter()
    deduce_engine(cache)
    print(f"deduce lookup structures ready in {cache} ({time.perf_counter() - t:.1f} s)")
    return 0


def _rotate(args) -> int:
    """A fresh active key; old keys stay with the token length they were made with, so old
    records keep their key id and tokens (and stay re-identifiable), new records get the new
    key's longer tokens."""
    if not args.keyring or not args.new_id:
        print("pseudonymise rotate-key: --keyring FILE and --new-id ID are required", file=sys.stderr)
        return 2
    if args.token_hex is not None and not DEFAULT_TOKEN_HEX <= args.token_hex <= 32:
        print(f"pseudonymise rotate-key: --token-hex: expected {DEFAULT_TOKEN_HEX}..32", file=sys.stderr)
        return 2
    if args.keyring.exists():
        kf = load_yaml(args.keyring, KeyRingFile)
        ring = KeyRing({k: decode_key(v) for k, v in kf.keys.items()}, kf.active, kf.token_hex,
                       dict(kf.token_hex_by_key))
        try:
            ring = ring.rotated(args.new_id, token_hex=args.token_hex)
        except ValueError as exc:
            print(f"pseudonymise rotate-key: {exc}", file=sys.stderr)
            return 2
    else:
        ring = KeyRing({args.new_id: secrets.token_bytes(32)}, args.new_id, args.token_hex or DEFAULT_TOKEN_HEX)
    doc = {"active": ring.active, "token_hex": ring.token_hex,
           "token_hex_by_key": dict(ring.lengths),
           "keys": {k: encode_key(v) for k, v in ring.keys.items()}}
    tmp = args.keyring.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# pseudonymisation key ring: SECRET. Keep old keys (records carry their key id).\n")
        yaml.safe_dump(doc, fh, sort_keys=False)
    os.replace(tmp, args.keyring)
    print(f"key ring {args.keyring}: active key is now {ring.active} ({len(ring.keys)} keys, new tokens "
          f"{ring.token_hex} hex digits); set pseudonymisation.keyring_file to it")
    return 0
