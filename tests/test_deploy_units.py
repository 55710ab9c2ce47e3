"""The deployment files besides nginx: Kubernetes manifests, the systemd template, the snapshot copy script."""
import configparser
import os
import subprocess
from contextlib import ExitStack

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_deploy import header

DEPLOY = ROOT / "deploy"


def manifests() -> dict[str, dict]:
    """Every object of deploy/k8s by kind (kustomization.yaml lists them all)."""
    listed = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["resources"]
    docs = [d for name in listed for d in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()) if d]
    return {d["kind"]: d for d in docs}


def test_kubernetes_replicas_read_one_snapshot_read_only_and_report_ready():
    k = manifests()
    assert set(k) == {"Deployment", "Service", "Ingress", "ConfigMap"}
    pod = k["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"][-2:] == ["-m", "keck_data.ui.serve"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KECK_MODE"] == "public" and env["KECK_PUBLIC_WAREHOUSE"].startswith("/snapshot/")
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in env  # one secret for all replicas
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/snapshot")
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert mount["readOnly"] and volume["persistentVolumeClaim"]["readOnly"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/_stcore/health", "port": "http"}
    assert container["ports"][0]["containerPort"] == int(container["args"][container["args"].index("--server.port") + 1])
    assert container["securityContext"]["readOnlyRootFilesystem"] and pod["securityContext"]["runAsNonRoot"]
    assert k["Deployment"]["spec"]["replicas"] >= 2
    assert k["Service"]["spec"]["selector"] == k["Deployment"]["spec"]["selector"]["matchLabels"]


def test_kubernetes_ingress_keeps_a_visitor_on_one_replica_with_the_proxy_headers():
    k = manifests()
    notes = k["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # the websocket stays open
    backend = k["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == k["Service"]["metadata"]["name"] and k["Ingress"]["spec"]["tls"]
    namespace, name = notes["nginx.ingress.kubernetes.io/custom-headers"].split("/")
    assert name == k["ConfigMap"]["metadata"]["name"]
    assert namespace == yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["namespace"]
    for key, value in k["ConfigMap"]["data"].items():  # the same headers as deploy/nginx.conf
        assert value == header(key), key


def test_systemd_template_runs_one_public_replica_per_port():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string((DEPLOY / "keck-public@.service").read_text().replace("\\\n", ""))
    service = unit["Service"]
    assert "-m keck_data.ui.serve --server.port %i --server.address 127.0.0.1" in service["ExecStart"]
    assert "KECK_MODE=public" in service["Environment"] and service["Restart"] == "always"
    assert service["ProtectSystem"] == "strict" and "/srv/keck-atlas" in service["ReadOnlyPaths"]


@pytest.fixture()
def replica_dirs(tmp_path):
    dirs = [tmp_path / "web1", tmp_path / "web2"]
    for d in dirs:
        d.mkdir()
        (d / "public.duckdb").write_bytes(b"old snapshot")
    return dirs


def test_push_snapshot_replaces_each_copy_by_rename(tmp_path, replica_dirs):
    new = tmp_path / "public.duckdb"
    new.write_bytes(b"new snapshot" * 1000)
    targets = [d / "public.duckdb" for d in replica_dirs]
    before = [os.stat(t).st_ino for t in targets]
    with ExitStack() as stack:
        held = [stack.enter_context(open(t, "rb")) for t in targets]  # replicas still reading the old file
        subprocess.run(["bash", str(DEPLOY / "push_snapshot.sh"), str(new), *map(str, targets)], check=True,
                       capture_output=True)
        assert [f.read() for f in held] == [b"old snapshot"] * 2  # … read it whole
    assert [t.read_bytes() for t in targets] == [new.read_bytes()] * 2
    assert all(os.stat(t).st_ino != b for t, b in zip(targets, before))  # a new file, not written in place
    assert sorted(p.name for d in replica_dirs for p in d.iterdir()) == ["public.duckdb"] * 2  # no temp left


def test_push_snapshot_refuses_a_missing_snapshot_and_keeps_the_old_one(tmp_path, replica_dirs):
    result = subprocess.run(["bash", str(DEPLOY / "push_snapshot.sh"), str(tmp_path / "missing.duckdb"),
                             str(replica_dirs[0] / "public.duckdb")], check=False, capture_output=True, text=True)
    assert result.returncode == 1 and "fehlt" in result.stderr
    assert (replica_dirs[0] / "public.duckdb").read_bytes() == b"old snapshot"
