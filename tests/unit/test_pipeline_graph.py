"""The pipeline graph builds without broker or bucket I/O and translates for a portable runner."""
from __future__ import annotations

import apache_beam as beam
from apache_beam.pipeline import PipelineVisitor
from apache_beam.transforms.core import ParDo

from archiefstroom import runtimes
from archiefstroom.ground import registries
from archiefstroom.pipelines import archive
from tests.conftest import build_cfg


class _StatefulSideInputs(PipelineVisitor):
    def __init__(self):
        self.found = []

    def visit_transform(self, node):
        t = node.transform
        if isinstance(t, ParDo) and t.side_inputs and t._signature.is_stateful_dofn():
            self.found += [(node.full_label, s.pvalue.element_type) for s in t.side_inputs]


def test_the_graph_builds_without_io_and_translates(tmp_path):
    # ports nobody listens on: building must not need the broker or the S3 server
    cfg = build_cfg(tmp_path, "graph", kafka={"bootstrap_servers": ["127.0.0.1:9"]},
                    s3={"endpoint_url": "http://127.0.0.1:9"})
    p = beam.Pipeline(options=runtimes.options("prism", []))
    archive.build(p, cfg, registries.load_for(cfg))
    proto = p.to_runner_api()
    labels = {t.unique_name for t in proto.components.transforms.values()}
    assert {"ArchiveSocialMedia/ReadRawTopic/Poll", "ArchiveSocialMedia/WriteArchive/BatchWriteCommit",
            "ApplyFeedback/WriteVersions/BatchWriteCommit"} <= labels
    # no stateful ParDo reads a side input: Prism schedules such a stage only when its input
    # watermark moves, so its elements (edits, deletes) waited for the next later event, and
    # the sink's in-order commit of their partition with them (transforms/rules._Chains)
    visitor = _StatefulSideInputs()
    p.visit(visitor)
    assert visitor.found == []
