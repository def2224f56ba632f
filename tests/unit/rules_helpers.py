"""Shared by the ApplyRules tests."""
from __future__ import annotations

import apache_beam as beam


def archived(out):
    """Both archived outputs of ApplyRules: at once (`records`) and versions/released (`linked`)."""
    return (out["records"], out["linked"]) | "AllArchived" >> beam.Flatten()
