"""deploy/k8s: every manifest against the Kubernetes JSON schemas (kubernetes-validate, strict),
every custom resource against its operator's CRD openAPIV3Schema shipped in deploy/k8s/schemas,
the ConfigMaps' archiefstroom.yaml and connector configs through the project's own loaders, the
probes against the metrics endpoints those configs bind, and the ServiceMonitor's scrape jobs
against the job matchers of deploy/observability/alerts.yaml and dashboard.json."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from archiefstroom.connectors.settings import ConnectorSettings
from archiefstroom.ground import config
from archiefstroom.ground.settings import load_yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
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
    assert ("monitoring.coreos.com/v1", "ServiceMonitor") in CRDS
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
    monitor = next(p.values[0] for p in DOCS if p.values[0]["kind"] == "ServiceMonitor")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**monitor, "spec": {**monitor["spec"], "endpoints": [{"port": "metrics", "scheme": "gopher"}]}},
                            CRDS[("monitoring.coreos.com/v1", "ServiceMonitor")])
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


def _mounted(pod, container, path):
    """(ConfigMap name, key) of the file `path` in `container`, through its volume mounts."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    for m in container.get("volumeMounts", []):
        mount = m["mountPath"].rstrip("/")
        if m.get("subPath") and path == mount:
            key = m["subPath"]
        elif not m.get("subPath") and path.startswith(mount + "/"):
            key = path[len(mount) + 1:]
        else:
            continue
        cm = volumes[m["name"]]["configMap"]
        items = {i["path"]: i["key"] for i in cm.get("items", [])}
        return cm["name"], items.get(key, key) if items else key
    raise AssertionError(f"{container['name']}: {path} is not mounted from a ConfigMap")


def _configmap_file(name, key, tmp_path):
    doc = next(d for d in _of("ConfigMap") if d["metadata"]["name"] == name)
    f = tmp_path / f"{name}-{key}"
    f.write_text(doc["data"][key])
    return f


def _endpoint(pod, container, cfg, tmp_path):
    """(host, port) the archiefstroom process of `container` binds its /metrics, /healthz and
    /readyz to, from the config files the container mounts."""
    args = container["args"]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert _mounted(pod, container, env["ARCHIEFSTROOM_CONFIG"]) == ("archiefstroom-config", "archiefstroom.yaml")
    if args[1] == "run":
        return cfg.pipeline.metrics_host, cfg.pipeline.metrics_port
    if args[1:3] == ["catalog", "run"]:
        return cfg.catalog.metrics_host, cfg.catalog.metrics_port
    if args[1] == "web":
        return cfg.web.metrics_host, cfg.web.metrics_port
    if args[1] == "connect":
        s = load_yaml(_configmap_file(*_mounted(pod, container, args[args.index("--config") + 1]), tmp_path),
                      ConnectorSettings)
        assert s.platform == args[2]
        return s.metrics_host, s.metrics_port
    raise AssertionError(f"{container['name']}: which settings bind the endpoint of {args}?")


def _container_port(container, port):
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    declared = {p["containerPort"] for p in container.get("ports", [])}
    number = ports.get(port, port)
    assert number in declared, (container["name"], port, "is not a port the container declares")
    return number


def _assert_probed(container, host, port):
    """Liveness /healthz and readiness /readyz (and /healthz for a startup probe) over HTTP on a
    declared port of the container, the one its process binds on all interfaces."""
    paths = {"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"}
    for kind, path in paths.items():
        if kind == "startupProbe" and kind not in container:
            continue
        assert "httpGet" in container.get(kind, {}), (container["name"], kind, "is not an httpGet probe")
        get = container[kind]["httpGet"]
        assert get["path"] == path, (container["name"], kind, get["path"])
        assert _container_port(container, get["port"]) == port, (container["name"], kind, get["port"], port)
        assert container[kind].get("timeoutSeconds", 1) < container[kind].get("periodSeconds", 10), (container["name"], kind)
    assert host == "0.0.0.0", (container["name"], f"binds {host}: the kubelet and Prometheus cannot reach it")


def _process_containers():
    """(Deployment, pod spec, container) of every archiefstroom process."""
    for d in _of("Deployment"):
        pod = d["spec"]["template"]["spec"]
        for c in pod["containers"]:
            if c.get("args", [None])[0] == "archiefstroom":
                yield d, pod, c


def test_every_deployment_runs_an_archiefstroom_process():
    assert {d["metadata"]["name"] for d, _, _ in _process_containers()} == {d["metadata"]["name"] for d in _of("Deployment")}


def test_processes_have_http_probes_on_the_endpoint_their_config_binds(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    seen = set()
    for d, pod, c in _process_containers():
        host, port = _endpoint(pod, c, cfg, tmp_path)
        assert port, (d["metadata"]["name"], "metrics endpoint is off")
        _assert_probed(c, host, port)
        seen.add(c["args"][1])
    assert seen == {"run", "catalog", "web", "connect"}
    pipeline = next(c for d, _, c in _process_containers() if d["metadata"]["name"] == "archiefstroom-pipeline")
    # the pipeline loads its models for about 30 s before its job is submitted (ready)
    assert pipeline["readinessProbe"]["initialDelaySeconds"] >= 30
    assert cfg.web.metrics_port != cfg.web.port


def test_probe_check_refuses_loopback_and_undeclared_ports(tmp_path, monkeypatch):
    cfg = _cfg(tmp_path, monkeypatch)
    d, pod, c = next(x for x in _process_containers() if x[0]["metadata"]["name"] == "archiefstroom-catalog")
    host, port = _endpoint(pod, c, cfg, tmp_path)
    _assert_probed(c, host, port)
    with pytest.raises(AssertionError):
        _assert_probed(c, "127.0.0.1", port)
    with pytest.raises(AssertionError):
        _assert_probed(c, host, port + 1)
    with pytest.raises(AssertionError):
        _assert_probed({**c, "ports": []}, host, port)
    with pytest.raises(AssertionError):
        _assert_probed({**c, "livenessProbe": {"exec": {"command": ["true"]}}}, host, port)


def _selects(selector, labels):
    assert set(selector) <= {"matchLabels"}, f"selector not understood by this test: {selector}"
    return selector.get("matchLabels", {}).items() <= labels.items()


def _scrape_jobs():
    """job -> Deployment name, as the Prometheus Operator builds the targets of each
    ServiceMonitor: the Services it selects in its namespaces, the endpoint's named port, the
    job from the Service's `jobLabel` label (else the Service's name); the Service's selector
    picks the pods, its targetPort their container's named port."""
    jobs = {}
    for sm in _of("ServiceMonitor"):
        spec = sm["spec"]
        namespaces = spec.get("namespaceSelector", {}).get("matchNames", [sm["metadata"]["namespace"]])
        for svc in _of("Service"):
            labels = svc["metadata"].get("labels", {})
            if svc["metadata"]["namespace"] not in namespaces or not _selects(spec["selector"], labels):
                continue
            for ep in spec["endpoints"]:
                port = next((p for p in svc["spec"]["ports"] if p.get("name") == ep["port"]), None)
                if port is None:
                    continue
                assert ep.get("path", "/metrics") == "/metrics" and ep.get("scheme", "http") == "http"
                job = labels.get(spec.get("jobLabel"), svc["metadata"]["name"])
                pods = [(d, c) for d, _, c in _process_containers()
                        if d["metadata"]["namespace"] == svc["metadata"]["namespace"]
                        and svc["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()]
                assert len(pods) == 1, (svc["metadata"]["name"], "selects", [d["metadata"]["name"] for d, _ in pods])
                (d, c), = pods
                target = _container_port(c, port["targetPort"])
                assert target == _container_port(c, c["livenessProbe"]["httpGet"]["port"]), (job, "scrapes another port than the probes")
                assert job not in jobs, f"job {job} twice"
                jobs[job] = d["metadata"]["name"]
    return jobs


def _job_matchers():
    """(operator, value) of every `job` label matcher in the alert rules and the dashboard."""
    exprs = [r["expr"] for g in yaml.safe_load((DEPLOY / "observability" / "alerts.yaml").read_text())["groups"]
             for r in g["rules"]]
    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "expr" and isinstance(v, str):
                    exprs.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(json.loads((DEPLOY / "observability" / "dashboard.json").read_text()))
    return {m for e in exprs for m in re.findall(r'\bjob\s*(=~|!~|!=|=)\s*"([^"]*)"', e)}


def test_every_process_is_scraped_under_the_job_name_the_alerts_expect():
    # alerts.yaml: "Scrape jobs are expected to be named archiefstroom-pipeline, -catalog, -web,
    # -connector-*": one job per connector Deployment, named as the Deployment
    expected = {}
    for d, _, c in _process_containers():
        name = d["metadata"]["name"]
        if c["args"][1] == "connect":
            assert name.startswith("archiefstroom-connector-"), name
            expected[name] = name
        else:
            expected[name] = {"run": "archiefstroom-pipeline", "catalog": "archiefstroom-catalog",
                              "web": "archiefstroom-web"}[c["args"][1]]
    jobs = _scrape_jobs()
    assert {deployment: job for job, deployment in jobs.items()} == expected
    assert {"archiefstroom-pipeline", "archiefstroom-catalog", "archiefstroom-web"} <= set(jobs)
    assert any(j.startswith("archiefstroom-connector-") for j in jobs)


def test_every_job_matcher_of_the_alerts_and_dashboard_matches_a_scrape_job():
    jobs = set(_scrape_jobs())
    matchers = _job_matchers()
    assert ("=~", "archiefstroom-.*") in matchers      # ArchiefstroomTargetDown
    for op, value in matchers:
        if op == "=~":
            assert any(re.fullmatch(value, j) for j in jobs), (op, value, jobs)
        elif op == "=":
            assert value in jobs, (op, value, jobs)
    # every job falls under the target-down alert's matcher
    assert all(re.fullmatch("archiefstroom-.*", j) for j in jobs)


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
