#!/usr/bin/env python3
"""Checks deploy/k8s: every YAML file parses, every object is well-formed, and the names,
labels and ports that tie the objects together agree (selectors match pod labels, Service
target ports exist, probes use declared ports, RBAC and scale targets name real objects, the
worker's --port is its containerPort, the router's backend URL is a Service). Needs PyYAML
(Debian: python3-yaml). Prints one line per problem; exit status 1 if any."""
import os
import re
import sys

import yaml

problems = []


def problem(msg):
    problems.append(msg)


def load(directory):
    objects = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(directory, name)) as f:
            try:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                problem(f"{name}: does not parse: {e}")
                continue
        if not docs:
            problem(f"{name}: no documents")
        for d in docs:
            if not isinstance(d, dict) or "apiVersion" not in d or "kind" not in d:
                problem(f"{name}: a document without apiVersion/kind")
                continue
            if d["kind"] != "Kustomization" and not d.get("metadata", {}).get("name"):
                problem(f"{name}: {d['kind']} without metadata.name")
                continue
            objects.append((name, d))
    return objects


def find(objects, kind, name=None):
    return [d for _, d in objects if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def pod_ports(deployment):
    ports = {}
    for c in deployment["spec"]["template"]["spec"]["containers"]:
        for p in c.get("ports", []):
            ports[p["containerPort"]] = p
            if "name" in p:
                ports[p["name"]] = p
    return ports


def arg(container, flag):
    for a in container.get("args", []):
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def check(directory):
    objects = load(directory)
    namespaces = {d["metadata"]["name"] for d in find(objects, "Namespace")}
    for file, d in objects:
        ns = d.get("metadata", {}).get("namespace")
        if d["kind"] not in ("Namespace", "Kustomization") and ns not in namespaces:
            problem(f"{file}: {d['kind']} {d['metadata']['name']} in unknown namespace {ns}")
    deployments = find(objects, "Deployment")
    for dep in deployments:
        name = dep["metadata"]["name"]
        selector = dep["spec"]["selector"]["matchLabels"]
        labels = dep["spec"]["template"]["metadata"]["labels"]
        if any(labels.get(k) != v for k, v in selector.items()):
            problem(f"Deployment {name}: selector {selector} does not match pod labels {labels}")
        ports = pod_ports(dep)
        for c in dep["spec"]["template"]["spec"]["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                p = c.get(probe)
                if not p:
                    continue
                port = (p.get("httpGet") or p.get("tcpSocket") or {}).get("port")
                if port not in ports:
                    problem(f"Deployment {name}: {probe} port {port} is not a container port")
        for v in dep["spec"]["template"]["spec"].get("volumes", []):
            claim = v.get("persistentVolumeClaim", {}).get("claimName")
            if claim and not find(objects, "PersistentVolumeClaim", claim):
                problem(f"Deployment {name}: volume claims unknown PVC {claim}")
        sa = dep["spec"]["template"]["spec"].get("serviceAccountName")
        if sa and not find(objects, "ServiceAccount", sa):
            problem(f"Deployment {name}: unknown serviceAccountName {sa}")
    services = find(objects, "Service")
    for svc in services:
        name = svc["metadata"]["name"]
        selector = svc["spec"]["selector"]
        matches = [d for d in deployments
                   if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())]
        if not matches:
            problem(f"Service {name}: selector {selector} matches no Deployment's pods")
        for dep in matches:
            for p in svc["spec"]["ports"]:
                if p.get("targetPort", p["port"]) not in pod_ports(dep):
                    problem(f"Service {name}: targetPort {p.get('targetPort')} not in {dep['metadata']['name']}")
    service_ports = {(s["metadata"]["name"], p["port"]) for s in services for p in s["spec"]["ports"]}

    worker = find(objects, "Deployment", "dte-worker")
    router = find(objects, "Deployment", "dte-router")
    if not worker or not router:
        problem("need Deployments dte-worker and dte-router")
        return
    wc = worker[0]["spec"]["template"]["spec"]["containers"][0]
    if wc["args"][0] != "serve":
        problem("dte-worker does not run `dte serve`")
    port = arg(wc, "--port")
    if port is None or int(port) not in pod_ports(worker[0]):
        problem(f"dte-worker: --port {port} is not its containerPort")
    redis_url = arg(wc, "--redis") or ""
    m = re.match(r"redis://([^:/]+):(\d+)", redis_url)
    if not m or (m.group(1), int(m.group(2))) not in service_ports:
        problem(f"dte-worker: --redis {redis_url} is not a Service host:port")
    rc = router[0]["spec"]["template"]["spec"]["containers"][0]
    if rc["args"][0] != "route":
        problem("dte-router does not run `dte route`")
    listen = arg(rc, "--listen") or ""
    if not listen.rsplit(":", 1)[-1].isdigit() or int(listen.rsplit(":", 1)[-1]) not in pod_ports(router[0]):
        problem(f"dte-router: --listen {listen} is not its containerPort")
    for url in (arg(rc, "--backends") or "").split(","):
        m = re.match(r"http://([^:/]+):(\d+)$", url)
        if not m or (m.group(1), int(m.group(2))) not in service_ports:
            problem(f"dte-router: backend {url} is not a Service host:port")
    dns = arg(rc, "--scale-targets-dns")
    if dns:
        m = re.match(r"http://([^:/]+):(\d+)$", dns)
        headless = [s for s in services if m and s["metadata"]["name"] == m.group(1)
                    and s["spec"].get("clusterIP") == "None"]
        if not m or not headless or (m.group(1), int(m.group(2))) not in service_ports:
            problem(f"dte-router: --scale-targets-dns {dns} is not a headless Service host:port")
    target = arg(rc, "--scale-deployment")
    if target and not find(objects, "Deployment", target):
        problem(f"dte-router: --scale-deployment {target} is not a Deployment")
    env = {e["name"]: e.get("value") for e in rc.get("env", [])}
    proxy = env.get("DTE_K8S_API_URL", "")
    m = re.match(r"http://127\.0\.0\.1:(\d+)$", proxy)
    sidecar_ports = [p["containerPort"] for c in router[0]["spec"]["template"]["spec"]["containers"][1:]
                     for p in c.get("ports", [])]
    if not m or int(m.group(1)) not in sidecar_ports:
        problem(f"dte-router: DTE_K8S_API_URL {proxy} is not the kubectl proxy sidecar's port")

    # RBAC: the router's service account may get and patch the worker Deployment's scale.
    sa = router[0]["spec"]["template"]["spec"].get("serviceAccountName")
    granted = False
    for rb in find(objects, "RoleBinding"):
        if not any(s["kind"] == "ServiceAccount" and s["name"] == sa for s in rb["subjects"]):
            continue
        for role in find(objects, "Role", rb["roleRef"]["name"]):
            for rule in role["rules"]:
                if ("apps" in rule["apiGroups"] and "deployments/scale" in rule["resources"]
                        and {"get", "patch"} <= set(rule["verbs"])
                        and target in rule.get("resourceNames", [target])):
                    granted = True
    if not granted:
        problem(f"RBAC: ServiceAccount {sa} may not get+patch deployments/scale of {target}")

    for kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        for o in find(objects, kind):
            ref = o["spec"]["scaleTargetRef"]
            if not find(objects, ref.get("kind", "Deployment"), ref["name"]):
                problem(f"{kind} {o['metadata']['name']}: scaleTargetRef {ref['name']} is unknown")
    for hpa in find(objects, "HorizontalPodAutoscaler"):
        for metric in hpa["spec"]["metrics"]:
            name = metric.get("pods", {}).get("metric", {}).get("name", "")
            if not name.startswith("dte_"):
                problem(f"HPA: metric {name} is not one of ours")
        if hpa["spec"]["minReplicas"] > hpa["spec"]["maxReplicas"]:
            problem("HPA: minReplicas > maxReplicas")
    max_batch = arg(wc, "--max-batch")

    def quantity(q):
        q = str(q)
        return float(q[:-1]) / 1000 if q.endswith("m") else float(q)

    for hpa in find(objects, "HorizontalPodAutoscaler"):
        for metric in hpa["spec"]["metrics"]:
            if metric.get("pods", {}).get("metric", {}).get("name") == "dte_active_sequences":
                target_value = quantity(metric["pods"]["target"]["averageValue"])
                if max_batch is None or not 0 < target_value <= int(max_batch):
                    problem(f"HPA: active sequences target {target_value} not within --max-batch {max_batch}")
    for so in find(objects, "ScaledObject"):
        for t in so["spec"]["triggers"]:
            if max_batch is None or not 0 < float(t["metadata"]["threshold"]) <= int(max_batch):
                problem(f"ScaledObject: threshold {t['metadata']['threshold']} not within --max-batch {max_batch}")
    for so in find(objects, "ScaledObject"):
        for t in so["spec"]["triggers"]:
            if t["type"] == "prometheus" and "dte_" not in t["metadata"]["query"]:
                problem("ScaledObject: the query reads none of our metrics")

    kust = [d for _, d in objects if d["kind"] == "Kustomization"]
    for k in kust:
        for r in k["resources"]:
            if not os.path.exists(os.path.join(directory, r)):
                problem(f"kustomization: missing resource {r}")
        for alt in ("hpa.yaml", "keda.yaml"):
            if alt in k["resources"]:
                problem(f"kustomization: {alt} is an alternative and must not be in the default stack")


if __name__ == "__main__":
    check(sys.argv[1] if len(sys.argv) > 1 else "deploy/k8s")
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    sys.exit(1 if problems else 0)
