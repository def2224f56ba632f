"""Hostile input, fuzzed (issue 14): recorded real payloads of every platform, mutated by a seeded
generator (keys dropped, values of the wrong type, huge or deeply nested values, HTML and script,
bidi overrides, zero-width and confusable characters, truncation, invalid UTF-8), through every
normaliser, and canonical events mutated the same way through the pipeline's validation.

Every input is accounted for: a normaliser gives events that pass the event check, or raises one
of `connectors.base.UNREADABLE` (what the connectors dead-letter with its reason); validation gives
an event or `InvalidEvent` (the pipeline's dead letter). Anything else escaping is a crash, and the
test names the input's seed so it can be replayed. 100,000 inputs per side, the same every run."""
from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest

from archiefstroom.connectors import registry
from archiefstroom.connectors.base import UNREADABLE, Body, Context, check_event
from archiefstroom.core.validation import InvalidEvent, parse_event
from archiefstroom.samples.generator import generate

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
FOLDERS = {"mastodon": "mastodon", "x-twitter": "x", "meta": "facebook", "youtube": "youtube", "bluesky": "bluesky"}
N = 100_000
TRICKS = ["\u202e", "\u200b", "\u2066", "\ufeff", "а", "ⅰ", "<script>alert(1)</script>", "<img src=x onerror=1>",
          "\x00", "\ud7ff", "😀" * 50, "é" * 3, "&lt;b&gt;", "\r\n", "{{7*7}}"]
ODD = [None, 0, -1, 2 ** 63, 1e308, True, "", "x" * 20_000, [], {}, [[[[[]]]]], {"id": {"id": None}}, "NaN", "🙂"]


def seeds() -> list[tuple[str, str]]:
    out = []
    for folder, platform in FOLDERS.items():
        for f in sorted((FIX / folder).glob("*.json")):
            out.append((platform, f.read_text(encoding="utf-8")))
    assert len(out) >= 30, "the recorded payloads are missing"
    return out


def _paths(doc, prefix=()):
    yield prefix
    if len(prefix) >= 12:          # deep enough for every payload shape; nested values stay whole
        return
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:5]):
            yield from _paths(v, (*prefix, i))


def _nested(depth: int):
    v = "diep"
    for _ in range(depth):
        v = {"a": [v]}
    return v


def mutate_doc(doc, rng: random.Random):
    """One to three structural or textual changes at random places of a (freshly parsed) document."""
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            return rng.choice(ODD)
        path = rng.choice(paths)
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        key, action = path[-1], rng.random()
        if action < 0.25 and isinstance(parent, dict):
            del parent[key]
        elif action < 0.55:
            parent[key] = rng.choice(ODD)
        elif action < 0.65:
            parent[key] = _nested(rng.choice([50, 500, 3000]))
        elif isinstance(parent[key], str):
            s = parent[key]
            at = rng.randint(0, len(s))
            parent[key] = s[:at] + rng.choice(TRICKS) + s[at:]
        else:
            parent[key] = rng.choice(TRICKS)
    return doc


def mutate_text(text: str, rng: random.Random) -> str:
    """The payload as text: structural mutation (mostly), or cut, or bytes made invalid UTF-8."""
    r = rng.random()
    if r < 0.75:
        try:
            return json.dumps(mutate_doc(json.loads(text), rng), ensure_ascii=rng.random() < 0.5)
        except (ValueError, RecursionError):
            return text[: len(text) // 2]
    if r < 0.9:
        return text[: rng.randint(0, len(text))]
    raw = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 8)):
        raw[rng.randrange(len(raw))] = rng.choice([0xFF, 0xC0, 0x80, 0xED])
    return raw.decode("utf-8", "replace")


def test_every_normaliser_reads_or_refuses_100000_hostile_payloads():
    pool = seeds()
    ctx_for = {p: Context(platform=p, account={"id": "1", "handle": "gemeente", "display_name": "Gemeente"},
                          connector_name="fuzz") for p in set(FOLDERS.values())}
    crashes, read, refused = [], 0, 0
    for i in range(N):
        rng = random.Random(i)
        platform, text = rng.choice(pool)
        text = mutate_text(text, rng)
        try:
            events = registry.normalise_body(platform, Body.parse(text), ctx_for[platform])
            for ev in events:
                check_event(ev)
            read += 1
        except UNREADABLE:
            refused += 1
        except Exception as exc:     # noqa: BLE001 - what the test is looking for
            crashes.append((i, platform, type(exc).__name__, str(exc)[:120]))
    assert not crashes, f"{len(crashes)} crashes, first: {crashes[:5]}"
    assert read + refused == N and read > N // 10 and refused > N // 10   # both paths were exercised


def test_a_page_read_item_by_item_sets_aside_only_what_it_cannot_read():
    """What the pollers do with a page (`Body.unreadable`): events that pass the check plus the
    unreadable items set aside with their text, or the page refused as a whole; never a crash.
    A page the whole-body read accepts gives the same events, nothing set aside; one it refuses
    is often still partly read (a poisoned item no longer costs the page)."""
    pool = seeds()
    when = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
    ctx_for = {p: Context(platform=p, account={"id": "1", "handle": "gemeente", "display_name": "Gemeente"},
                          captured_at=when, connector_name="fuzz") for p in set(FOLDERS.values())}
    wrong, same, saved, refused, n = [], 0, 0, 0, 20_000
    for i in range(n):
        rng = random.Random(2 * 10 ** 6 + i)
        platform, text = rng.choice(pool)
        text = mutate_text(text, rng)
        try:
            whole = [check_event(ev) for ev in registry.normalise_body(platform, Body.parse(text), ctx_for[platform])]
        except UNREADABLE:
            whole = None
        try:
            body = Body.parse(text)
            body.unreadable = []
            events = registry.normalise_body(platform, body, ctx_for[platform])
        except UNREADABLE:
            refused += 1
            if whole is not None:
                wrong.append((i, platform, "refused a page the whole read accepts"))
            continue
        except Exception as exc:     # noqa: BLE001
            wrong.append((i, platform, type(exc).__name__, str(exc)[:120]))
            continue
        if whole is not None:
            same += 1
            if events != whole or body.unreadable:
                wrong.append((i, platform, "read differently item by item"))
        elif events and body.unreadable:
            saved += 1
        if any(not isinstance(raw, str) or not raw or not isinstance(exc, UNREADABLE) for raw, exc in body.unreadable):
            wrong.append((i, platform, "an item set aside without its text or reason"))
    assert not wrong, f"{len(wrong)} wrong, first: {wrong[:5]}"
    assert same > n // 10 and refused > n // 20 and saved > n // 100   # every path was exercised


def test_validation_reads_or_dead_letters_100000_hostile_events():
    pool = [v for v in generate()[:500] if v.startswith(b"{")]
    crashes, valid, dead = [], 0, 0
    for i in range(N):
        rng = random.Random(10 ** 6 + i)
        value = mutate_text(rng.choice(pool).decode("utf-8"), rng).encode("utf-8", "surrogatepass")
        if rng.random() < 0.05:
            value = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        try:
            parse_event(value, max_bytes=1_000_000)
            valid += 1
        except InvalidEvent:
            dead += 1
        except Exception as exc:     # noqa: BLE001
            crashes.append((i, type(exc).__name__, str(exc)[:120]))
    assert not crashes, f"{len(crashes)} crashes, first: {crashes[:5]}"
    assert valid + dead == N and valid > N // 20 and dead > N // 2


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_a_payload_nested_deeper_than_any_parser_is_refused_not_a_crash(depth):
    text = "[" * depth + "]" * depth
    with pytest.raises(UNREADABLE):
        registry.normalise_body("mastodon", Body.parse(text), Context(platform="mastodon"))
    with pytest.raises(InvalidEvent):
        parse_event(text.encode(), max_bytes=10_000_000)
