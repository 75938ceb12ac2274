#!/usr/bin/env python3
"""Derives nanokube's embedded API schema from Kubernetes' published OpenAPI v3 documents.

Provenance and licence: the input files are the OpenAPI v3 documents that the Kubernetes
project publishes in the kubernetes/kubernetes repository under api/openapi-spec/v3/
(api__v1_openapi.json, apis__apps__v1_openapi.json, ...), Copyright The Kubernetes Authors,
licensed under the Apache License 2.0. The outputs written by this script are derived from
them and keep that licence.

This is a maintainer tool, not part of the build. It uses only the Python 3 standard library:

    python3 src/api/schema/generate.py <dir with the *_openapi.json files> src/api/schema

It writes, for every group-version nanokube serves:
  * <gv path with "/" replaced by "__">.json, e.g. api__v1.json, apis__apps__v1.json: the
    Kubernetes document trimmed to the served resources and verbs and to the schemas they
    reach. Everything kubectl reads is kept verbatim: x-kubernetes-group-version-kind, the
    fieldValidation parameter, x-kubernetes-patch-* and descriptions (for `kubectl explain`).
    Non-ASCII characters are escaped so that the C++ embedding can split the text anywhere.
  * fields.txt: the compact field table behind strict field validation (format below).

Keep SERVED in step with src/api/resources.cc; the unit tests fail when a served kind is
missing from the documents.
"""

import json
import os
import sys

# group, version, plural, kind, namespaced, verbs, subresources: a copy of the resource table.
ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
NO_DC = [v for v in ALL if v != "deletecollection"]
SERVED = [
    ("", "v1", "namespaces", "Namespace", False, NO_DC, ["status", "finalize"]),
    ("", "v1", "nodes", "Node", False, ALL, ["status"]),
    ("", "v1", "pods", "Pod", True, ALL, ["status", "binding", "log", "exec"]),
    ("", "v1", "services", "Service", True, NO_DC, ["status"]),
    ("", "v1", "endpoints", "Endpoints", True, ALL, []),
    ("", "v1", "replicationcontrollers", "ReplicationController", True, ALL, ["status", "scale"]),
    ("", "v1", "events", "Event", True, ALL, []),
    ("", "v1", "configmaps", "ConfigMap", True, ALL, []),
    ("", "v1", "serviceaccounts", "ServiceAccount", True, ALL, []),
    ("apps", "v1", "daemonsets", "DaemonSet", True, ALL, ["status"]),
    ("apps", "v1", "replicasets", "ReplicaSet", True, ALL, ["status", "scale"]),
    ("apps", "v1", "deployments", "Deployment", True, ALL, ["status", "scale"]),
    ("batch", "v1", "jobs", "Job", True, ALL, ["status"]),
    ("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, ALL, []),
    ("coordination.k8s.io", "v1", "leases", "Lease", True, ALL, []),
]
# The scale subresource speaks autoscaling/v1 Scale, so its kind is kept in the field table.
EXTRA_GVS = {("autoscaling", "v1")}
REF_PREFIX = "#/components/schemas/"


def gv_path(group, version):
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def served_gvs():
    out = []
    for g, v, *_ in SERVED:
        if (g, v) not in out:
            out.append((g, v))
    return out


def classify(path, prefix, resources):
    """Returns (resource, scope) for a path, scope being "collection", "all-namespaces",
    "item" or a subresource name; None when nanokube does not serve the path."""
    if not path.startswith(prefix + "/"):
        return None
    segs = [s for s in path[len(prefix):].split("/") if s]
    if not segs or segs[0] == "watch":
        return None
    namespaced_path = len(segs) >= 3 and segs[0] == "namespaces" and segs[2] in resources
    if namespaced_path:
        plural, rest = segs[2], segs[3:]
    else:
        plural, rest = segs[0], segs[1:]
    r = resources.get(plural)
    if r is None or namespaced_path != r[4] and not (r[4] and not rest):
        return None
    if not rest:
        return r, ("collection" if namespaced_path or not r[4] else "all-namespaces")
    if len(rest) == 1:
        return r, "item"
    if len(rest) == 2 and rest[1] in r[6]:
        return r, rest[1]
    return None


VERB_OF = {
    "collection": {"get": "list", "post": "create", "delete": "deletecollection"},
    "all-namespaces": {"get": "list"},
    "item": {"get": "get", "put": "update", "patch": "patch", "delete": "delete"},
}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def trim_paths(doc, group, version):
    prefix = "/" + gv_path(group, version)
    resources = {r[2]: r for r in SERVED if (r[0], r[1]) == (group, version)}
    out = {}
    for path, item in doc["paths"].items():
        if path == prefix + "/":
            out[path] = item  # The group-version's own discovery document.
            continue
        hit = classify(path, prefix, resources)
        if hit is None:
            continue
        r, scope = hit
        kept = {}
        for key, op in item.items():
            if key not in METHODS:
                kept[key] = op  # Path-level parameters.
            elif scope in VERB_OF:
                if VERB_OF[scope].get(key) in r[5]:
                    kept[key] = op
            else:
                kept[key] = op  # Every method of a served subresource.
        if any(k in METHODS for k in kept):
            out[path] = kept
    return out


def refs(node, acc):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            acc.add(ref[len(REF_PREFIX):])
        for v in node.values():
            refs(v, acc)
    elif isinstance(node, list):
        for v in node:
            refs(v, acc)
    return acc


def closure(schemas, roots):
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(refs(schemas[name], set()))
    return seen


def keep_gvks(schema, gvs):
    """Drops the x-kubernetes-group-version-kind entries of groups nanokube does not serve
    (DeleteOptions and WatchEvent list every group of Kubernetes)."""
    gvks = schema.get("x-kubernetes-group-version-kind")
    if not gvks:
        return schema
    kept = [x for x in gvks if (x["group"], x["version"]) in gvs]
    schema = dict(schema)
    if kept:
        schema["x-kubernetes-group-version-kind"] = kept
    else:
        del schema["x-kubernetes-group-version-kind"]
    return schema


def trim_doc(doc, group, version):
    gvs = set(served_gvs()) | EXTRA_GVS
    schemas = doc["components"]["schemas"]
    paths = trim_paths(doc, group, version)
    roots = refs(paths, set())
    for name, s in schemas.items():
        for gvk in s.get("x-kubernetes-group-version-kind", []):
            if any(gvk["group"] == r[0] and gvk["version"] == r[1] and
                   gvk["kind"] in (r[3], r[3] + "List") for r in SERVED):
                roots.add(name)
    names = sorted(closure(schemas, roots))
    return {
        "components": {"schemas": {n: keep_gvks(schemas[n], gvs) for n in names}},
        "info": doc["info"],
        "openapi": doc["openapi"],
        "paths": dict(sorted(paths.items())),
    }


def dump_doc(doc):
    """Compact JSON with one schema or path per line, so that diffs stay readable."""
    def c(x):
        return json.dumps(x, separators=(",", ":"), sort_keys=True, ensure_ascii=True)

    def section(d):
        return "{\n" + ",\n".join(c(k) + ":" + c(v) for k, v in d.items()) + "\n}"

    return ('{"components":{"schemas":' + section(doc["components"]["schemas"]) + '},\n' +
            '"info":' + c(doc["info"]) + ',\n"openapi":' + c(doc["openapi"]) + ',\n' +
            '"paths":' + section(doc["paths"]) + '}\n')


# fields.txt format, one record per line ('#' starts a comment line):
#   =<apiVersion> <Kind> <id>          the struct that decodes objects of that kind
#   <id> <definition> <field>:<type>... a struct: its fields sorted by name
# A type is '-' (a scalar: string, number, bool, IntOrString, Quantity, Time), '*' (free
# form: any content is kept, x-kubernetes-preserve-unknown-fields, RawExtension, FieldsV1),
# '@<id>' (a struct), '[<type>' (an array of type) or '{<type>' (a map from string to type).
class FieldTable:
    def __init__(self, schemas):
        self.schemas = schemas
        self.ids = {}
        self.order = []

    def type_of(self, s):
        if s is None:
            return "*"
        if "allOf" in s and len(s["allOf"]) == 1:
            return self.type_of(s["allOf"][0])
        ref = s.get("$ref")
        if ref:
            return self.type_of_def(ref[len(REF_PREFIX):])
        if s.get("x-kubernetes-preserve-unknown-fields"):
            return "*"
        t = s.get("type")
        if t == "array":
            return "[" + self.type_of(s.get("items"))
        if "properties" in s:
            raise ValueError("inline struct schemas are not expected in Kubernetes documents")
        if t == "object" or "additionalProperties" in s:
            ap = s.get("additionalProperties")
            if isinstance(ap, dict) and ap:
                return "{" + self.type_of(ap)
            return "*"
        return "-"

    def type_of_def(self, name):
        s = self.schemas[name]
        if "properties" not in s or s.get("x-kubernetes-preserve-unknown-fields"):
            return self.type_of(s)
        if name not in self.ids:
            self.ids[name] = len(self.order)
            self.order.append(name)
        return "@" + str(self.ids[name])

    def render(self, kinds):
        lines = ["# Generated by src/api/schema/generate.py from Kubernetes' OpenAPI v3 "
                 "documents (Apache-2.0); do not edit."]
        for api_version, kind, name in kinds:
            lines.append(f"={api_version} {kind} {self.type_of_def(name)[1:]}")
        i = 0
        while i < len(self.order):  # type_of_def appends the structs it reaches.
            name = self.order[i]
            props = self.schemas[name]["properties"]
            fields = [f"{f}:{self.type_of(props[f])}" for f in sorted(props)]
            lines.append(" ".join([str(i), name] + fields))
            i += 1
        return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: generate.py <openapi-spec/v3 dir> <output dir>")
    src, dst = sys.argv[1], sys.argv[2]
    gvs = set(served_gvs()) | EXTRA_GVS
    all_schemas, kinds = {}, []
    for group, version in served_gvs():
        name = gv_path(group, version).replace("/", "__")
        with open(os.path.join(src, name + "_openapi.json"), encoding="utf-8") as f:
            doc = trim_doc(json.load(f), group, version)
        with open(os.path.join(dst, name + ".json"), "w", encoding="ascii") as f:
            f.write(dump_doc(doc))
        all_schemas.update(doc["components"]["schemas"])
    for name in sorted(all_schemas):
        for gvk in all_schemas[name].get("x-kubernetes-group-version-kind", []):
            if (gvk["group"], gvk["version"]) in gvs:
                api_version = gvk["version"] if not gvk["group"] else f"{gvk['group']}/{gvk['version']}"
                kinds.append((api_version, gvk["kind"], name))
    kinds.sort()
    with open(os.path.join(dst, "fields.txt"), "w", encoding="ascii") as f:
        f.write(FieldTable(all_schemas).render(kinds))


if __name__ == "__main__":
    main()
