"""Benchmark of the shared re-identification vault (issue 16; figures go in the README).

    .venv/bin/python bench/vault.py writes [--db sqlite|postgresql|both] [--records 20000]
    .venv/bin/python bench/vault.py lookups [--db sqlite|postgresql|both] [--entries 10000000]

writes: records as the pipeline gives them to the vault, one put_batch per 1,000 records (3 new
  tokens and 1 repeated author token per record, as the sample's citizen reactions have) and one
  raw payload per record, with a sync() (the durable commit) every `batch` records, for the pipeline's batch
  sizes (500 in the tests, 2,000 poll size, 10,000 the default batch): records/s and entries/s
  of one writer. Real sealing (AES-GCM), the real code path (ground/vault_db.SharedVault).
lookups: a vault of N token entries (real sealed entries, bulk-loaded in chunks through the
  same INSERT as the pipeline), then 2,000 lookups of random existing tokens from a fresh
  connection, each decrypted: p50/p95/max in ms. PostgreSQL: a server started on 127.0.0.1
  (Debian's package, fsync off as in the tests: latency, not disk, is measured).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiefstroom import pgserver  # noqa: E402
from archiefstroom.core.pseudonymise.keys import KeyRing  # noqa: E402
from archiefstroom.ground.vault_db import SharedVault, Store  # noqa: E402

KEY = bytes(range(32))
RING = KeyRing({"bench": b"b" * 32}, "bench")
PG_PORT = 21632
HELD = 1000          # records the pseudonymiser holds before one vault write (transforms/pseudonymise.py)


def _urls(which: str, tmp: Path, server) -> list[tuple[str, str]]:
    out = []
    if which in ("sqlite", "both"):
        out.append(("sqlite", f"sqlite:///{tmp / ('v%d' % time.monotonic_ns()) / 'vault.sqlite'}"))
    if which in ("postgresql", "both"):
        out.append(("postgresql", server.create_database(f"vault{time.monotonic_ns()}")))
    return out


def writes(which: str, records: int, tmp: Path, server) -> None:
    for batch in (500, 2000, 10000):
        for name, url in _urls(which, tmp, server):
            vault = SharedVault(Store.open(url, tmp), KEY)
            author = RING.token("PERSOON", "Vaste Schrijver")
            t = time.perf_counter()
            held = []
            for i in range(records):
                vals = [f"Burger {i} {j}" for j in range(3)]
                held.append({**{RING.token("PERSOON", v): ("PERSOON", v) for v in vals},
                             author: ("PERSOON", "Vaste Schrijver")})
                vault.put_raw("bench", f"x:{i}", '{"text": "bel mij op 0612345678", "id": "%d"}' % i)
                if len(held) == HELD or (i + 1) % batch == 0:    # as transforms/pseudonymise.py holds them
                    vault.put_batch("bench", held)
                    held = []
                if (i + 1) % batch == 0:
                    vault.sync()
            vault.put_batch("bench", held)
            vault.sync()
            s = time.perf_counter() - t
            print(f"writes {name:10s} batch {batch:6d}: {records / s:8.0f} records/s, {vault.written / s:8.0f} "
                  f"entries/s ({records} records, {vault.written} entries, {s:.1f} s)", flush=True)
            vault.store.close()


def lookups(which: str, entries: int, tmp: Path, server) -> None:
    for name, url in _urls(which, tmp, server):
        vault = SharedVault(Store.open(url, tmp), KEY)
        t = time.perf_counter()
        chunk = 20_000
        for start in range(0, entries, chunk):
            rows = [vault.seal("token", RING.token("PERSOON", f"Burger {i}"), "bench", "PERSOON", f"Burger {i}")
                    for i in range(start, min(entries, start + chunk))]
            with vault.store.lock:
                vault._insert(rows)
            if start % 1_000_000 == 0:
                print(f"  {name}: {start:,} entries loaded ({time.perf_counter() - t:.0f} s)", flush=True)
        vault.sync()
        load = time.perf_counter() - t
        vault.store.close()
        reader = SharedVault(Store.open(url, tmp), KEY)
        rng = random.Random(7)
        times = []
        for _ in range(2000):
            i = rng.randrange(entries)
            token = RING.token("PERSOON", f"Burger {i}")
            t0 = time.perf_counter()
            (found,) = reader.lookup(token)
            times.append((time.perf_counter() - t0) * 1000)
            assert found.value == f"Burger {i}"
        times.sort()
        print(f"lookups {name:10s} on {entries:,} entries: p50 {statistics.median(times):.2f} ms, "
              f"p95 {times[int(len(times) * 0.95)]:.2f} ms, max {times[-1]:.2f} ms "
              f"(load {load:.0f} s, {entries / load:,.0f} entries/s)", flush=True)
        reader.store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["writes", "lookups"])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--entries", type=int, default=10_000_000)
    args = ap.parse_args()
    server = pgserver.Server(PG_PORT).start() if args.db != "sqlite" else None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-vault-") as tmp:
            if args.what == "writes":
                writes(args.db, args.records, Path(tmp), server)
            else:
                lookups(args.db, args.entries, Path(tmp), server)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
