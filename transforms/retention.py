"""Default retention (selectielijst) tags from configuration, for records the rules have not tagged."""
from __future__ import annotations

import apache_beam as beam

from archiefstroom.core import retention


class _Tag(beam.DoFn):
    def __init__(self, settings, account_type: str):
        self.settings, self.account_type = settings, account_type

    def process(self, record: dict):
        if record.get("retention") is None:
            ev = record["event"]
            decision = retention.decide(self.settings, created=ev["created_at"],
                                        account_type=self.account_type, event_type=ev["event_type"])
            record = {**record, "retention": decision.datum()}
        yield record


class TagRetention(beam.PTransform):
    def __init__(self, settings, account_type: str = "corporate"):
        super().__init__()
        self.settings, self.account_type = settings, account_type

    def expand(self, records):
        return records | beam.ParDo(_Tag(self.settings, self.account_type))
