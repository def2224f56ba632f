"""Benchmark of the pseudonymiser: start-up after the first build, and reactions per second per core.

  .venv/bin/python bench/pseudonymise.py [--config FILE] [--repeat N]

Start-up is measured in a fresh interpreter (import + pseudonymisation.for_config, deduce
structures loaded from their cache). Throughput is CPU time in this one process
(= one core) over the sample data set: all valid records, and only the records
that carry text written by a citizen (the expensive ones).
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time

STARTUP = """
import time; t = time.perf_counter()
from archiefstroom.ground import config
from archiefstroom.ground import pseudonymisation
rt = pseudonymisation.for_config(config.load({cfg!r}))
print(time.perf_counter() - t)
"""


def records():
    from archiefstroom.core.validation import InvalidEvent, parse_event
    from archiefstroom.samples.generator import generate
    out = []
    for i, value in enumerate(generate()):
        try:
            ev = parse_event(value, max_bytes=10_000_000)
        except InvalidEvent:
            continue
        out.append({"event": ev, "source": {"topic": "raw", "partition": 0, "offset": i},
                    "archived_at": dt.datetime.now(dt.timezone.utc), "pipeline_version": "bench"})
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--vault", action="store_true", help="also write every mapping (and raw payload) to a temp vault")
    args = ap.parse_args()
    from archiefstroom.ground import config, pseudonymisation

    cfg = config.load(args.config)
    if args.vault:
        import os

        from archiefstroom.core.pseudonymise.keys import encode_key
        from archiefstroom.core.pseudonymise.vault import Vault
        os.environ["ARCHIEFSTROOM_VAULT_KEY"] = encode_key(Vault.new_key())
        cfg.pseudonymisation.vault.enabled = True
        cfg.pseudonymisation.vault.key = os.environ["ARCHIEFSTROOM_VAULT_KEY"]
        cfg.pseudonymisation.vault.path = type(cfg.data_dir)(tempfile.mkdtemp(prefix="bench-vault-"))
    # first build (if the cache is cold) happens here, outside the start-up measurement
    t = time.perf_counter()
    rt = pseudonymisation.for_config(cfg)
    first = time.perf_counter() - t
    startups = []
    for _ in range(2):
        p = subprocess.run([sys.executable, "-c", STARTUP.format(cfg=args.config)], capture_output=True, text=True)
        startups.append(float(p.stdout.strip().splitlines()[-1]))
    print(f"start-up in this process (incl. any first build): {first:.1f} s")
    print(f"start-up in a fresh process after the first build: {min(startups):.1f} s (target < 10 s)")

    recs = records()
    made = [cfg.pseudonymisation.vault.path] if rt.vault is not None else []
    texty = [r for r in recs if r["event"].get("text") and not rt.records.is_public(r["event"]["author"], r["event"])]
    for name, batch in (("all sample records", recs), ("citizen records with text", texty)):
        best = 0.0
        for _ in range(args.repeat):
            if rt.vault is not None:     # every repeat meets people new to the vault (the worst case)
                rt.vault.close()
                cfg.pseudonymisation.vault.path = type(cfg.data_dir)(tempfile.mkdtemp(prefix="bench-vault-"))
                made.append(cfg.pseudonymisation.vault.path)
                rt.vault = pseudonymisation.open_vault(cfg.pseudonymisation, cfg.data_dir)
            rt.ring.forget()      # every repeat meets its values for the first time (no token cache hits)
            c = time.process_time()
            held = []
            for r in batch:       # as the Beam transform does: vault entries written per 1,000 records
                held.append(rt.prepare(r))
                if len(held) == 1000:
                    rt.store(held)
                    held = []
            rt.store(held)
            if rt.vault is not None:
                rt.vault.sync()
            best = max(best, len(batch) / (time.process_time() - c))
        print(f"{name}: {len(batch)} records, {best:,.0f} records/s per core (target >= 1,000)"
              + (" (with vault writes, every person new to the vault)" if rt.vault is not None else ""))
    if rt.vault is not None:
        rt.vault.close()
        for path in made:
            shutil.rmtree(path, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
