"""Which buffered items of one Kafka partition form the next batch to write and commit.

Pure so that the offset arithmetic (the heart of "nothing lost, nothing
duplicated") is unit-tested without Beam. A batch is a contiguous run of
offsets starting at the partition's next uncommitted offset; a gap is waited
for (an item may still be in flight), unless the caller says it has waited
long enough (Kafka itself leaves gaps after compaction or transactions).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from archiefstroom.core.envelope import Disposition, position_of


@dataclass
class Plan:
    batch: list = field(default_factory=list)   # items to write now, in offset order
    rest: list = field(default_factory=list)    # keep buffered
    late: list = field(default_factory=list)    # offsets already committed (e.g. released by a hold)
    start: int | None = None
    end: int | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)  # [first missing, last missing]


def _offset(item) -> int:
    return position_of(item).offset


def _covered(first: int, last: int, known_gaps) -> bool:
    """Every offset first..last lies in one of the known (first, last) gap ranges."""
    need = first
    for a, b in sorted(known_gaps):
        if a <= need <= b:
            need = b + 1
            if need > last:
                return True
    return need > last


def plan(items: list, next_offset: int, *, max_records: int, boundary: int | None = None,
         accept_gaps: bool = False, known_gaps=()) -> Plan:
    """`boundary`: the end offset a previous, crashed run used for the batch starting at
    `next_offset` (from its ledger); the batch must end exactly there. `known_gaps`:
    offset ranges the source saw Kafka skip, which need no item; any other missing
    offset is waited for (it may still be in flight) unless `accept_gaps`."""
    out = Plan()
    by_offset: dict[int, object] = {}
    for item in items:
        off = _offset(item)
        if off < next_offset:
            out.late.append(item)
            continue
        current = by_offset.get(off)
        if current is None or (isinstance(current, Disposition) and current.kind == "held"):
            by_offset[off] = item            # a released record supersedes its 'held' marker
        elif isinstance(item, Disposition) and item.kind == "held":
            continue
        else:
            out.late.append(item)
    expected = next_offset
    chosen: list[int] = []
    for off in sorted(by_offset):
        if boundary is not None and off > boundary:
            break
        if boundary is None and len(chosen) >= max_records:
            break
        if off != expected:
            if not (accept_gaps or _covered(expected, off - 1, known_gaps)):
                break
            out.gaps.append((expected, off - 1))
        chosen.append(off)
        expected = off + 1
    if boundary is not None and (not chosen or chosen[-1] != boundary):
        if not accept_gaps or not chosen:
            chosen = []
            out.gaps = []
    if chosen:
        out.start, out.end = next_offset, chosen[-1]
    picked = set(chosen)
    out.batch = [by_offset[o] for o in chosen]
    out.rest = [by_offset[o] for o in sorted(by_offset) if o not in picked]
    return out
