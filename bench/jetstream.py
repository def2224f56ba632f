"""The Jetstream connector against a loopback Jetstream at Bluesky's firehose rate (issue 19).

    .venv/bin/python bench/jetstream.py [--rate 10000] [--seconds 20] [--compression deflate|none]

A WebSocket server in a second process (so it has its own core and GIL) sends Jetstream commit
events for `seconds` at `rate` messages/s, in 10 ms slices: the collections the connector asks
for in the shares of the real firehose (likes 55 %, posts 20 %, reposts 15 %, deletes 10 %),
shaped like the recorded payloads in tests/fixtures/platforms/bluesky, each stamped with its
send time as `time_us`; 5 % touch one of ten monitored accounts (replies in their threads, likes
and reposts of their posts). The real `Jetstream` connector (websockets' client, with
permessage-deflate unless `--compression none`, the 1 MiB limit, pings) reads, normalises and
filters them into a ListSink, saving its cursor to a checkpoint file after every batch as it
does in production. Reported: messages/s sent and parsed, events kept, and the lag (the age of
the newest parsed message, sampled at each batch): it kept up when everything sent was parsed
and the lag did not grow.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.sync.server import serve  # noqa: E402

from archiefstroom.connectors.runtime import Checkpoint, ListSink  # noqa: E402
from archiefstroom.connectors.settings import ConnectorSettings  # noqa: E402
from archiefstroom.connectors.streams import Jetstream  # noqa: E402
from archiefstroom.ground.settings import from_dict  # noqa: E402

FIX = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "platforms" / "bluesky"
ACCOUNTS = [f"did:plc:gemeente{i:02d}bench{i:02d}xxxxxxxx" for i in range(10)]
TEXTS = ["Wanneer wordt de weg bij de school weer opengesteld?", "Goed nieuws voor de wijk!",
         "Ik heb nog steeds geen antwoord op mijn bezwaar van vorige maand.", "Mooie foto's van de markt",
         "Dit klopt niet, de subsidie is al in maart gestopt. Kunnen jullie dat uitleggen?",
         "Wat een drukte vandaag op het station", "Bedankt voor de snelle reactie 👍"]


def rkey(rng: random.Random) -> str:
    return "3l" + "".join(rng.choice("234567abcdefghijklmnopqrstuvwxyz") for _ in range(11))


def did(rng: random.Random) -> str:
    return "did:plc:" + "".join(rng.choice("234567abcdefghijklmnopqrstuvwxyz") for _ in range(24))


def make_message(rng: random.Random, like: dict, reply: dict, quote: dict) -> str:
    """One Jetstream commit as the firehose mixes them, with a `%d` where its send time goes."""
    author, touches = did(rng), rng.random() < 0.05
    target = (f"at://{rng.choice(ACCOUNTS) if touches else did(rng)}/app.bsky.feed.post/{rkey(rng)}",
              "bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4")
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    kind = rng.random()
    if kind < 0.55:
        collection, record = "app.bsky.feed.like", {**like["commit"]["record"], "createdAt": created,
                                                    "subject": {"cid": target[1], "uri": target[0]}}
    elif kind < 0.75:
        collection = "app.bsky.feed.post"
        shape = rng.random()
        if shape < 0.4:
            record = {**reply, "reply": {"root": {"uri": target[0], "cid": target[1]},
                                         "parent": {"uri": target[0], "cid": target[1]}}}
        elif shape < 0.5:
            record = {**quote, "embed": {**quote["embed"], "record": {"uri": target[0], "cid": target[1]}}}
        else:
            record = {"$type": "app.bsky.feed.post", "langs": ["nl"]}
        record = {**record, "text": rng.choice(TEXTS), "createdAt": created}
    elif kind < 0.9:
        collection, record = "app.bsky.feed.repost", {"$type": "app.bsky.feed.repost", "createdAt": created,
                                                      "subject": {"cid": target[1], "uri": target[0]}}
    else:
        collection, record = rng.choice(("app.bsky.feed.like", "app.bsky.feed.post")), None
    commit = {"rev": rkey(rng), "operation": "delete" if record is None else "create",
              "collection": collection, "rkey": rkey(rng)}
    if record is not None:
        commit.update(record=record, cid=like["commit"]["cid"])
    text = json.dumps({"did": author, "time_us": -1, "kind": "commit", "commit": commit},
                      ensure_ascii=False, separators=(",", ":"))
    return text.replace("%", "%%").replace('"time_us":-1', '"time_us":%d')


def server(rate: int, seconds: float, compression: str, ready, sent) -> None:
    """Serves one connection: `rate` messages/s for `seconds`, then a normal close. The messages
    are made beforehand (distinct ones, the send time filled in as they go), so that the server's
    own cost stays below the connector's."""
    rng = random.Random(19)
    like = json.loads((FIX / "jetstream-commit-create-like.json").read_text())
    reply = json.loads((FIX / "record-post-reply.json").read_text())
    quote = json.loads((FIX / "record-post-quote.json").read_text())
    pool = [make_message(rng, like, reply, quote) for _ in range(min(int(rate * seconds), 50_000))]

    def handler(ws):
        start = time.monotonic()
        n = 0
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(rate * min(elapsed + 0.01, seconds))
            now_us = time.time_ns() // 1000
            while n < due:
                ws.send(pool[n % len(pool)] % now_us)
                n += 1
            time.sleep(max(0.0, start + (elapsed + 0.01) - time.monotonic()))
        sent.value = n
        ws.close()
        srv.shutdown()

    with serve(handler, "127.0.0.1", 0, compression=None if compression == "none" else "deflate",
               max_size=2**20) as srv:
        ready.put(srv.socket.getsockname()[1])
        srv.serve_forever()


class Measured(Jetstream):
    """The connector as it is, counting the messages it parsed and sampling its lag per batch."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.parsed, self.lags = 0, []

    def concerns(self, body):
        self.parsed += 1
        return super().concerns(body)

    def _flush(self, batch, cursor):
        if cursor:
            self.lags.append(time.time() - cursor / 1e6)
        super()._flush(batch, cursor)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--compression", choices=("deflate", "none"), default="deflate")
    args = ap.parse_args()
    ctx = multiprocessing.get_context("spawn")
    ready, sent = ctx.Queue(), ctx.Value("q", 0)
    proc = ctx.Process(target=server, args=(args.rate, args.seconds, args.compression, ready, sent), daemon=True)
    proc.start()
    port = ready.get(timeout=60)
    settings = from_dict({"platform": "bluesky", "mode": "stream", "stream_url": f"ws://127.0.0.1:{port}/subscribe",
                          "accounts": [{"id": a, "handle": f"gemeente{i}.bsky.social"}
                                       for i, a in enumerate(ACCOUNTS)]}, ConnectorSettings)
    sink = ListSink()
    with tempfile.TemporaryDirectory() as tmp:
        conn = Measured(settings, sink, Checkpoint(Path(tmp) / "jetstream.json"))
        t0, cpu0 = time.perf_counter(), time.process_time()
        conn.consume()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    proc.join(30)
    lags = sorted(conn.lags)
    half = conn.lags[: len(conn.lags) // 2], conn.lags[len(conn.lags) // 2:]   # in time order: a growing lag shows
    kept_up = conn.parsed == sent.value and max(lags) < 1.0
    print(f"jetstream: {sent.value:,} messages sent in {args.seconds:g} s ({sent.value / args.seconds:,.0f}/s offered, "
          f"compression {args.compression}); {conn.parsed:,} parsed in {wall:.1f} s = {conn.parsed / wall:,.0f} "
          f"messages/s; {len(sink.events):,} events kept; connector CPU {cpu / conn.parsed * 1e6:.0f} µs a message")
    print(f"lag at {len(lags)} batches: p50 {statistics.median(lags) * 1000:.0f} ms, "
          f"p95 {lags[int(len(lags) * 0.95)] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms "
          f"(median first half {statistics.median(half[0]) * 1000:.0f} ms, second half "
          f"{statistics.median(half[1]) * 1000:.0f} ms); kept up: {'yes' if kept_up else 'no'}")


if __name__ == "__main__":
    main()
