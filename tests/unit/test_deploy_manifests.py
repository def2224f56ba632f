"""deploy/k8s: every manifest against the Kubernetes JSON schemas (kubernetes-validate, strict),
every custom resource against its operator's CRD openAPIV3Schema shipped in deploy/k8s/schemas,
and the ConfigMap's archiefstroom.yaml through the project's own config loader."""
from __future__ import annotations

import base64
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from archiefstroom.ground import config

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"
CRD_FILES = sorted((K8S / "schemas").glob("*/*.y*ml"))
BUILT_IN_GROUPS = ("apps", "rbac.authorization.k8s.io")


def _custom(api_version: str) -> bool:
    group = api_version.split("/")[0] if "/" in api_version else ""
    return "." in group and group not in BUILT_IN_GROUPS


def _docs():
    out = []
    for path in sorted(K8S.rglob("*.yaml")):
        if "schemas" in path.relative_to(K8S).parts or path.name == "kustomization.yaml":
            continue
        for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                out.append(pytest.param(doc, id=f"{path.relative_to(K8S)}#{i}:{doc.get('kind')}"))
    return out


DOCS = _docs()


def _crd_schemas():
    schemas = {}
    for f in CRD_FILES:
        crd = yaml.safe_load(f.read_text())
        assert crd["kind"] == "CustomResourceDefinition"
        for v in crd["spec"]["versions"]:
            if v.get("served"):
                key = (f"{crd['spec']['group']}/{v['name']}", crd["spec"]["names"]["kind"])
                schemas[key] = v["schema"]["openAPIV3Schema"]
    return schemas


CRDS = _crd_schemas()


def test_shipped_crds_cover_the_custom_resources_used():
    assert {("kafka.strimzi.io/v1", k) for k in ("Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser")} <= set(CRDS)
    assert ("flink.apache.org/v1beta1", "FlinkDeployment") in CRDS
    used = {(p.values[0]["apiVersion"], p.values[0]["kind"]) for p in DOCS if _custom(p.values[0]["apiVersion"])}
    assert used <= set(CRDS), used - set(CRDS)


@pytest.mark.parametrize("doc", DOCS)
def test_manifest_is_valid(doc):
    key = (doc["apiVersion"], doc["kind"])
    if key in CRDS:
        # openAPIV3Schema is a JSON-schema dialect; x-kubernetes-* keywords are ignored
        jsonschema.validate(doc, CRDS[key], cls=jsonschema.Draft7Validator)
        return
    assert not _custom(doc["apiVersion"]), f"custom resource without a shipped CRD: {key}"
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_validation_rejects_a_broken_resource():
    """The checks above can fail: a wrong field type is refused by both validators."""
    topic = next(p.values[0] for p in DOCS if p.values[0]["kind"] == "KafkaTopic")
    bad = {**topic, "spec": {**topic["spec"], "partitions": "many"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, CRDS[("kafka.strimzi.io/v1", "KafkaTopic")])
    dep = next(p.values[0] for p in DOCS if p.values[0]["kind"] == "Deployment")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**dep, "spec": {**dep["spec"], "replicas": "one"}}, KUBERNETES_VERSION, strict=True)


def _of(kind):
    return [p.values[0] for p in DOCS if p.values[0]["kind"] == kind]


def _cfg(tmp_path, monkeypatch):
    text = next(d for d in _of("ConfigMap") if d["metadata"]["name"] == "archiefstroom-config")["data"]["archiefstroom.yaml"]
    p = tmp_path / "archiefstroom.yaml"
    p.write_text(text)
    for k in ("ARCHIEFSTROOM_KAFKA_USERNAME", "ARCHIEFSTROOM_KAFKA_PASSWORD"):
        monkeypatch.setenv(k, "test-only")
    monkeypatch.setenv("ARCHIEFSTROOM_VAULT_KEY", "base64:" + base64.b64encode(bytes(32)).decode())
    return config.load(p)


def test_configmap_is_a_valid_production_config(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    assert cfg.s3.object_lock == "on" and cfg.s3.create_bucket is False
    assert cfg.pseudonymisation.allow_dev_key is False
    assert cfg.catalog.index_in_run is False
    assert cfg.s3.secret_access_key is None and cfg.s3.access_key_id is None


def test_every_topic_of_the_config_has_a_kafkatopic(tmp_path, monkeypatch):
    from archiefstroom import stack
    cfg = _cfg(tmp_path, monkeypatch)
    topics = {d["spec"]["topicName"]: d["spec"] for d in _of("KafkaTopic")}
    wanted = set(stack.topics(cfg)) | {cfg.topics.connector_checkpoints, cfg.catalog.announce_topic}
    assert wanted == set(topics), wanted ^ set(topics)
    compacted = set(stack.compacted_topics(cfg)) | {cfg.topics.connector_checkpoints}
    for name, spec in topics.items():
        assert (spec["config"]["cleanup.policy"] == "compact") == (name in compacted), name
        assert spec["config"]["max.message.bytes"] >= cfg.pipeline.max_event_bytes
    assert topics[cfg.topics.connector_checkpoints]["partitions"] == 1


def _acls(user):
    u = next(d for d in _of("KafkaUser") if d["metadata"]["name"] == user)
    return {(a["resource"]["type"], a["resource"]["name"], op) for a in u["spec"]["authorization"]["acls"]
            for op in a["operations"]}


def test_webcare_reads_alerts_and_writes_feedback_only():
    ops = {(n, op) for t, n, op in _acls("archiefstroom-webcare") if op != "Describe"}
    assert ops == {("archiefstroom.burgerbrief.alerts", "Read"), ("archiefstroom.burgerbrief.feedback", "Write")}
    assert all(t == "topic" for t, _, _ in _acls("archiefstroom-webcare"))


def test_least_privilege_acls():
    for user in ("archiefstroom-pipeline", "archiefstroom-connector", "archiefstroom-catalog"):
        acls = _acls(user)
        assert not any(op in ("All", "Alter", "Delete", "Create") for _, _, op in acls), user
        assert not any(n == "*" for _, n, _ in acls), user
    assert {n for _, n, op in _acls("archiefstroom-connector") if op == "Write"} == {
        "archiefstroom.raw", "archiefstroom.connector-checkpoints"}
    assert not any(n == "archiefstroom.burgerbrief.alerts" and op == "Read" for _, n, op in _acls("archiefstroom-pipeline"))


def _pods():
    for d in _of("Deployment"):
        yield d["metadata"]["name"], d["spec"]["template"]["spec"]
    for d in _of("FlinkDeployment"):
        yield d["metadata"]["name"] + "/taskmanager", d["spec"]["taskManager"]["podTemplate"]["spec"]


def test_containers_non_root_with_resources_and_no_literal_secrets():
    for name, pod in _pods():
        for c in pod["containers"]:
            sc = {**pod.get("securityContext", {}), **c.get("securityContext", {})}
            assert sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) != 0, (name, c["name"])
            assert sc.get("allowPrivilegeEscalation") is False, (name, c["name"])
            r = c["resources"]
            assert r["requests"]["cpu"] and r["requests"]["memory"] and r["limits"]["memory"], (name, c["name"])
            for e in c.get("env", []):
                if any(w in e["name"] for w in ("PASSWORD", "SECRET", "TOKEN", "KEY")):
                    assert "value" not in e and "valueFrom" in e, (name, e["name"])


def test_long_running_processes_with_endpoints_have_probes():
    pods = dict(_pods())
    web = pods["archiefstroom-web"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/login"
    conn = pods["archiefstroom-connector-mastodon"]["containers"][0]
    assert "9464/metrics" in " ".join(conn["livenessProbe"]["exec"]["command"])


def test_secrets_hold_placeholders_only():
    for s in _of("Secret"):
        assert "data" not in s, s["metadata"]["name"]
        for k, v in s["stringData"].items():
            assert v == "REPLACE-FROM-SECRET-STORE", (s["metadata"]["name"], k)


def test_kustomization_lists_every_manifest():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    files = {str(p.relative_to(K8S)) for p in K8S.rglob("*.yaml")
             if "schemas" not in p.relative_to(K8S).parts and p.name != "kustomization.yaml"}
    assert listed == files
