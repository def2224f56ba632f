"""The soak's event stream (bench/spine.stream_events): repetitions follow each other in event
time, so a soak's watermark moves on as a live stream's does."""
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.spine import stream_events  # noqa: E402
from archiefstroom.samples.generator import generate  # noqa: E402

END = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone.utc)


def _docs(values):
    out = []
    for v in values:
        try:
            d = json.loads(v)
        except ValueError:
            continue
        if isinstance(d, dict) and isinstance(d.get("created_at"), str):
            out.append(d)
    return out


def _t(text):
    return dt.datetime.fromisoformat(text)


def test_repetitions_follow_each_other_and_the_last_ends_at_the_given_moment():
    n = len(generate())
    plain = _docs(stream_events(n))
    moved = _docs(stream_events(3 * n, fresh_objects=True, periods_ending=END))
    base = plain[0]["event_id"].split("~")[0]
    copies = [d for d in moved if d["event_id"].split("~")[0] == base]
    assert [d["event_id"] for d in copies] == [f"{base}~{i}" for i in range(3)]
    gaps = {_t(b["created_at"]) - _t(a["created_at"]) for a, b in zip(copies, copies[1:])}
    assert len(gaps) == 1 and next(iter(gaps)) > dt.timedelta(hours=1)
    # within a repetition, times keep their distances
    assert (_t(copies[0]["created_at"]) - _t(moved[1]["created_at"])) == (
        _t(plain[0]["created_at"]) - _t(plain[1]["created_at"]))
    latest = max(_t(d[f]) for d in moved for f in ("created_at", "captured_at", "edited_at") if d.get(f))
    assert latest == END
    assert all(_t(d["created_at"]) <= END for d in moved)


def test_without_moving_time_the_sample_times_stay():
    n = len(generate())
    a, b = _docs(stream_events(n)), _docs(stream_events(2 * n))[len(_docs(stream_events(n))):]
    assert [d["created_at"] for d in a] == [d["created_at"] for d in b]
