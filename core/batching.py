"""Which buffered items of one Kafka partition form the next batch to write and commit.

Pure so that the offset arithmetic (the heart of "nothing lost, nothing
duplicated") is unit-tested without Beam. A batch is a contiguous run of
offsets starting at the partition's next uncommitted offset; a gap is waited
for (an item may still be in flight), unless the source saw Kafka skip those
offsets (Kafka leaves gaps after compaction or transactions). `PartitionState`
says when the sink writes.
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


def covered(first: int, last: int, known_gaps) -> bool:
    """Every offset first..last lies in one of the known (first, last) gap ranges."""
    need = first
    for a, b in sorted(known_gaps):
        if a <= need <= b:
            need = b + 1
            if need > last:
                return True
    return need > last


def plan(items: list, next_offset: int, *, max_records: int, boundary: int | None = None,
         known_gaps=()) -> Plan:
    """`boundary`: the end offset a previous, crashed run used for the batch starting at
    `next_offset` (from its ledger); the batch must end exactly there. `known_gaps`:
    offset ranges the source saw Kafka skip, which need no item; any other missing
    offset is waited for (it may still be in flight)."""
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
            if not covered(expected, off - 1, known_gaps):
                break
            out.gaps.append((expected, off - 1))
        chosen.append(off)
        expected = off + 1
    if boundary is not None and (not chosen or chosen[-1] != boundary):
        chosen = []    # a redo must end exactly where the crashed run's batch ended
        out.gaps = []
    if chosen:
        out.start, out.end = next_offset, chosen[-1]
    picked = set(chosen)
    out.batch = [by_offset[o] for o in chosen]
    out.rest = [by_offset[o] for o in sorted(by_offset) if o not in picked]
    return out


@dataclass
class PartitionState:
    """What the sink keeps of one partition between elements (in Beam state), and when it
    writes: the rotation rules of Confluent's S3 sink (size, age) plus the end of a
    finished partition. The buffered items themselves live beside it (a bag)."""
    next: int | None = None          # next offset to commit (None: not asked yet)
    count: int = 0                   # buffered items
    since: float | None = None       # monotonic time the oldest buffered item arrived
    drain_to: int | None = None      # the source finished the partition here (exclusive)
    gaps: list = field(default_factory=list)   # (first, last) offset ranges Kafka skipped
    have: set = field(default_factory=set)     # offsets of the buffered items
    late: int = 0                    # buffered items below `next` (e.g. released holds)

    def add(self, offset: int, now: float) -> None:
        self.have.add(offset)
        self.count += 1
        if self.since is None:
            self.since = now
        if self.next is not None and offset < self.next:
            self.late += 1

    def skipped(self, gaps) -> None:
        self.gaps = sorted(set(map(tuple, self.gaps)) | set(map(tuple, gaps)))

    def finished_at(self, position: int) -> None:
        self.drain_to = max(position, self.drain_to or 0)

    def ready(self) -> bool:
        """A batch can start: the next offset is here (or Kafka skipped it), or late items wait."""
        return bool(self.late) or self.next in self.have or covered(self.next, self.next, self.gaps)

    def due(self, now: float, max_records: int, max_seconds: float) -> bool:
        return bool(self.count) and self.ready() and (
            self.count >= max_records or now - self.since >= max_seconds or self.complete_to_drain())

    def complete_to_drain(self) -> bool:
        """The source finished this partition (a bounded run's end, a drain) and every offset
        up to there is buffered. Not before: records still trickle out of slower stages,
        and writing each as it comes would make one object per record."""
        if self.drain_to is None or self.next is None:
            return False
        end = self.drain_to
        gaps = [(max(a, self.next), min(b, end - 1)) for a, b in self.gaps if b >= self.next and a < end]
        if len(self.have) + sum(b - a + 1 for a, b in gaps) < end - self.next:   # cheap: not yet
            return False
        return all(o in self.have or covered(o, o, gaps) for o in range(self.next, end))

    def committed_through(self, end: int) -> None:
        """A batch up to `end` is written and committed."""
        self.next = end + 1
        self.gaps = [g for g in self.gaps if g[1] >= self.next]

    def kept(self, offsets: list[int], changed: bool, now: float) -> None:
        """After a flush: `offsets` are still buffered; `changed`: the buffer was rewritten."""
        if changed:
            self.since = now if offsets else None
        elif offsets:
            self.since = now   # waiting for a missing offset: look again in a while
        self.have = set(offsets)
        self.count = len(offsets)
        self.late = 0
        if self.drain_to is not None and self.next is not None and self.next >= self.drain_to:
            self.drain_to = None
