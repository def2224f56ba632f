"""The runner is configuration: which Beam options `archiefstroom run` hands to Beam."""
from __future__ import annotations

import pickle

import pytest

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from archiefstroom import runtimes
from archiefstroom.transforms.drain import DrainSignal


def _runner(args):
    return PipelineOptions(args).view_as(StandardOptions).runner


def test_prism_is_the_default_with_the_binary_setup_built(monkeypatch):
    monkeypatch.setenv(runtimes.PRISM_ENV, "/opt/prism")
    args = runtimes.beam_args("prism", [])
    assert _runner(args) == "PrismRunner"
    assert "--prism_location=/opt/prism" in args
    assert "--experiments=prism_disable_sdf_split" in args
    opts = runtimes.options("prism", [])
    assert opts.view_as(StandardOptions).streaming is True
    assert opts.get_all_options()["job_server_timeout"] == 10 * 365 * 86400


def test_the_command_line_wins_over_the_config_which_wins_over_defaults(monkeypatch):
    monkeypatch.setenv(runtimes.PRISM_ENV, "/opt/prism")
    args = runtimes.beam_args("prism", ["--parallelism=3"], ["--runner", "flink", "--parallelism=2"])
    assert _runner(args) == "FlinkRunner"
    all_opts = PipelineOptions(args).get_all_options()
    assert all_opts["parallelism"] == 2 and all_opts["flink_master"] == "[local]"
    assert not any(a.startswith("--prism_location") for a in args)
    # a runner Beam knows by name passes through unchanged
    assert _runner(runtimes.beam_args("DataflowRunner", [])) == "DataflowRunner"
    # an explicit prism binary is not replaced
    args = runtimes.beam_args("prism", ["--prism_location=/elsewhere/prism"])
    assert [a for a in args if a.startswith("--prism_location")] == ["--prism_location=/elsewhere/prism"]


def test_a_drain_request_is_seen_by_a_copy_of_the_signal_in_another_worker(tmp_path):
    here = DrainSignal.for_run(tmp_path, "group/with:odd chars")
    there = pickle.loads(pickle.dumps(here))          # what a worker process gets
    assert there.path == here.path and "/" not in there.path[len(str(tmp_path)) + 5:]
    assert not there.requested()
    here.request()
    there._checked = 0.0                               # do not wait for the next look
    assert there.requested()
    here.clear()
    assert not DrainSignal(here.path).requested()


@pytest.mark.parametrize("runner, extra, expected", [
    ("prism", [], True),                                     # Prism's default environment is LOOPBACK
    ("flink", [], True),                                     # our Flink default: LOOPBACK
    ("flink", ["--environment_type=EXTERNAL", "--environment_config=localhost:50000"], False),
    ("dataflow", [], False),
])
def test_models_are_prepared_in_the_launcher_only_when_the_workers_run_there(runner, extra, expected):
    assert runtimes.workers_in_this_process(runtimes.options(runner, [], extra)) is expected
