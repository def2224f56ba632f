"""What a batch feeds to Kafka before its offsets are committed.

  dead_letter, quarantine, handover   the item's payload with its reason in headers
  held (compacted)                    a pending hold survives a crash; an ended hold is removed
  versions (compacted)                archived edits/deletes, so a restarted run links later edits (rule 10)
  catalog                             the batch's ledger and objects, for the catalog (issue 12)
Every send is awaited: a broker that did not take it fails the batch, and nothing is committed.
"""
from __future__ import annotations

from archiefstroom.core import catalog
from archiefstroom.core.envelope import Disposition
from archiefstroom.core.rules.holds import ended_hold
from archiefstroom.core.rules.versions import changelog

TOPIC_FOR_KIND = ("dead_letter", "quarantine", "handover")


class SideTopics:
    def __init__(self, producer, cfg):
        self.producer = producer
        self.topics = {"dead_letter": cfg.topics.dead_letter, "quarantine": cfg.topics.quarantine,
                       "handover": cfg.burgerbrief.handover_topic}
        self.held = getattr(cfg.rules, "held_topic", None)
        self.versions = getattr(cfg.rules, "versions_topic", None)
        self.catalog = cfg.catalog.announce_topic

    def send(self, items: list, archived: list[dict], announcements: list[dict] = ()) -> None:
        """Side-topic messages of a batch: `items` as planned, `archived` the records it stores,
        `announcements` what it tells the catalog (core.catalog.announcements; before the
        commit, so a crash re-announces and never loses one; keyed by the ledger, so one
        batch's parts stay in order). One flush for all of them."""
        sent = []
        if self.catalog:
            for datum in announcements:
                sent.append(self.producer.send(self.catalog, value=catalog.encode_announcement(datum),
                                               key=datum["ledger"].encode()))
        if self.versions:
            for key, value in filter(None, map(changelog, archived)):
                sent.append(self.producer.send(self.versions, value=value, key=key))
        for item in items:
            if not isinstance(item, Disposition):
                continue
            if item.kind == "held" and self.held:
                sent.append(self.producer.send(self.held, value=item.payload,
                                               key=str(item.detail.get("hold_key") or item.event_id).encode()))
            elif item.kind in TOPIC_FOR_KIND:
                pos = item.position
                where = f"{pos.topic}/{pos.partition}/{pos.offset}".encode()
                headers = [("reason", item.reason.encode()), ("source", where),
                           ("code", str(item.detail.get("code", item.kind)).encode())]
                sent.append(self.producer.send(self.topics[item.kind], value=item.payload or b"", key=where,
                                               headers=headers))
        if sent:
            self.producer.flush()
            for fut in sent:
                fut.get(timeout=30)  # raise if the broker did not take it: no commit then

    def end_holds(self, items: list) -> None:
        """Holds that these (now durable) items end are removed from the held topic."""
        if not self.held:
            return
        keys = [k for k in map(ended_hold, items) if k]
        for key in keys:
            self.producer.send(self.held, value=None, key=key.encode())
        if keys:
            self.producer.flush()
