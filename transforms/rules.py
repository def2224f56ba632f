"""Apply the archiving rules (issue 4) between validation and the later stages.

    records ─▶ EvaluateRules ─┬─ archived ────────────────────────────────────────────▶ records
                              ├─ archived edits/deletes ─┐
                              ├─ dropped ────────────────┼────────────────────────────▶ dispositions
                              └─ thread items ─▶ Threads ┼─ (keyed by thread, ───┬▶ released ─┐
         RestoreHolds ─────────────────────────▶         │  event-time timer)    └▶ dispositions (held, expired)
                                                         └─────────────────────────────────────┴─▶ LinkVersions ─▶ linked

Two archived outputs, not one: `records` is the common path (archived at once, no older
version) and stays fused with the stages before and after it on every runner; `linked`
(edits, deletes and released holds) passes the keyed stages. Merging them here with a
Flatten would cost every record two more stage hand-overs on Prism (measured: +0.9 s
median alert latency at 100 events/s); the pipeline merges them at the sink instead.

EvaluateRules is the pure engine (core/rules/engine.py) per record. Threads keeps
the holds of rules 5/7/8 in Beam state with an event-time timer per thread: a hold
expires when the watermark passes created_at + hold window. A hold leaves the flow
as a `held` Disposition carrying the record, so the sink can commit its offset and
keep the payload on the compacted held topic; RestoreHolds reads that topic back
when the pipeline starts, so no hold is lost in a crash.

LinkVersions (rule 10) then links every archived edit and delete to the previous
version of its object: one chain per object id in Beam state, starting from the
compacted versions topic that the sink keeps (core/rules/versions.py), read once per
worker process when its first edit or delete comes (building the pipeline does no broker
I/O; not a side input, see _Chains).
Metrics: rules.* (transforms/metrics.py).
"""
from __future__ import annotations

import copy
import datetime as dt
import logging
import typing
import uuid

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.transforms.window import GlobalWindow, TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from archiefstroom.archive.storage import ArchiveStore
from archiefstroom.archive.writer import through_outage
from archiefstroom.core.envelope import thread_key
from archiefstroom.core.rules import engine, holds, versions
from archiefstroom.core.rules import seal as seal_core
from archiefstroom.ground import kafka as kafka_clients
from archiefstroom.transforms import metrics, resources
from archiefstroom.transforms.drain import DrainSignal

log = logging.getLogger(__name__)

RECORDS, LINKED, DISPOSITIONS, THREADS, VERSIONS = "records", "linked", "dispositions", "threads", "versions"
NOTED, SEALS = "noted", "seals"


def _count(name: str, n: int = 1) -> None:
    metrics.inc(f"rules.{name}", n)


class _Evaluate(beam.DoFn):
    def __init__(self, registry, settings, run: str | None = None):
        self.registry, self.settings, self.run = registry, settings, run
        self.window = dt.timedelta(hours=settings.hold_window_hours)
        self.seal = bool(getattr(settings, "seal_threads", False))

    def setup(self):
        self._reported: set[str] = set()

    def process(self, record: dict):
        event = record["event"]
        if self.run is not None:
            _saw(self.run, event["created_at"])
        v = engine.evaluate(event, self.registry, self.settings)
        _count(f"{v.rule}.{v.action}")
        if v.rule == "R2-sentiment":
            _count(f"sentiment.{v.detail.get('reaction_kind', 'unknown')}")
        if v.misconfigured:
            self._misconfigured(v)
        routed = holds.route(record, v, self.window)
        if isinstance(routed, holds.Out):
            if routed.record is None:
                if self.seal and _counts_in_seal(v):   # the seal stage counts it and passes it on
                    yield beam.pvalue.TaggedOutput(NOTED, seal_core.NotArchived(
                        v.facts.thread, routed.disposition, event["created_at"], event["platform"],
                        v.facts.account.type))
                else:
                    yield beam.pvalue.TaggedOutput(DISPOSITIONS, routed.disposition)
            elif versions.version_of(event) is not None:   # edits/deletes: rule 10's chain first
                yield beam.pvalue.TaggedOutput(VERSIONS, routed.record)
            else:
                yield routed.record
        else:
            yield beam.pvalue.TaggedOutput(THREADS, routed)

    def _misconfigured(self, v: engine.Verdict) -> None:
        account = f"{v.facts.account.platform}:{v.facts.account.id}"
        _count("route1_misconfigured")
        _count(f"route1_misconfigured.{account}")
        if account not in self._reported:   # one line per account and worker, not one per reaction
            self._reported.add(account)
            log.warning("route-1 account %s receives reactions: switch reactions off or register it as route 2",
                        account)


def _counts_in_seal(v: engine.Verdict) -> bool:
    """A reaction (or like, edit, delete) in a monitored account's thread: its seal counts it."""
    a = v.facts.account
    return a is not None and a.type in ("corporate", "hybrid") and not v.facts.is_root


def _event_time(kv):
    key, item = kv
    created = item.record["event"]["created_at"] if item.record is not None else None
    if created is None:
        return kv
    return TimestampedValue(kv, Timestamp.from_utc_datetime(created.astimezone(dt.timezone.utc)))


def _timer_time(when: dt.datetime) -> Timestamp:
    """`when`, rounded up to a whole millisecond: portable runners carry timers in
    milliseconds, and a timer that fires a fraction before its hold's expiry would find
    nothing expired and set itself again, for ever."""
    micros = Timestamp.from_utc_datetime(when.astimezone(dt.timezone.utc)).micros
    return Timestamp(micros=-(-micros // 1000) * 1000)


class _Threads(beam.DoFn):
    """Holds per thread. A hold expires by an event-time timer: when the source's
    watermark (event time read, minus the slack) passes the hold's window."""
    STATE = ReadModifyWriteStateSpec("thread", PickleCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, window_hours: float, drain: DrainSignal | None = None):
        self.window = dt.timedelta(hours=window_hours)
        self.drain = drain

    def process(self, kv, state=beam.DoFn.StateParam(STATE), timer=beam.DoFn.TimerParam(EXPIRY)):
        _, item = kv
        st = state.read() or holds.ThreadState()
        outs = holds.step(st, item, self.window)
        self._save(st, state, timer)
        yield from self._emit(outs)

    @on_timer(EXPIRY)
    def expired(self, ts=beam.DoFn.TimestampParam, state=beam.DoFn.StateParam(STATE),
                timer=beam.DoFn.TimerParam(EXPIRY)):
        if self.drain is not None and self.drain.requested():
            # a drain ends the input, so the watermark jumps to the end of time and every
            # timer fires: that is not the window passing. The holds stay pending on the
            # held topic and the next run restores them.
            return
        st = state.read() or holds.ThreadState()
        outs = holds.expire(st, ts.to_utc_datetime(has_tz=True), self.window)
        self._save(st, state, timer)
        yield from self._emit(outs)

    @staticmethod
    def _save(st: holds.ThreadState, state, timer) -> None:
        if st.pending or st.root is not None:
            state.write(st)
        else:
            state.clear()
        nxt = st.next_expiry()
        if nxt is not None:
            timer.set(_timer_time(nxt))

    @staticmethod
    def _emit(outs):
        for o in outs:
            if o.metric:
                _count(o.metric)
            if o.record is not None:
                yield o.record
            else:
                yield beam.pvalue.TaggedOutput(DISPOSITIONS, o.disposition)


def read_held(kafka_settings, topic: str, window: dt.timedelta, timeout_s: float = 10.0):
    """Pending holds from the compacted held topic, as (thread, restore item)."""
    items = []
    for value in kafka_clients.read_compacted(kafka_settings, topic, timeout_s).values():
        item = holds.decode_hold(value, window)
        items.append((thread_key(item.record["event"]), item))
    log.info("restored %d pending holds from %s", len(items), topic)
    return items


def read_versions(kafka_settings, topic: str, timeout_s: float = 10.0) -> dict[str, versions.Chain]:
    """Version chains per object from the compacted versions topic (rule 10 across restarts)."""
    chains, bad = versions.restore(kafka_clients.read_compacted(kafka_settings, topic, timeout_s).values())
    if bad:
        log.error("%d unreadable entries on %s: those versions are not linked to", bad, topic)
        _count("R10-versions.unreadable", bad)
    log.info("restored the version chains of %d objects from %s", len(chains), topic)
    return chains


class _Chains(beam.DoFn):
    """Rule 10: one version chain per object id in Beam state; a key seen for the first
    time in this run starts from the chains restored from the versions topic.

    The restored chains are read once per process (`given`: a dict instead, for tests), not
    taken as a side input: Prism schedules a stateful stage that reads a side input only
    when its input watermark moves, so an edit or delete waited for the next event with a
    later event time, and the sink's commit of its partition waited behind it (found by
    the broker-restart test: after the restart no later event came)."""
    STATE = ReadModifyWriteStateSpec("chain", PickleCoder())

    def __init__(self, kafka_settings, topic: str, given: dict | None, build: str):
        self.kafka_settings, self.topic, self.given, self.build = kafka_settings, topic, given, build

    def _restored(self) -> dict:
        if self.given is not None:
            return self.given
        return resources.shared(("rules.versions_restored", self.build),
                                lambda: read_versions(self.kafka_settings, self.topic))

    def process(self, kv, state=beam.DoFn.StateParam(STATE)):
        object_id, record = kv
        chain = state.read()
        if chain is None:
            known = self._restored().get(object_id)
            chain = versions.Chain(dict(known.versions)) if known else versions.Chain()
        out = versions.link(chain, record)
        state.write(chain)
        d = out.get("decision") or {}
        _count("R10-versions.follows_edit" if d.get("supersedes") != d.get("original") else "R10-versions.follows_original")
        yield out


class LinkVersions(beam.PTransform):
    """Archived edits and deletes linked to the previous version of their object (rule 10);
    other records pass untouched. `restored`: a dict of chains to start from (tests), or
    None to read `rules.versions_topic` (once per worker process, when its first edit or
    delete comes)."""

    def __init__(self, cfg, restored: dict | None = None):
        super().__init__()
        self.cfg, self.restored = cfg, restored

    def expand(self, records):
        cfg = self.cfg
        chains = _Chains(cfg.kafka, cfg.rules.versions_topic, self.restored, uuid.uuid4().hex)
        parts = records | "VersionsApart" >> beam.Partition(
            lambda r, n: int(versions.version_of(r["event"]) is not None), 2)
        linked = (parts[1]
                  | "ByObject" >> beam.Map(lambda r: (r["event"]["object_id"], r)).with_output_types(
                      typing.Tuple[str, typing.Any])
                  | "Chain" >> beam.ParDo(chains))
        return (parts[0], linked) | "Linked" >> beam.Flatten()


class RestoreHolds(beam.PTransform):
    """Pending holds kept by the sink on `rules.held_topic`, as thread items (read once at start)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg

    def expand(self, pbegin):
        cfg = self.cfg
        window = dt.timedelta(hours=cfg.rules.hold_window_hours)
        return (pbegin
                | "Once" >> beam.Create([cfg.rules.held_topic])
                | "ReadHeldTopic" >> beam.FlatMap(lambda topic: read_held(cfg.kafka, topic, window)))


class ApplyRules(beam.PTransform):
    """Input: archive record datums. Output: dict with `records` (archived at once: decision filled),
    `linked` (archived edits/deletes linked by rule 10, and records released from a hold) and
    `dispositions` (dropped with the rule's reason; held for rule 5/7/8 waits).

    `registry`: the rules' registries, loaded once by the pipeline (archiefstroom.ground.registries).
    `restore`: None = read the
    held topic if configured, False = don't, or a PCollection of (thread, ThreadItem) (tests).
    `chains`: rule 10 version chains to start from (tests); by default the versions topic is
    read (inside the pipeline) unless `restore` is given or `rules.restore_versions` is off.
    `drain`: the run's drain signal (a drain does not expire holds). `bounded_run`: sealed
    threads in a bounded run (SealThreads' `run`)."""

    def __init__(self, cfg, registry, *, restore=None, chains: dict | None = None,
                 drain: DrainSignal | None = None, bounded_run: str | None = None):
        super().__init__()
        self.bounded_run = bounded_run
        self.cfg = cfg
        self.registry = registry
        self.restore = restore
        self.chains = chains
        self.drain = drain

    def expand(self, records):
        s = self.cfg.rules
        if not s.enabled:  # rules off: everything passes, TagRetention gives default tags
            return {RECORDS: records, LINKED: records.pipeline | "NothingLinked" >> beam.Create([]),
                    DISPOSITIONS: records.pipeline | "NoDispositions" >> beam.Create([])}
        tags = (DISPOSITIONS, THREADS, VERSIONS, NOTED) if s.seal_threads else (DISPOSITIONS, THREADS, VERSIONS)
        ev = records | "EvaluateRules" >> beam.ParDo(_Evaluate(self.registry, s, self.bounded_run)).with_outputs(
            *tags, main=RECORDS)
        items = [ev[THREADS]]
        if self.restore is None and s.restore_holds:
            items.append(records.pipeline | "RestoreHolds" >> RestoreHolds(self.cfg))
        elif self.restore not in (None, False):
            items.append(self.restore)
        threads = (tuple(items)
                   | "ThreadItems" >> beam.Flatten()
                   | "EventTime" >> beam.Map(_event_time).with_output_types(typing.Tuple[str, typing.Any])
                   | "Threads" >> beam.ParDo(_Threads(s.hold_window_hours, self.drain))
                   .with_output_types(typing.Any).with_outputs(DISPOSITIONS, main=RECORDS))
        later = (ev[VERSIONS], threads[RECORDS]) | "VersionsAndReleased" >> beam.Flatten()
        restored = self.chains
        if restored is None and (self.restore is not None or not s.restore_versions):
            restored = {}
        out = {
            RECORDS: ev[RECORDS],
            LINKED: later | "LinkVersions" >> LinkVersions(self.cfg, restored),
            DISPOSITIONS: (ev[DISPOSITIONS], threads[DISPOSITIONS]) | "NotArchivedByRules" >> beam.Flatten(),
        }
        if s.seal_threads:   # for SealThreads: rule drops in threads, with their thread key
            out[NOTED] = ev[NOTED]
        return out


# -- sealed threads (issue 17) ------------------------------------------------------

# max event time (ms) each bounded run has evaluated in this process, noted by EvaluateRules
# (upstream of the seal stage, so before the watermark there passes it): a bounded input's
# end moves the watermark to the end of time, which is not a window passing
_SEEN_MS: dict[str, int] = {}


def _saw(run: str, created: dt.datetime) -> None:
    ms = int(created.astimezone(dt.timezone.utc).timestamp() * 1000)
    if ms > _SEEN_MS.get(run, -(2 ** 62)):
        _SEEN_MS[run] = ms


def read_threads(kafka_settings, topic: str, timeout_s: float = 10.0) -> dict[str, seal_core.ThreadSeal]:
    """Open and sealed threads from the compacted threads topic, per thread key."""
    states, bad = seal_core.restore(kafka_clients.read_compacted(kafka_settings, topic, timeout_s).values())
    if bad:
        log.error("%d unreadable entries on %s: those items are not in their thread's seal", bad, topic)
        _count(f"{seal_core.RULE}.unreadable", bad)
    log.info("restored %d threads from %s", len(states), topic)
    return states


class _Seals(beam.DoFn):
    """One ThreadSeal per thread key in Beam state, an event-time timer at the window's close.

    Every archived record and every rule drop of a thread passes here on its way to the
    sink; its note goes to the threads topic first (sent in process, flushed in
    finish_bundle: the sink sees the item only after this bundle is committed), so what
    the sink commits a restarted run still knows. A reaction after the seal is counted
    (R-late-reaction) and dropped, or archived as a late addendum linked to the seal."""
    STATE = ReadModifyWriteStateSpec("seal", PickleCoder())
    CLOSE = TimerSpec("close", TimeDomain.WATERMARK)
    END = TimerSpec("end_of_input", TimeDomain.WATERMARK)   # bounded runs only

    def __init__(self, cfg, registry, drain: DrainSignal | None, run: str | None, restore: bool, build: str):
        self.cfg, self.registry, self.drain, self.run = cfg, registry, drain, run
        self.restore, self.build = restore, build
        self.topic = cfg.rules.threads_topic
        self.late_mode = cfg.rules.late_reactions
        self.slack_ms = int(cfg.pipeline.event_time_slack_seconds * 1000)
        self.memory_hours = cfg.rules.sealed_memory_hours

    def setup(self):
        cfg = self.cfg
        self.producer = resources.shared(("kafka.producer.threads", tuple(cfg.kafka.bootstrap_servers)),
                                         lambda: kafka_clients.producer(cfg.kafka))
        self.store = resources.shared(("archive.store", cfg.s3.endpoint_url, cfg.s3.bucket, cfg.s3.prefix),
                                      lambda: ArchiveStore(cfg.s3))
        self.pending = []

    def _sealed_in_bucket(self, thread: str) -> seal_core.ThreadSeal | None:
        """A thread this stage knows nothing of may have been sealed and forgotten (its ids left
        the state `rules.sealed_memory_hours` after the close): its seal object says so."""
        datum = through_outage(self.cfg.pipeline.outage_seconds, "a thread's seal", self.store.seal, thread)
        if datum is None:
            return None
        _count("seals.read_back")
        return seal_core.sealed_state(datum)

    def _restored(self) -> dict:
        """The threads topic as it was when this pipeline started, read once per process (not a
        side input: on Prism a side input of a stateful DoFn with timers hid its state from
        the timers now and then)."""
        if not self.restore:
            return {}
        cfg = self.cfg
        return resources.shared(("rules.threads_restored", self.build),
                                lambda: read_threads(cfg.kafka, cfg.rules.threads_topic))

    def process(self, kv, state=beam.DoFn.StateParam(STATE), timer=beam.DoFn.TimerParam(CLOSE),
                end=beam.DoFn.TimerParam(END)):
        thread, item = kv
        if self.run is not None:
            end.set(GlobalWindow().max_timestamp())
        st = state.read()
        if st is None:   # first item of this thread in this run: start from what the topic kept
            known = self._restored().get(thread)
            if known is not None:
                st = copy.deepcopy(known)
            else:
                st = self._sealed_in_bucket(thread) or seal_core.ThreadSeal(thread)
        out = None
        if isinstance(item, seal_core.Restored):
            seal_core.merge(st, item.state)
        elif isinstance(item, seal_core.NotArchived):
            days = self.registry.harvest_window_days(item.platform, item.account_type)
            if seal_core.add_not_archived(st, item.disposition.event_id or "", item.rule, item.created_at,
                                          item.platform, item.account_type, days):
                self._note(*seal_core.dropped_note(st, item.disposition.event_id or "", item.rule, item.created_at))
            out = item.disposition
        else:
            out = self._record(st, item)
        state.write(st)
        when = st.next_timer(self.memory_hours)
        if when is not None:
            timer.set(_timer_time(when))
        if out is not None:
            yield out

    def _record(self, st: seal_core.ThreadSeal, record: dict):
        ev = record["event"]
        acct = self.registry.account(ev["platform"], ev["account"]["id"])
        account_type = acct.type if acct is not None else ""
        days = self.registry.harvest_window_days(ev["platform"], account_type)
        entry = seal_core.entry_of(record)
        got = seal_core.add_record(st, record, days, account_type, entry)
        if got == "added":
            self._note(*seal_core.record_note(st, record, entry))
        if got != "late":
            return record
        sid = seal_core.seal_id(st.thread)
        # counted per mode only: a counter per thread would be a new metric name per late
        # thread, kept by the worker and the runner for the whole run (the soak found it);
        # the ledger entry or the addendum names the seal
        _count(f"{seal_core.RULE}.{self.late_mode}")
        if self.late_mode == "addendum":
            return seal_core.late_addendum(record, sid, st.sealed_closes)
        return seal_core.late_disposition(record, sid)

    def _note(self, key: bytes, value: bytes) -> None:
        self.pending.append(self.producer.send(self.topic, key=key, value=value))

    def finish_bundle(self):
        if self.pending:
            self.producer.flush()
            for fut in self.pending:
                fut.get(timeout=30)   # a note the broker did not take fails the bundle: nothing goes on
            self.pending = []

    @on_timer(CLOSE)
    def close(self, state=beam.DoFn.StateParam(STATE), timer=beam.DoFn.TimerParam(CLOSE)):
        yield from self._close(state, timer)

    @on_timer(END)
    def end_of_input(self, state=beam.DoFn.StateParam(STATE), timer=beam.DoFn.TimerParam(CLOSE)):
        """A bounded run's input ended: seal what an event read in this run shows is past its
        window (its close timer may have fired before that event reached this stage)."""
        yield from self._close(state, timer)

    def _close(self, state, timer):
        if self.drain is not None and self.drain.requested():
            return   # a drain is not the window passing: the next run restores the thread
        st = state.read()
        if st is None:
            return
        sealed = st.sealed is not None
        when = st.next_timer(self.memory_hours)
        if when is None:
            return
        read_ms = _SEEN_MS.get(self.run, -(2 ** 62)) if self.run is not None else None
        if read_ms is not None and read_ms - self.slack_ms < _timer_time(when).micros // 1000:
            # a bounded run: only an event read past the window (minus the slack) seals; the end
            # of the input moves the watermark to the end of time, which is not the window passing
            return
        if sealed:   # the seal's memory ends: its ids stay in the seal object, read back if need be
            state.clear()
            _count("seals.forgotten")
            yield beam.pvalue.TaggedOutput(SEALS, seal_core.forget_sealed(st.thread))
            return
        if st.closes() is None:   # nothing archived in the window: nothing to seal
            state.clear()
            yield beam.pvalue.TaggedOutput(SEALS, seal_core.Forget(st.thread, tuple(st.note_keys())))
            return
        datum = seal_core.seal(st)
        keys, retention = tuple(st.note_keys()), st.retention
        seal_core.mark_sealed(st, datum)
        state.write(st)
        timer.set(_timer_time(st.next_timer(self.memory_hours)))   # the seal's memory ends
        _count("seals")
        yield beam.pvalue.TaggedOutput(SEALS, seal_core.Seal(datum, retention, keys))


def _by_thread(item):
    if isinstance(item, seal_core.NotArchived):
        return item.thread, item
    return thread_key(item["event"]), item


class SealThreads(beam.PTransform):
    """Input: the final archived records (after retention tags) and the rules' NotArchived
    items. Output: dict with `items` (records and Dispositions for the sink) and `seals`
    (Seal and Forget for WriteSeals). `run`: for a bounded run (fixed end offsets), the id
    given to ApplyRules too (`bounded_run`), whose EvaluateRules notes the event time read.
    `restore`: read the threads topic at start (rules.restore_threads), or not."""

    def __init__(self, cfg, registry, *, drain: DrainSignal | None = None, run: str | None = None,
                 restore: bool | None = None):
        super().__init__()
        self.cfg, self.registry, self.drain, self.run = cfg, registry, drain, run
        self.restore = cfg.rules.restore_threads if restore is None else restore

    def expand(self, inputs):
        cfg = self.cfg
        keyed = [inputs | "ByThread" >> beam.Map(_by_thread).with_output_types(typing.Tuple[str, typing.Any])]
        # the restored states twice: read by the stage itself when a thread's first item of this
        # run comes (whatever arrives first), and as elements, so that a thread without new
        # items still gets its close timer
        build = uuid.uuid4().hex
        if self.restore:
            keyed.append(inputs.pipeline
                         | "ThreadsTopic" >> beam.Create([cfg.rules.threads_topic])
                         | "ReadThreadsTopic" >> beam.FlatMap(
                             lambda topic: [(t, seal_core.Restored(st))
                                            for t, st in read_threads(cfg.kafka, topic).items()])
                         .with_output_types(typing.Tuple[str, typing.Any]))
        out = (tuple(keyed)
               | "ThreadItems" >> beam.Flatten()
               | "Seals" >> beam.ParDo(_Seals(cfg, self.registry, self.drain, self.run, self.restore, build))
               .with_output_types(typing.Any).with_outputs(SEALS, main="items"))
        return {"items": out["items"], "seals": out[SEALS]}
