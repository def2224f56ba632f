"""Settings of burgerbrief detection and webcare (issue 5). Section `burgerbrief:` of the main configuration.

Example (deploy/archiefstroom.yaml):

    burgerbrief:
      enabled: true
      threshold: 0.5                 # calibrated score at or above which a reaction is a possible burgerbrief
      alert_topic: archiefstroom.burgerbrief.alerts
      feedback_topic: archiefstroom.burgerbrief.feedback
      model_path: null               # null = the model shipped in core/burgerbrief/model/
      selectielijst_category: "1.5"  # category of a confirmed burgerbrief: a code under categories in deploy/registry/selectielijst.yaml
      keep_in_social_archive: true   # a confirmed burgerbrief also stays in the social-media archive
      government_authors: []         # extra author ids/handles that count as government (never scored)
      alert_format: avro             # avro (schemaless, schemas/burgerbrief_alert.avsc) or json (wire form)
      batch_size: 256                # reactions per nlp.pipe pass inside a bundle
      base_rate: null                # live share of burgerbrieven, if known: rescales the calibrated score
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from archiefstroom.core.fields import check

_topic = re.compile(r"^[A-Za-z0-9._\-]{1,249}$")
_category = re.compile(r"^[0-9]+(\.[0-9]+)*[a-z]?$")


@dataclass
class BurgerbriefSettings:
    enabled: bool = True
    threshold: Annotated[float, check(lambda v: 0.0 < v < 1.0, "a number between 0 and 1 (exclusive)")] = 0.5
    alert_topic: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.burgerbrief.alerts"
    feedback_topic: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.burgerbrief.feedback"
    model_path: Path | None = None
    selectielijst_category: Annotated[str, check(_category.match,
                                                 "a selectielijst category code such as \"1.5\"")] = "1.5"
    keep_in_social_archive: bool = True
    # with keep_in_social_archive: false, a confirmed burgerbrief's new version goes here (archive_record JSON)
    handover_topic: Annotated[str, check(_topic.match, "a Kafka topic name")] = "archiefstroom.burgerbrief.handover"
    government_authors: list[str] = field(default_factory=list)
    alert_format: Literal["avro", "json"] = "avro"
    batch_size: Annotated[int, check(lambda v: 1 <= v <= 100_000, "an integer 1..100000")] = 256
    # share of burgerbrieven among live reactions, if known (e.g. 0.1 from webcare feedback): rescales the
    # calibrated score from the training set's share (about half) to this one. null = as calibrated.
    base_rate: Annotated[float | None, check(lambda v: v is None or 0.0 < v < 1.0,
                                             "null or a number between 0 and 1 (exclusive)")] = None

    def validate(self):
        if self.alert_topic == self.feedback_topic:
            raise ValueError("feedback_topic: expected a topic different from alert_topic")
