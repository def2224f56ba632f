"""Event time on the raw topic: the header the connectors set, and the source's watermark policy."""
from __future__ import annotations

import datetime as dt
import time

from archiefstroom.core.envelope import EVENT_TIME_HEADER, event_time_ms, raw_message
from archiefstroom.transforms.kafka_source import FUTURE_MS, EventClock, TopicClock

H = 3600 * 1000


def test_raw_message_keys_by_thread_and_carries_the_event_time():
    key, headers = raw_message({"object_id": "x:2", "thread_root": "x:1", "created_at": "2026-03-02T09:00:00Z"})
    assert key == b"x:1"
    ms = int(dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc).timestamp() * 1000)
    assert headers == [(EVENT_TIME_HEADER, str(ms).encode())]
    assert event_time_ms(headers, default=7) == ms
    # no usable time: no header, and the reader falls back to the Kafka timestamp
    assert raw_message({"object_id": "x:3", "created_at": "gisteren"}) == (b"x:3", [])
    assert event_time_ms([(EVENT_TIME_HEADER, b"kapot")], default=7) == 7 and event_time_ms(None, default=7) == 7


def test_a_partition_with_backlog_follows_its_own_event_time_minus_slack():
    topic = TopicClock()
    a, b = EventClock(topic), EventClock(topic)
    assert a.watermark_ms(caught_up=False, slack_ms=H) is None          # nothing read yet
    a.see(10 * H)
    b.see(50 * H)
    assert a.watermark_ms(caught_up=False, slack_ms=H) == 9 * H
    # caught up: it must not hold the others back, but follows the data, not the wall clock
    assert a.watermark_ms(caught_up=True, slack_ms=H) == 49 * H


def test_an_event_time_far_in_the_future_counts_as_now():
    c = EventClock(TopicClock())
    c.see(int(time.time() * 1000) + 1000 * H)
    assert c.max_ms <= int(time.time() * 1000) + FUTURE_MS
