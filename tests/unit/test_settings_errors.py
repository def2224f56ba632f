"""The loader's messages, pinned word for word: a hand-written table of bad YAML files and the
exact ConfigError each gives (file, line, field, what was expected, what was found). Pydantic
validates; these pin that its error types and locations still come out as our messages."""
from __future__ import annotations

import pytest

from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.core.platforms.assessment import PlatformAssessment
from archiefstroom.core.rules.registry import AccountsFile, HotspotsFile, PlatformsFile
from archiefstroom.ground.config import Config
from archiefstroom.ground.settings import ConfigError, from_dict, load_yaml

SECRETS = ("ARCHIEFSTROOM_KAFKA_USERNAME", "ARCHIEFSTROOM_KAFKA_PASSWORD", "ARCHIEFSTROOM_CATALOG_PASSWORD",
           "ARCHIEFSTROOM_VAULT_KEY", "ARCHIEFSTROOM_S3_SECRET_ACCESS_KEY")
MASTODON = "platform: mastodon\nbase_url: https://social.example\n"

CASES = [
    # wrong type
    (Config, "topics:\n  partitions: many\n",
     "2: field 'topics.partitions': expected an integer, got 'many'"),
    (Config, "web:\n  secure_cookie: nee\n",
     "2: field 'web.secure_cookie': expected true or false, got 'nee'"),
    (Config, "kafka: 5\n",
     "1: field 'kafka': expected a mapping, got 5"),
    (Config, "kafka:\n  bootstrap_servers: localhost:9092\n",
     "2: field 'kafka.bootstrap_servers': expected a list, got 'localhost:9092'"),
    (Config, "data_dir: [data]\n",
     "1: field 'data_dir': expected a path, got ['data']"),
    (Config, "- kafka\n",
     "1: field '<root>': expected a mapping, got ['kafka']"),
    (HotspotsFile, "hotspots:\n  - name: herfst\n    end: '2026-09-31'\n    terms: [storm]\n",
     "3: field 'hotspots[0].end': expected a date YYYY-MM-DD, got '2026-09-31'"),
    # not one of a Literal's values
    (Config, "pipeline:\n  codec: zip\n",
     "2: field 'pipeline.codec': expected one of 'deflate', 'snappy', 'zstandard', 'null', got 'zip'"),
    (AccountsFile, "accounts:\n  - {platform: x, id: a, organisation: O, type: corporate, route: 3}\n",
     "2: field 'accounts[0].route': expected one of 1, 2, None, got 3"),
    # a union: each member says what it expected
    (PlatformAssessment, "name: Kwebbel\ncapture:\n  posts: {answer: misschien}\n",
     "3: field 'capture.posts.answer': expected true or false or one of 'yes', 'no', 'partial', 'to verify', "
     "'not applicable', got 'misschien'"),
    # a value failing its check()
    (Config, "s3:\n  bucket: Not_A_Bucket\n",
     "2: field 's3.bucket': expected an S3 bucket name (3-63 lowercase letters, digits, dots, dashes), "
     "got 'Not_A_Bucket'"),
    (Config, "kafka:\n  bootstrap_servers:\n    - broker:9092\n    - localhost\n",
     "3: field 'kafka.bootstrap_servers': expected a non-empty list of host:port, got ['broker:9092', 'localhost']"),
    (Config, "burgerbrief:\n  threshold: 1.5\n",
     "2: field 'burgerbrief.threshold': expected a number between 0 and 1 (exclusive), got 1.5"),
    (ConnectorSettings, MASTODON + "accounts: [{id: a}]\nmetrics_port: -1\n",
     "4: field 'metrics_port': expected a TCP port or null, got -1"),
    # an unknown field: the line of its key
    (Config, "pipline:\n  runner: local\n",
     "1: field 'pipline': expected a known field (one of: burgerbrief, catalog, data_dir, kafka, media, pipeline, "
     "pseudonymisation, retention, rules, s3, source_file, stack, topics, web), got 'pipline'"),
    (Config, "web:\n  colour:\n    - red\n",
     "2: field 'web.colour': expected a known field (one of: audit_log, host, metrics_host, "
     "metrics_port, port, secure_cookie, session_minutes, session_secret, users_file), got 'colour'"),
    # a mapping key not among a Literal's values
    (PlatformsFile, "platforms:\n  x:\n    reactions_can_be_switched_off: true\n"
                    "    harvest_window_days: {private: 3}\n",
     "4: field 'platforms.x.harvest_window_days.private': expected one of 'corporate', 'hybrid', got 'private'"),
    # a missing required field: the line of the mapping it is missing from
    (ConnectorSettings, "base_url: https://social.example\n",
     "1: field 'platform': expected this required field to be present"),
    (ConnectorSettings, "# nothing yet\n",
     "1: field 'platform': expected this required field to be present"),
    (PlatformsFile, "platforms:\n  x: {harvest_edits: true}\n",
     "2: field 'platforms.x.reactions_can_be_switched_off': expected this required field to be present"),
    # an item of a list: the line of that item
    (ConnectorSettings, MASTODON + "accounts:\n  - id: a\n  - id: '  '\n",
     "5: field 'accounts[1].id': expected a non-empty account id, got '  '"),
    (ConnectorSettings, MASTODON + "accounts:\n  - id: a\n  - handle: b\n",
     "5: field 'accounts[1].id': expected this required field to be present"),
    (ConnectorSettings, MASTODON + "accounts:\n  - id: a\n  - {id: b, colour: red}\n",
     "5: field 'accounts[1].colour': expected a known field (one of: display_name, handle, id), got 'colour'"),
    (HotspotsFile, "hotspots:\n  - name: a\n    terms: [x]\n  - name: b b\n    terms: [y]\n",
     "4: field 'hotspots[1].name': expected a name of letters, digits, . _ -, got 'b b'"),
    # a cross-field validate(): the line of the field it names, else of its mapping
    (Config, "burgerbrief:\n  alert_topic: same\n  feedback_topic: same\n",
     "3: field 'burgerbrief.feedback_topic': expected a topic different from alert_topic"),
    (Config, "kafka:\n  security_protocol: SASL_SSL\n  sasl_mechanism: PLAIN\n",
     "3: field 'kafka.sasl_mechanism': expected a mechanism, username and password when security_protocol is SASL_*"),
    (Config, "retention:\n  by_event_type:\n    post: '7.7'\n",
     "3: field 'retention.by_event_type.post': expected a category code defined under categories (1.1, 1.2, 1.3), "
     "got '7.7'"),
    (Config, "retention:\n  categories:\n    '1.1': {retention_class: V}\n",
     "3: field 'retention.categories.1.1.years': expected a number of years >= 0 for a V (vernietigen) category"),
    (Config, "pseudonymisation:\n  vault:\n    enabled: true\n",
     "3: field 'pseudonymisation.vault.key': expected ARCHIEFSTROOM_VAULT_KEY or key_file when the vault is enabled"),
    (HotspotsFile, "hotspots:\n  - name: a\n    start: 2026-10-10\n    end: 2026-10-01\n    terms: [x]\n",
     "4: field 'hotspots[0].end': expected a date on or after start"),
    (ConnectorSettings, "platform: x\nmode: webhook\naccounts: [{id: '1'}]\n",
     "2: field 'mode': expected poll or stream (webhooks exist for facebook and instagram)"),
]


@pytest.fixture(autouse=True)
def no_secrets_in_the_environment(monkeypatch):
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("cls, text, message", CASES, ids=[c[2].split(": expected")[0] for c in CASES])
def test_a_bad_file_gives_exactly_this_message(tmp_path, cls, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_yaml(path, cls)
    assert str(err.value) == f"{path}:{message}"
    line, field = message.split(": ")[0], message.split("'")[1]
    assert (err.value.line, err.value.field) == (int(line), field if field != "<root>" else "")


def test_a_secret_from_the_environment_wins_over_the_file(tmp_path, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_text("kafka:\n  security_protocol: SASL_SSL\n  sasl_mechanism: PLAIN\n"
                    "  sasl_username: from-file\n  sasl_password: from-file\n")
    monkeypatch.setenv("ARCHIEFSTROOM_KAFKA_PASSWORD", "from-env")
    kafka = load_yaml(path, Config).kafka
    assert (kafka.sasl_username, kafka.sasl_password) == ("from-file", "from-env")


def test_a_secret_from_the_environment_counts_in_cross_field_checks(tmp_path, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_text("kafka:\n  security_protocol: SASL_SSL\n  sasl_mechanism: PLAIN\n"
                    "pseudonymisation:\n  vault:\n    enabled: true\n")
    monkeypatch.setenv("ARCHIEFSTROOM_KAFKA_USERNAME", "archiver")
    monkeypatch.setenv("ARCHIEFSTROOM_KAFKA_PASSWORD", "s3cret")
    monkeypatch.setenv("ARCHIEFSTROOM_VAULT_KEY", "base64:key")
    cfg = load_yaml(path, Config)
    assert cfg.kafka.sasl_username == "archiver" and cfg.pseudonymisation.vault.key == "base64:key"


def test_a_secret_from_the_environment_fills_a_section_the_file_leaves_out(tmp_path, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_text("topics:\n  partitions: 1\n")
    monkeypatch.setenv("ARCHIEFSTROOM_CATALOG_PASSWORD", "pg-secret")
    monkeypatch.setenv("ARCHIEFSTROOM_S3_SECRET_ACCESS_KEY", "s3-secret")
    cfg = load_yaml(path, Config)
    assert (cfg.catalog.password, cfg.s3.secret_access_key, cfg.s3.bucket) == (
        "pg-secret", "s3-secret", "archiefstroom-archive")


def test_a_value_built_in_code_gets_the_same_checks_without_a_line(monkeypatch):
    monkeypatch.setenv("ARCHIEFSTROOM_CATALOG_PASSWORD", "pg-secret")
    given = {"catalog": {"url": "sqlite:///c.sqlite"}}
    assert from_dict(given, Config).catalog.password == "pg-secret"
    assert given == {"catalog": {"url": "sqlite:///c.sqlite"}}      # the caller's dict stays as it was
    with pytest.raises(ConfigError) as err:
        from_dict({"topics": {"partitions": 0}}, Config, source="<test>")
    assert str(err.value) == "<test>: field 'topics.partitions': expected an integer 1..1000, got 0"


def test_code_builds_and_changes_settings_without_validation():
    # the dataclasses stay plain: defaults need no loader, and a command line option overrides a loaded value
    cfg = Config()
    cfg.stack.broker = "kafka"
    assert cfg.stack.broker == "kafka" and cfg.topics.partitions == 3 and cfg.kafka.sasl_password is None
