#!/usr/bin/env python3
"""Sends random and mutated request bodies to a nanokube API server.

usage: fuzz.py URL CERTDIR NAMESPACE SEED COUNT

CERTDIR holds ca.crt, client.crt and client.key. Every request goes to
NAMESPACE (or to a malformed URL). Prints one JSON summary line:
{"total": N, "codes": {"201": n, ...}, "bad": [descriptions of 5xx answers,
dropped connections and non-Status error bodies]}.
FUZZ_DUMP=DIR writes the body of each request that got no answer to DIR.
Standard library only.
"""
import copy
import http.client
import json
import os
import random
import ssl
import sys
import urllib.parse

url, certdir, ns, seed, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
u = urllib.parse.urlsplit(url)
ctx = ssl.create_default_context(cafile=certdir + "/ca.crt")
ctx.load_cert_chain(certdir + "/client.crt", certdir + "/client.key")


def connect():
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=20)


POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "fz", "labels": {"app": "fuzz"}, "annotations": {"a": "b"}},
       "spec": {"containers": [{"name": "c", "image": "nginx:1.25",
                                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                "env": [{"name": "A", "value": "1"}],
                                "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}],
                "restartPolicy": "Always", "nodeSelector": {"k": "v"}}}
SVC = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "fz"},
       "spec": {"type": "NodePort", "selector": {"app": "fuzz"},
                "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP", "name": "http"}]}}
CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fz"}, "data": {"k": "v"}}
RC = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "fz"},
      "spec": {"replicas": 2, "selector": {"app": "fuzz"},
               "template": {"metadata": {"labels": {"app": "fuzz"}},
                            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
KINDS = [("pods", POD), ("services", SVC), ("configmaps", CM), ("replicationcontrollers", RC)]

WEIRD_VALUES = [None, True, False, 0, -1, 2**31, 2**63, -2**63 - 1, 10**30, 1.5, 1e308, "", " ", "x" * 300,
                "\u00e9\u4e2d\U0001F600", "\x00", "../..", "a/b", "UPPER", "-leading", "trailing-", [], {}, [None],
                {"": ""}, {"$patch": "delete"}, "80", "TCP\n", "65536", "NaN"]


def paths(o, prefix=()):
    """All (path, value) pairs of a JSON document."""
    out = [(prefix, o)]
    if isinstance(o, dict):
        for k, v in o.items():
            out += paths(v, prefix + (k,))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            out += paths(v, prefix + (i,))
    return out


def set_path(o, p, v):
    for k in p[:-1]:
        o = o[k]
    o[p[-1]] = v


def del_path(o, p):
    for k in p[:-1]:
        o = o[k]
    del o[p[-1]]


def mutate_doc(doc):
    d = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 4)):
        ps = [p for p, _ in paths(d) if p]
        if not ps:
            break
        p = rng.choice(ps)
        op = rng.random()
        try:
            if op < 0.35:
                del_path(d, p)
            elif op < 0.8:
                set_path(d, p, copy.deepcopy(rng.choice(WEIRD_VALUES)))
            else:
                set_path(d, p[:-1] + (rng.choice(["unknownField", "status", "$retainKeys", "metadata"]),),
                         rng.choice(WEIRD_VALUES))
        except (KeyError, IndexError, TypeError):
            pass
    return d


def mutate_bytes(b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        if not b:
            break
        i = rng.randrange(len(b))
        if op < 0.3:
            b[i] = rng.randrange(256)
        elif op < 0.5:
            b.insert(i, rng.choice(b'{}[]",:\\\x00\xff'))
        elif op < 0.7:
            del b[i:i + rng.randint(1, 20)]
        else:
            b = b[:i]
    return bytes(b)


def deep(n, open_, close):
    return (open_ * n + close * n).encode()


def body_for(kind_doc, name):
    """A body for POST/PUT: bytes and a short description."""
    doc = copy.deepcopy(kind_doc)
    doc["metadata"]["name"] = name
    r = rng.random()
    if r < 0.45:
        d = mutate_doc(doc)
        return json.dumps(d).encode(), "mutated-doc"
    if r < 0.65:
        return mutate_bytes(json.dumps(doc).encode()), "mutated-bytes"
    if r < 0.72:
        n = rng.choice([100, 1000, 10000, 100000])
        return rng.choice([deep(n, "[", "]"), ('{"a":' * n + "1" + "}" * n).encode(),
                           ('{"apiVersion":"v1","kind":"Pod","metadata":' + '{"a":' * n + '1' + '}' * n + '}').encode()]), "deep-%d" % n
    if r < 0.78:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 2000))), "random-bytes"
    if r < 0.84:
        return rng.choice([b"", b"null", b"[]", b"42", b'"pod"', b"{}", b"true", b'{"kind":"Pod"}',
                           b'{"apiVersion":"v1"}', b'{"apiVersion":"v1","kind":"Pod","kind":"Service"}',
                           b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dup","name":"dup2"}}']), "fixed"
    if r < 0.9:
        d = copy.deepcopy(doc)
        d["metadata"]["name"] = rng.choice(["Bad_Name", "a" * 254, "-x", "x.", "", "a/b", "..", "\u00e9", "a b"])
        return json.dumps(d).encode(), "bad-name"
    if r < 0.95:
        d = copy.deepcopy(doc)
        d["metadata"]["namespace"] = rng.choice(["other", "kube-system", "default", "", "NS"])
        return json.dumps(d).encode(), "other-namespace"
    d = copy.deepcopy(doc)
    d["apiVersion"], d["kind"] = rng.choice([("apps/v1", d["kind"]), ("v2", d["kind"]), ("v1", "Nope"),
                                             ("extensions/v1beta1", "Job"), ("v1", "Namespace"), ("", "")])
    return json.dumps(d).encode(), "wrong-kind"


def patch_for():
    r = rng.random()
    if r < 0.4:
        p = mutate_doc({"metadata": {"labels": {"x": "y"}}, "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}})
        return json.dumps(p).encode(), rng.choice(["application/merge-patch+json", "application/strategic-merge-patch+json"]), "mutated-patch"
    if r < 0.7:
        ops = []
        for _ in range(rng.randint(1, 4)):
            ops.append({"op": rng.choice(["add", "remove", "replace", "move", "copy", "test", "bogus"]),
                        "path": rng.choice(["/metadata/labels/x", "/spec/containers/0/image", "/spec/containers/-",
                                            "/metadata/name", "/metadata/namespace", "/metadata/uid", "", "/",
                                            "/spec/containers/99", "/kind", "/apiVersion", "~1", "/metadata/labels/a~1b"]),
                        "from": "/metadata/labels", "value": rng.choice(WEIRD_VALUES)})
        return json.dumps(ops).encode(), "application/json-patch+json", "json-patch"
    if r < 0.85:
        return mutate_bytes(b'{"metadata":{"labels":{"x":"y"}}}'), rng.choice(
            ["application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json"]), "patch-bytes"
    return rng.choice([b'{"$patch":"replace"}', b'{"$patch":"delete"}', b'{"spec":{"$setElementOrder/containers":[{"name":"zz"}]}}',
                       b'{"spec":{"containers":[{"$patch":"delete","name":"c"}]}}', b'{"metadata":{"$retainKeys":["x"]}}',
                       b'{"spec":{"$deleteFromPrimitiveList/finalizers":["a"]}}', b'null', b'[]']), \
        "application/strategic-merge-patch+json", "smp-directive"


CTYPES = ["application/json"] * 8 + ["application/yaml", "application/vnd.kubernetes.protobuf", "text/plain", None,
                                     "application/json; charset=utf-8", "application/merge-patch+json"]

summary = {"total": 0, "codes": {}, "bad": []}
previous = "(none)"
conn = connect()
for i in range(count):
    plural, doc = rng.choice(KINDS)
    base = "/api/v1/namespaces/%s/%s" % (ns, plural)
    name = "fz-%d" % rng.randrange(8)  # a few names, so that PUT/PATCH hit existing objects
    q = rng.choice(["", "", "?fieldValidation=Strict", "?fieldValidation=Warn", "?fieldValidation=Ignore",
                    "?fieldValidation=bogus", "?dryRun=All", "?dryRun=bogus", "?fieldManager=" + "m" * 200])
    m = rng.random()
    headers = {}
    if m < 0.5:
        method, path = "POST", base + q
        body, desc = body_for(doc, name)
        ct = rng.choice(CTYPES)
    elif m < 0.7:
        method, path = "PUT", base + "/" + name + q
        body, desc = body_for(doc, name)
        ct = rng.choice(CTYPES)
    elif m < 0.93:
        method, path = "PATCH", base + "/" + name + q
        body, ct, desc = patch_for()
        if rng.random() < 0.1:
            ct = rng.choice(["application/json", "application/apply-patch+yaml", "text/plain"])
    else:
        method = rng.choice(["POST", "PUT", "PATCH", "DELETE", "GET"])
        path = rng.choice(["/api/v1/namespaces/%s/pods/%%00" % ns, "/api/v1/namespaces/%s/pods/a%%2Fb" % ns,
                           "/api/v1/namespaces/%s/nopes" % ns, "/api/v1/namespaces//pods", "/api/v1/namespaces/%s/pods/" % ns,
                           "/api/v1/namespaces/%s/pods/fz-1/status/extra" % ns, "/api/v1/" + "x/" * 500,
                           "/apis/apps/v1/namespaces/%s/deployments" % ns, "/api/v1/namespaces/%s/pods?limit=-5" % ns,
                           "/api/v1/namespaces/%s/pods?labelSelector=%%%%%%" % ns, "/api/v1/namespaces/%s/pods?fieldSelector=spec.nope%%3Dx" % ns])
        body, desc = mutate_bytes(json.dumps(POD).encode()), "odd-url"
        ct = "application/json"
    if ct is not None:
        headers["Content-Type"] = ct
    what = "%s %s [%s, %s, %d bytes]" % (method, path[:120], desc, ct, len(body))
    summary["total"] += 1
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        code = resp.status
    except Exception as e:  # a dropped connection or a timeout
        # Was it this request, or did the server close the keep-alive
        # connection after the previous answer? Retry once on a new connection.
        conn.close()
        conn = connect()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            code = resp.status
            summary["bad"].append("the server closed the connection after answering %s (no Connection: close)" % previous)
        except Exception as e2:
            summary["bad"].append("%s -> connection error %r" % (what, e2))
            if os.environ.get("FUZZ_DUMP"):
                with open("%s/bad-%03d.body" % (os.environ["FUZZ_DUMP"], i), "wb") as f:
                    f.write(body)
            conn.close()
            conn = connect()
            previous = what
            continue
    previous = "%s with %d" % (what, code)
    summary["codes"][str(code)] = summary["codes"].get(str(code), 0) + 1
    if code >= 500:
        summary["bad"].append("%s -> %d %s" % (what, code, data[:300]))
    elif code >= 400:
        try:
            st = json.loads(data)
            ok = st.get("kind") == "Status" and st.get("code") == code and st.get("status") == "Failure"
        except Exception:
            ok = False
        if not ok:
            summary["bad"].append("%s -> %d with a body that is no Status: %s" % (what, code, data[:200]))
print(json.dumps(summary))
