"""An edit that arrives when nothing later follows is archived at once, in a streaming run.

Rule 10 links every edit and delete to the version before it in a stateful stage
(transforms/rules._Chains). While that stage took the restored chains as a side input,
Prism scheduled it only when its input watermark moved: an edit whose event time is not
past what was already read (a late edit, a quiet night) waited for the next later event,
and the sink's in-order commit of the edit's partition waited with it. The broker-restart
test met it now and then; here it is met every time: the edit comes alone, after the run has
committed everything, with an event time inside what was read.
"""
from __future__ import annotations

import json

import pytest

from archiefstroom import replay, runner
from archiefstroom.core.envelope import event_time_ms, raw_message
from archiefstroom.core.rules import versions

from .test_faults import caught_up, streaming
from .test_spine import accounted, sample

pytestmark = pytest.mark.integration


def _event_time(doc: dict) -> int:
    return event_time_ms(raw_message(doc)[1], None)   # what the source reads from the header


def test_a_lone_edit_with_an_earlier_event_time_is_archived_without_waiting_for_another_event(make_cfg, tmp_path):
    cfg = make_cfg(pipeline={"batch_max_records": 60, "batch_max_seconds": 0.5})
    events, _, bad = sample(threads=1)
    docs = [json.loads(e) for e in events[:-len(bad)]]
    first = [d for d in docs if versions.version_of(d) is None]
    latest = max(_event_time(d) for d in first)
    originals = {d["object_id"] for d in first}
    edit = next(d for d in docs if d["event_type"] == "edit" and d["object_id"] in originals
                and _event_time(d) <= latest)
    with streaming(cfg, tmp_path, [json.dumps(d).encode() for d in first]) as (proc, log):
        caught_up(cfg, proc, log)
        replay.produce(cfg, [json.dumps(edit).encode()])
        caught_up(cfg, proc, log, timeout_s=120)
    assert runner.lag(cfg) == 0
    assert "archived" in accounted(cfg)[edit["event_id"]]
