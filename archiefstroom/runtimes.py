"""Which Beam runner runs the pipeline, and with which options: configuration only.

`pipeline.runner` in the config (or `--runner` on the command line) names it:
  prism    Beam's portable local runner, the embedded default, with its workers in this
           process (LOOPBACK) and bundle splitting off (see beam_args). The binary is built
           by scripts/setup with `go install .../cmd/prism@v<beam version>` into
           .venv/bin; without it Beam downloads its release binary (needs internet).
  flink    Beam's portable Flink runner (FlinkRunner), by default an embedded Flink 1.19
           cluster (`--flink_master=[local]`) with its workers in this process (LOOPBACK),
           parallelism 2, started through the job server scripts/setup puts in
           .venv/flink-jobserver (Beam 2.70.0 jars from Maven Central, deploy/flink/pom.xml)
           or $ARCHIEFSTROOM_FLINK_JOB_SERVER_JAR. On a cluster: `--flink_master=HOST:PORT`
           and the cluster's options (deploy/README.md).
  anything else is passed to Beam as is (DataflowRunner, a runner's class path).
Options given on the command line win over `pipeline.beam_options` in the config,
which win over these defaults; the transforms never look at the runner.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from apache_beam.options.pipeline_options import PipelineOptions, PortableOptions, StandardOptions

ALIASES = {"prism": "PrismRunner", "flink": "FlinkRunner", "dataflow": "DataflowRunner"}
PRISM_ENV = "ARCHIEFSTROOM_PRISM"
FLINK_JAR_ENV = "ARCHIEFSTROOM_FLINK_JOB_SERVER_JAR"
FLINK_VERSION = "1.19"          # the Flink of deploy/flink/pom.xml's beam-runners-flink-<version>
FLINK_PARALLELISM = 2
STREAM_DEADLINE_S = 10 * 365 * 86400


def prism_binary() -> str | None:
    """The prism binary scripts/setup built (next to this Python), $ARCHIEFSTROOM_PRISM, or on PATH."""
    if os.environ.get(PRISM_ENV):
        return os.environ[PRISM_ENV]
    here = Path(sys.executable).parent / "prism"
    if here.exists():
        return str(here)
    return shutil.which("prism")


def flink_job_server_jar() -> str | None:
    """The Flink job server launcher scripts/setup wrote (.venv/flink-jobserver, beside this
    Python's venv), or $ARCHIEFSTROOM_FLINK_JOB_SERVER_JAR. None: Beam would try to download its
    shaded job server jar, which this project's registry does not serve."""
    if os.environ.get(FLINK_JAR_ENV):
        return os.environ[FLINK_JAR_ENV]
    here = Path(sys.prefix) / "flink-jobserver" / "beam-flink-job-server.jar"
    return str(here) if here.exists() else None


def _flag(args: list[str], name: str) -> str | None:
    value = None
    for i, a in enumerate(args):
        if a == f"--{name}" and i + 1 < len(args):
            value = args[i + 1]
        elif a.startswith(f"--{name}="):
            value = a.split("=", 1)[1]
    return value


def runner_for(runner: str, beam_options: list[str], argv: list[str] | None = None) -> str:
    """Beam's name of the runner that will run: `--runner` given, else the config's."""
    name = _flag([*beam_options, *(argv or [])], "runner") or runner
    return ALIASES.get(name.lower(), name)


def beam_args(runner: str, beam_options: list[str], argv: list[str] | None = None) -> list[str]:
    """The argument list handed to PipelineOptions: defaults, then config, then command line."""
    given = [*beam_options, *(argv or [])]
    name = runner_for(runner, beam_options, argv)
    defaults = [f"--runner={name}"]
    if name in ("PrismRunner", "FlinkRunner", "PortableRunner"):
        # Beam's portable runner uses this as the deadline of the job's state stream too:
        # a streaming job that runs longer than it (default 300 s) would fail
        defaults.append(f"--job_server_timeout={STREAM_DEADLINE_S}")
    if name == "PrismRunner":
        binary = prism_binary()
        if binary and not _flag(given, "prism_location"):
            defaults.append(f"--prism_location={binary}")
        # Prism splits a bundle that makes no progress for a while (a stage loading its models),
        # but does not hold the watermark for the split-off rest (its stage.go: "TODO what
        # happens to output watermarks on splits?"): end-of-input timers then fire before the
        # rest arrives. Its own experiment turns those splits off.
        defaults += ["--prism_log_level=warn", "--experiments=prism_disable_sdf_split"]
    if name == "FlinkRunner":
        defaults += ["--flink_master=[local]", "--environment_type=LOOPBACK",
                     f"--flink_version={FLINK_VERSION}", f"--parallelism={FLINK_PARALLELISM}"]
        jar = flink_job_server_jar()
        if jar and not _flag(given, "flink_job_server_jar"):
            defaults.append(f"--flink_job_server_jar={jar}")
        jar = _flag(given, "flink_job_server_jar") or jar
        conf = Path(jar).parent / "conf" if jar else None
        if conf is not None and (conf / "config.yaml").exists() and not _flag(given, "flink_conf_dir"):
            # the embedded cluster's endpoints on 127.0.0.1 (deploy/flink/conf); Beam's Flink
            # runner reads it as its FlinkPipelineOptions.flinkConfDir
            defaults.append(f"--flink_conf_dir={conf}")
    return [*defaults, *_without(given, "runner")]


def _without(args: list[str], name: str) -> list[str]:
    """`args` less `--name VALUE` / `--name=VALUE` (the resolved value is in the defaults)."""
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == f"--{name}":
            skip = True
        elif not a.startswith(f"--{name}="):
            out.append(a)
    return out


def options(runner: str, beam_options: list[str], argv: list[str] | None = None) -> PipelineOptions:
    opts = PipelineOptions(beam_args(runner, beam_options, argv))
    opts.view_as(StandardOptions).streaming = True
    return opts


def workers_in_this_process(opts) -> bool:
    """Whether the SDK workers run in the launching process (LOOPBACK; Prism's default), so
    that models built here before the job starts are the ones the workers use."""
    env = opts.view_as(PortableOptions).environment_type
    runner = (opts.view_as(StandardOptions).runner or "").lower()
    return (env or "").upper() == "LOOPBACK" or (not env and "prism" in runner)
