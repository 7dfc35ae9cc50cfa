"""The Kubernetes manifests under deploy/kubernetes, checked statically:
every resource against Kubernetes' own schemas (kubernetes-validate,
strict: an unknown or misspelt field fails), then what the schemas cannot
say: the probes hit the proxy's real health routes (asked of a running
proxy), the grace period covers the drain and the flush, the settings are
the proxy's own variables, and the collector gateway's config wires every
component it names."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from conftest import Stack

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.33.0"


def documents() -> list[tuple[str, dict[str, Any]]]:
    out = []
    # optional/: applied on their own (kubectl apply -f deploy/kubernetes/ leaves them out).
    for path in [*sorted(K8S.glob("*.yaml")), *sorted(K8S.glob("optional/*.yaml"))]:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out.append((path.name, doc))
    return out


def resource(kind: str, name: str) -> dict[str, Any]:
    for _, doc in documents():
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind}/{name} under deploy/kubernetes")


@pytest.mark.parametrize("name,doc", documents(), ids=lambda v: v if isinstance(v, str) else f"{v['kind']}/{v['metadata']['name']}")
def test_manifest_is_valid_kubernetes(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_validator_rejects_a_misspelt_field() -> None:
    doc = resource("Deployment", "llmproxy")
    bad = yaml.safe_load(yaml.safe_dump(doc))
    bad["spec"]["template"]["spec"]["terminationGracePeriodSecond"] = 75
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)


def test_scaled_deployment_with_graceful_rollout() -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in documents()}
    for want in [
        ("Deployment", "llmproxy"), ("Service", "llmproxy"), ("HorizontalPodAutoscaler", "llmproxy"),
        ("PodDisruptionBudget", "llmproxy"), ("ConfigMap", "llmproxy"), ("Secret", "llmproxy"),
        ("StatefulSet", "otel-collector"), ("Service", "otel-collector"), ("ConfigMap", "otel-collector"),
    ]:
        assert want in kinds, f"missing {want}"
    dep = resource("Deployment", "llmproxy")
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    config = resource("ConfigMap", "llmproxy")["data"]
    shutdown = int(re.fullmatch(r"(\d+)s", config["SHUTDOWN_TIMEOUT"]).group(1))
    pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    # preStop, then draining calls, then flushing spans (bounded by as long again).
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + 2 * shutdown
    assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    hpa = resource("HorizontalPodAutoscaler", "llmproxy")
    pdb = resource("PodDisruptionBudget", "llmproxy")
    assert hpa["spec"]["minReplicas"] > pdb["spec"]["minAvailable"]
    assert pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    svc = resource("Service", "llmproxy")
    assert svc["spec"]["selector"] == dep["spec"]["template"]["metadata"]["labels"]
    assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"]


def test_probes_hit_real_routes(stack: Stack) -> None:
    (c,) = resource("Deployment", "llmproxy")["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        path = c[probe]["httpGet"]["path"]
        with urllib.request.urlopen(stack.proxy + path, timeout=5) as resp:
            assert resp.status == 200, (probe, path)
    ann = resource("Deployment", "llmproxy")["spec"]["template"]["metadata"]["annotations"]
    with urllib.request.urlopen(stack.proxy + ann["prometheus.io/path"], timeout=5) as resp:
        assert b"llmproxy_streams_in_flight" in resp.read()  # the scrape target is the metrics


def test_settings_are_proxy_variables() -> None:
    known = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M))
    config = resource("ConfigMap", "llmproxy")["data"]
    secret = resource("Secret", "llmproxy")["stringData"]
    for key in [*config, *secret]:
        assert key in known, f"{key} is no variable of the proxy (.env.example lists them all)"
    # The proxy's spans go to the collector gateway's Service.
    gateway = resource("Service", "otel-collector")
    port = next(p["port"] for p in gateway["spec"]["ports"] if p["name"] == "otlp-grpc")
    assert config["PHOENIX_COLLECTOR_ENDPOINT"] == f"http://otel-collector:{port}"


def test_collector_config_wires_its_components() -> None:
    cfg = yaml.safe_load(resource("ConfigMap", "otel-collector")["data"]["config.yaml"])
    service = cfg["service"]
    for ext in service["extensions"]:
        assert ext in cfg["extensions"], ext
    for name, pipeline in service["pipelines"].items():
        for section in ("receivers", "processors", "exporters"):
            for comp in pipeline.get(section, []):
                assert comp in cfg[section], f"pipeline {name}: {section[:-1]} {comp} is not defined"
    assert service["pipelines"]["traces"]["processors"][-1] == "batch"
    (exporter,) = service["pipelines"]["traces"]["exporters"]
    queue = cfg["exporters"][exporter]["sending_queue"]
    assert queue["enabled"] and queue["storage"] in service["extensions"], "the sending queue must persist"
    assert cfg["exporters"][exporter]["retry_on_failure"]["enabled"]
    storage_dir = cfg["extensions"][queue["storage"]]["directory"]
    sts = resource("StatefulSet", "otel-collector")
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    assert mounts.get(storage_dir) in claims, "the queue's directory must be on a persistent volume"


def test_optional_redis_is_the_one_the_proxy_is_told_of() -> None:
    """The ConfigMap's commented SESSION_REDIS_URL names the optional Redis's
    Service and port, and its Redis keeps nothing on disk."""
    m = re.search(r"^\s*# SESSION_REDIS_URL: redis://([a-z0-9-]+):(\d+)$", (K8S / "llmproxy.yaml").read_text(), re.M)
    assert m, "llmproxy.yaml does not show SESSION_REDIS_URL"
    svc = resource("Service", m.group(1))
    assert int(m.group(2)) in [p["port"] for p in svc["spec"]["ports"]]
    (c,) = resource("Deployment", m.group(1))["spec"]["template"]["spec"]["containers"]
    args = c["args"]
    assert args[args.index("--save") + 1] == "" and args[args.index("--appendonly") + 1] == "no", args
    assert args[args.index("--maxmemory-policy") + 1] == "volatile-lru", args
