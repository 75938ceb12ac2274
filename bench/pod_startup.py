#!/usr/bin/env python3
"""Pod start-up latency: create -> Running with every container ready, image local.

Creates PODS pods one after another on a running nanokube cluster (busybox
`sleep`, one app container: the agent runs two runc containers per pod, the
pause container and the app) and measures, for each, the time from sending the
create to seeing the pod Running and Ready on a watch. The baseline, measured
in the same run on the same machine: two plain `runc run` of a busybox root
filesystem, one after the other (what the pod needs at the least).

    bench/pod_startup.py --kubeconfig DIR/kubeconfig [--pods 30]
Standard library only.
"""
import argparse, base64, http.client, json, os, shutil, ssl, statistics, subprocess, sys, tempfile, time, uuid


def load_kubeconfig(path, tmp):
    text = open(path).read()
    def field(name):
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
        raise SystemExit(f"{path}: no {name}")
    server = field("server")
    files = {}
    for key, fname in (("certificate-authority-data", "ca.crt"), ("client-certificate-data", "client.crt"),
                       ("client-key-data", "client.key")):
        p = os.path.join(tmp, fname)
        with open(p, "wb") as f:
            f.write(base64.b64decode(field(key)))
        files[fname] = p
    ctx = ssl.create_default_context(cafile=files["ca.crt"])
    ctx.load_cert_chain(files["client.crt"], files["client.key"])
    host, port = server.replace("https://", "").rsplit(":", 1)
    return host, int(port), ctx


class Api:
    def __init__(self, host, port, ctx):
        self.host, self.port, self.ctx = host, port, ctx
        self.conn = http.client.HTTPSConnection(host, port, context=ctx)

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None

    def watch(self, path):
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx)
        conn.request("GET", path, headers={"Accept": "application/json"})
        return conn, conn.getresponse()


def ready(pod):
    st = pod.get("status", {})
    if st.get("phase") != "Running":
        return False
    cs = st.get("containerStatuses", [])
    return bool(cs) and all(c.get("ready") for c in cs)


def pod_latency(api, ns, name):
    status, _ = api.call("GET", f"/api/v1/namespaces/{ns}/pods?limit=1")
    rv = _["metadata"]["resourceVersion"]
    conn, resp = api.watch(f"/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion={rv}"
                           f"&fieldSelector=metadata.name%3D{name}&timeoutSeconds=60")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}}
    start = time.monotonic()
    status, body = api.call("POST", f"/api/v1/namespaces/{ns}/pods", pod)
    if status != 201:
        raise SystemExit(f"create {name}: {status} {body}")
    while True:
        line = resp.readline()
        if not line:
            raise SystemExit(f"{name}: the watch ended before the pod was Running")
        event = json.loads(line)
        if ready(event["object"]):
            elapsed = time.monotonic() - start
            conn.close()
            return elapsed


def runc_baseline(pairs):
    """Seconds for two `runc run` of busybox `true`, one after the other; one sample per pair."""
    tmp = tempfile.mkdtemp(prefix="nk-runc-bench.", dir="/var/tmp")
    try:
        bundle = os.path.join(tmp, "bundle")
        rootfs = os.path.join(bundle, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        for d in ("proc", "sys", "dev", "tmp", "etc"):
            os.makedirs(os.path.join(rootfs, d))
        shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
        os.symlink("busybox", os.path.join(rootfs, "bin", "true"))
        subprocess.run(["runc", "spec", "--bundle", bundle], check=True)
        spec = json.load(open(os.path.join(bundle, "config.json")))
        spec["process"]["terminal"] = False
        spec["process"]["args"] = ["/bin/true"]
        spec["process"]["rlimits"] = []
        json.dump(spec, open(os.path.join(bundle, "config.json"), "w"))
        root = os.path.join(tmp, "runc")
        run_id = uuid.uuid4().hex[:8]  # runc's cgroup path is the container id: unique per run
        samples = []
        for i in range(pairs + 1):
            start = time.monotonic()
            for j in range(2):
                subprocess.run(["runc", "--root", root, "run", "--bundle", bundle, f"nk-bench-{run_id}-{i}-{j}"], check=True,
                               stdin=subprocess.DEVNULL)
            if i > 0:  # the first pair warms the page cache
                samples.append(time.monotonic() - start)
        return samples
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--pods", type=int, default=30)
    ap.add_argument("--baseline-pairs", type=int, default=15)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="nk-podbench.")
    try:
        host, port, ctx = load_kubeconfig(args.kubeconfig, tmp)
        api = Api(host, port, ctx)
        ns = "podbench-" + uuid.uuid4().hex[:6]
        api.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        base = runc_baseline(args.baseline_pairs)
        lat = [pod_latency(api, ns, f"p{i}") for i in range(args.pods)]
        base50 = statistics.median(base)
        p50, p99 = pct(lat, 50), pct(lat, 99)
        target = 1.5 * base50 + 0.1
        print(f"pod start-up, {args.pods} pods on one node, create -> Running and Ready (image local)")
        print(f"  baseline: two plain `runc run` of busybox: p50 {base50 * 1000:.0f} ms "
              f"(min {min(base) * 1000:.0f}, max {max(base) * 1000:.0f}, {len(base)} samples)")
        print(f"  nanokube: p50 {p50 * 1000:.0f} ms ({p50 / base50:.2f}x baseline), "
              f"p99 {p99 * 1000:.0f} ms ({p99 / base50:.2f}x baseline)")
        print(f"  target p99 <= 1.5 x baseline + 100 ms = {target * 1000:.0f} ms: "
              f"{'met' if p99 <= target else 'NOT met'}")
        api.call("DELETE", f"/api/v1/namespaces/{ns}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
