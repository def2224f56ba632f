"""`archiefstroom webcare tail|mark`: possible burgerbrieven for the webcare team, and their verdicts.

`tail` shows the alert topic as a table, newest first, and refreshes; type `b N` (handled as
burgerbrief) or `n N` (not a burgerbrief) to mark row N, `q` to stop. `--once` prints the table
and exits (scripts, tests). `mark EVENT_ID --verdict ... --by ...` does the same without a terminal.
Verdicts go to the feedback topic; the pipeline writes them onto the archive record.
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
import select
import shutil
import sys
import textwrap
import time

from kafka import TopicPartition

from archiefstroom.core.burgerbrief import alerts as core
from archiefstroom.ground import config
from archiefstroom.ground import kafka as kafka_clients

VERDICTS = {"burgerbrief": "burgerbrief", "b": "burgerbrief", "geen_burgerbrief": "geen_burgerbrief",
            "geen": "geen_burgerbrief", "n": "geen_burgerbrief", "not": "geen_burgerbrief"}


def register(sub):
    p = sub.add_parser("webcare", help="webcare: live table of possible burgerbrieven; mark them")
    a = p.add_subparsers(dest="webcare_action", required=True, metavar="ACTION")
    t = a.add_parser("tail", help="alerts newest first, live; mark with `b N` / `n N`")
    t.add_argument("--limit", type=int, default=20, help="rows shown (default 20)")
    t.add_argument("--once", action="store_true", help="print the table once and exit")
    t.add_argument("--by", default=None, help="your name for verdicts (default: login name)")
    t.add_argument("--interval", type=float, default=2.0, help="refresh seconds")
    t.add_argument("--urgent", action="store_true", help="only urgent alerts")
    m = a.add_parser("mark", help="record a verdict on an alert (non-interactive)")
    m.add_argument("event_id")
    m.add_argument("--verdict", required=True, choices=sorted(VERDICTS), help="burgerbrief (b) or geen_burgerbrief (n)")
    m.add_argument("--by", required=True, help="name of the webcare employee")
    m.add_argument("--category", choices=["vraag", "verzoek", "klacht", "bezwaar", "melding", "woo-verzoek"],
                   help="corrected category")
    m.add_argument("--note")
    p.set_defaults(func=run)


# -- Kafka reading ----------------------------------------------------------------

def read_topic(cfg, topic: str, *, timeout_s: float = 10.0, since: dict | None = None) -> list:
    """All messages of `topic` from `since` (partition -> offset; default: the beginning) to its
    current end, in (timestamp, partition, offset) order. An absent topic reads as empty."""

    c = kafka_clients.consumer(cfg.kafka)
    try:
        parts = c.partitions_for_topic(topic)
        if not parts:
            return []
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        ends = kafka_clients.high_watermarks(c, tps)
        c.assign(tps)
        todo = {}
        for tp in tps:
            start = (since or {}).get(tp.partition, 0)
            if ends[tp] > start:
                c.seek(tp, start)
                todo[tp] = ends[tp]
        out = []
        deadline = time.monotonic() + timeout_s
        while todo and time.monotonic() < deadline:
            for tp, msgs in c.poll(timeout_ms=300).items():
                out.extend(m for m in msgs if m.offset < todo.get(tp, 0))
            for tp in list(todo):
                if c.position(tp) >= todo[tp]:
                    del todo[tp]
        out.sort(key=lambda m: (m.timestamp, m.partition, m.offset))
        return out
    finally:
        c.close()


# -- table ----------------------------------------------------------------------------

def _age(ts: dt.datetime, now: dt.datetime) -> str:
    s = max(0, int((now - ts).total_seconds()))
    return f"{s}s" if s < 90 else f"{s // 60}m" if s < 5400 else f"{s // 3600}u" if s < 172800 else f"{s // 86400}d"


def format_table(rows: list[dict], verdicts: dict[str, dict], width: int | None = None,
                 now: dt.datetime | None = None) -> str:
    """Newest first. Columns: row number, age, urgency, score, category, platform/account, verdict, text."""
    width = width or shutil.get_terminal_size((120, 40)).columns
    now = now or dt.datetime.now(dt.timezone.utc)
    head = f"{'#':>3} {'leeftijd':>8} {'!':1} {'score':>5} {'categorie':11} {'account':22} {'oordeel':12} bericht"
    lines = [head, "-" * min(width, len(head) + 40)]
    text_w = max(20, width - len(head) + len("bericht"))
    for i, a in enumerate(rows, 1):
        v = verdicts.get(a["event_id"])
        mark = {"burgerbrief": "burgerbrief", "geen_burgerbrief": "geen"}.get(v["decision"], "") if v else ""
        acct = f"{a['platform']}/{a['account_handle']}"[:22]
        text = " ".join(a["text"].split())
        lines.append(f"{i:>3} {_age(a['detected_at'], now):>8} {'!' if a['urgent'] else ' '} {a['score']:5.2f} "
                     f"{(a['category'] or '-'):11} {acct:22} {mark:12} {textwrap.shorten(text, text_w, placeholder='…')}")
        if a.get("reasons"):
            lines.append(f"{'':>41}waarom: {textwrap.shorten('; '.join(a['reasons']), text_w, placeholder='…')}")
    if not rows:
        lines.append("   (nog geen meldingen)")
    return "\n".join(lines)


def _latest_by_event(cfg, topic: str, schema) -> dict:
    """event id -> the last readable message of `topic` about it (unreadable ones are skipped)."""
    latest = {}
    for m in read_topic(cfg, topic, timeout_s=5):
        try:
            doc = core.decode(m.value, schema)
        except Exception:
            continue
        latest[doc["event_id"]] = doc
    return latest


def _load(cfg, urgent_only: bool):
    s = cfg.burgerbrief
    alerts = _latest_by_event(cfg, s.alert_topic, core.ALERT_SCHEMA)
    verdicts = _latest_by_event(cfg, s.feedback_topic, core.FEEDBACK_SCHEMA)
    rows = sorted(alerts.values(), key=lambda a: a["detected_at"], reverse=True)
    if urgent_only:
        rows = [a for a in rows if a["urgent"]]
    return rows, verdicts


# -- verdicts ------------------------------------------------------------------------

def send_verdict(cfg, event_id: str, verdict: str, by: str, *, category: str | None = None, note: str | None = None,
                 alert: dict | None = None) -> dict:
    s = cfg.burgerbrief
    fb = core.feedback_datum(event_id, VERDICTS[verdict], by, dt.datetime.now(dt.timezone.utc), category=category,
                             note=note, alert_score=(alert or {}).get("score"),
                             model_version=(alert or {}).get("model_version"))
    kafka_clients.ensure_topics(cfg.kafka, [s.feedback_topic], cfg.topics.partitions)
    producer = kafka_clients.producer(cfg.kafka)
    try:
        producer.send(s.feedback_topic, key=event_id.encode(), value=core.encode(fb, core.FEEDBACK_SCHEMA, s.alert_format)
                      ).get(timeout=30)
    finally:
        producer.close()
    return fb


def tail(cfg, args) -> int:
    by = args.by or os.environ.get("ARCHIEFSTROOM_WEBCARE_USER") or getpass.getuser()
    rows, verdicts = _load(cfg, args.urgent)
    print(format_table(rows[:args.limit], verdicts))
    if args.once:
        return 0
    interactive = sys.stdin.isatty()
    print(f"\n[b N] behandeld als burgerbrief   [n N] geen burgerbrief   [q] stoppen   (als {by})")
    try:
        while True:
            ready = select.select([sys.stdin], [], [], args.interval)[0] if interactive else []
            if ready:
                cmd = sys.stdin.readline().strip().split()
                if cmd and cmd[0] in ("q", "quit", "exit"):
                    return 0
                if len(cmd) == 2 and cmd[0] in ("b", "n") and cmd[1].isdigit():
                    n = int(cmd[1])
                    shown = rows[:args.limit]
                    if 1 <= n <= len(shown):
                        fb = send_verdict(cfg, shown[n - 1]["event_id"], cmd[0], by, alert=shown[n - 1])
                        verdicts[fb["event_id"]] = fb
                        print(f"regel {n}: {fb['decision']} vastgelegd")
                    else:
                        print(f"geen regel {n}")
                    continue
                if cmd:
                    print("gebruik: b N | n N | q")
                    continue
            elif not interactive:
                time.sleep(args.interval)
            rows, verdicts = _load(cfg, args.urgent)
            sys.stdout.write("\x1b[2J\x1b[H" if interactive else "\n")
            print(format_table(rows[:args.limit], verdicts))
            print(f"\n[b N] behandeld als burgerbrief   [n N] geen burgerbrief   [q] stoppen   (als {by})")
    except KeyboardInterrupt:
        return 0


def mark(cfg, args) -> int:
    fb = send_verdict(cfg, args.event_id, args.verdict, args.by, category=args.category, note=args.note)
    print(f"{fb['event_id']}: {fb['decision']} by {fb['by']} sent to {cfg.burgerbrief.feedback_topic}")
    return 0


def run(args) -> int:
    cfg = config.load(args.config)
    return {"tail": tail, "mark": mark}[args.webcare_action](cfg, args)
