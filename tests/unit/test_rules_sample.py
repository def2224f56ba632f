"""The sample data set through the rules: the Beam transform agrees with the pure core, and
every valid event gets exactly one final outcome. The per-rule figures are what the
integrator's end-to-end test should find in the archive summary."""
from __future__ import annotations

import collections
import datetime as dt

import apache_beam as beam
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from archiefstroom.core.rules import holds
from archiefstroom.core.rules.scenarios import record
from archiefstroom.core.validation import InvalidEvent, parse_event
from archiefstroom.ground import config, registries
from archiefstroom.samples.generator import generate
from archiefstroom.transforms.rules import NOTED, ApplyRules
from tests.conftest import pipeline_options

from .rules_helpers import archived

CFG = config.load(config.DEFAULT_CONFIG)
REG = registries.load_for(CFG)


def sample_records():
    out = []
    for offset, value in enumerate(generate()):
        try:
            out.append(record(parse_event(value, max_bytes=CFG.pipeline.max_event_bytes), offset))
        except InvalidEvent:
            pass
    return out


def final(outs):
    """Final outcome per offset: a held marker is superseded by what follows it."""
    by_offset = {}
    for o in outs:
        off = o.record["source"]["offset"] if o.record is not None else o.disposition.position.offset
        kind = "archived" if o.record is not None else o.disposition.kind
        if kind != "held" or off not in by_offset:
            by_offset[off] = kind
    return by_offset


def test_every_valid_sample_event_has_exactly_one_final_outcome():
    recs = sample_records()
    outs = holds.simulate(recs, REG, CFG.rules)
    finals = final(outs)
    assert set(finals) == {r["source"]["offset"] for r in recs}
    assert "held" not in finals.values()           # a drained run leaves no hold open
    archived = [o.record["event"]["event_id"] for o in outs if o.record is not None]
    assert len(archived) == len(set(archived))
    counts = holds.outcome_counts(outs)
    # the sample has each kind of rule input; each rule must have decided something
    for key in [("archived", "R1-corporate-post"), ("archived", "R4-route-2"), ("archived", "R8-hybrid"),
                ("dropped", "R2-sentiment"), ("dropped", "R3-route-1"), ("dropped", "R9-direct-message"),
                ("dropped", "R5-citizen-mention"), ("dropped", "R7-private-repost"), ("dropped", "R8-hybrid")]:
        assert counts.get(key, 0) > 0, key


def test_beam_transform_matches_the_pure_core_on_the_sample():
    recs = sample_records()
    expected = collections.Counter(holds.outcome_counts(holds.simulate(recs, REG, CFG.rules)))
    expected_items = sorted(expected.items())
    stream = TestStream().add_elements(
        [TimestampedValue(r, Timestamp.from_utc_datetime(r["event"]["created_at"])) for r in recs]
    ).advance_watermark_to(Timestamp.from_utc_datetime(dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc))
    ).advance_watermark_to_infinity()   # holds expire by their timers once the watermark passes them
    with beam.Pipeline(options=pipeline_options(streaming=True)) as p:
        out = p | stream | ApplyRules(CFG, REG, restore=False)
        kept = archived(out) | "A" >> beam.Map(
            lambda r: holds.Out(record=r))
        dropped = out["dispositions"] | "D" >> beam.Map(lambda d: holds.Out(disposition=d))
        # drops in a thread go by the seal stage (it counts them for the seal and passes them on)
        noted = out[NOTED] | "N" >> beam.Map(lambda n: holds.Out(disposition=n.disposition))
        flat = (kept, dropped, noted) | beam.Flatten()

        def counts(outs):
            got = sorted(collections.Counter(holds.outcome_counts(list(outs))).items())
            equal_to(expected_items)(got)
        assert_that(flat, counts)
