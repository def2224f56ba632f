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


def test_flink_defaults_embedded_cluster_loopback_and_the_job_server_setup_wrote(monkeypatch, tmp_path):
    jar = tmp_path / "beam-flink-job-server.jar"
    monkeypatch.setenv(runtimes.FLINK_JAR_ENV, str(jar))
    args = runtimes.beam_args("flink", [])
    assert _runner(args) == "FlinkRunner"
    opts = runtimes.options("flink", []).get_all_options()
    assert opts["flink_master"] == "[local]" and opts["environment_type"] == "LOOPBACK"
    assert opts["flink_version"] == "1.19" and opts["parallelism"] == 2
    assert opts["flink_job_server_jar"] == str(jar)
    assert opts["streaming"] is True
    assert opts["job_server_timeout"] == 10 * 365 * 86400
    assert not any(a.startswith(("--prism", "--experiments=prism")) for a in args)
    # the config's options win over the defaults, the command line over both
    opts = runtimes.options("flink", ["--parallelism=4", "--flink_job_server_jar=/opt/js.jar"],
                            ["--parallelism", "1"]).get_all_options()
    assert opts["parallelism"] == 1 and opts["flink_job_server_jar"] == "/opt/js.jar"
    args = runtimes.beam_args("flink", ["--flink_job_server_jar=/opt/js.jar"])
    assert [a for a in args if a.startswith("--flink_job_server_jar")] == ["--flink_job_server_jar=/opt/js.jar"]
    # a cluster: its master and environment replace the embedded defaults
    opts = runtimes.options("prism", ["--runner=flink", "--flink_master=flink:8081", "--environment_type=EXTERNAL",
                                      "--environment_config=localhost:50000"]).get_all_options()
    assert opts["flink_master"] == "flink:8081" and opts["environment_type"] == "EXTERNAL"


def test_flink_job_server_is_the_one_setup_wrote_beside_this_venv(monkeypatch, tmp_path):
    monkeypatch.delenv(runtimes.FLINK_JAR_ENV, raising=False)
    monkeypatch.setattr(runtimes.sys, "prefix", str(tmp_path))
    assert runtimes.flink_job_server_jar() is None
    assert not any(a.startswith("--flink_job_server_jar") for a in runtimes.beam_args("flink", []))
    jar = tmp_path / "flink-jobserver" / "beam-flink-job-server.jar"
    jar.parent.mkdir()
    jar.write_bytes(b"")
    assert runtimes.flink_job_server_jar() == str(jar)
    assert f"--flink_job_server_jar={jar}" in runtimes.beam_args("flink", [])
