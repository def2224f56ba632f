"""The hash chain of an append-only audit log (the vault's reveals, the web's record views).

Each entry carries `seq` (1, 2, ...), `prev` (the hash of the entry before it, GENESIS for the
first) and `hash` (its own, over its other fields: the log's `entry_hash`). A changed entry breaks
its hash, a removed one the sequence, a reordered one a link; `verify` names the first problem.
"""
from __future__ import annotations

from typing import Callable, Iterable

GENESIS = "0" * 64


def verify(entries: Iterable[dict], entry_hash: Callable[[dict], str]) -> tuple[bool, int, str, str | None]:
    """(intact, entries read, head hash, first problem) over `entries` in `seq` order."""
    prev, n = GENESIS, 0
    for n, e in enumerate(entries, 1):
        if e["seq"] != n:
            return False, n, prev, f"entry {n}: sequence number {e['seq']} (an entry is missing)"
        if e["prev"] != prev:
            return False, n, prev, f"entry {n}: does not follow the entry before it"
        if entry_hash(e) != e["hash"]:
            return False, n, prev, f"entry {n}: changed after it was written"
        prev = e["hash"]
    return True, n, prev, None
