#!/usr/bin/env python3
"""Derives nanokube's embedded API schema from Kubernetes' published OpenAPI v3 documents.

Provenance and licence: the input files are the OpenAPI v3 documents that the Kubernetes
project publishes in the kubernetes/kubernetes repository under api/openapi-spec/v3/
(api__v1_openapi.json, apis__apps__v1_openapi.json, ...), Copyright The Kubernetes Authors,
licensed under the Apache License 2.0. The outputs written by this script are derived from
them and keep that licence.

This is a maintainer tool, not part of the build. It uses only the Python 3 standard library:

    python3 src/api/schema/generate.py <dir with the *_openapi.json files> src/api/schema \
        [<k8s.io/api checkout> <k8s.io/apimachinery checkout>]

The first directory may also be src/api/schema itself: the trimmed documents keep everything
the script reads, so it regenerates fields.txt from them and rewrites them unchanged. The Go
checkouts (at the tag of the same release, v0.32.x) are needed only to refresh gotypes.txt;
without them the script reads the gotypes.txt already in the output directory.

It writes, for every group-version nanokube serves:
  * <gv path with "/" replaced by "__">.json, e.g. api__v1.json, apis__apps__v1.json: the
    Kubernetes document trimmed to the served resources and verbs and to the schemas they
    reach. Everything kubectl reads is kept verbatim: x-kubernetes-group-version-kind, the
    fieldValidation parameter, x-kubernetes-patch-* and descriptions (for `kubectl explain`).
    Non-ASCII characters are escaped so that the C++ embedding can split the text anywhere.
  * fields.txt: the compact field table behind strict field validation and type checks
    (format below).
  * gotypes.txt, only when the Go checkouts are given: the Go type names of fields whose
    type Kubernetes' decoder names differently from what the documents say (see go_types).

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
# A type is a scalar code, '*' (free form: any content is kept, x-kubernetes-preserve-unknown-
# fields, RawExtension, FieldsV1), '@<id>' (a struct), '[<type>' (an array of type) or
# '{<type>' (a map from string to type). The scalar codes tell which JSON values the Go decoder
# accepts:
#   s string          i int32             l int64             f float64 (number)
#   b bool            B []byte (a base64 string)               x IntOrString (string or integer)
#   q Quantity (string or number)         t Time, u MicroTime (RFC 3339 strings)
# A field's type may end in '=<Go type>', the type Go's reflect prints for the field (pointer
# stripped), when it is not the one the codes imply: 's' implies string, 'i' int32, 'l' int64,
# 'f' float64, 'b' bool, 'B' []uint8, 'x' intstr.IntOrString, 'q' resource.Quantity, 't'
# v1.Time, 'u' v1.MicroTime, '@<id>' <package>.<Name> from the definition name, '[T' []T and
# '{T' map[string]T. Element and value types of '[' and '{' fields are the Go type minus its
# "[]" or "map[K]" prefix, or, for a named slice or map type, what the codes imply.
# The Go types come from gotypes.txt next to fields.txt (see go_types below).
SCALAR_GO = {"s": "string", "i": "int32", "l": "int64", "f": "float64", "b": "bool",
             "B": "[]uint8", "x": "intstr.IntOrString", "q": "resource.Quantity",
             "t": "v1.Time", "u": "v1.MicroTime"}
# Definitions without properties that Kubernetes decodes with a custom UnmarshalJSON.
SPECIAL_DEFS = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "x",
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "q",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "t",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "u",
}


def go_struct_name(definition):
    """The Go type of a definition as reflect prints it: package name and type name."""
    parts = definition.split(".")
    return parts[-2] + "." + parts[-1]


class FieldTable:
    def __init__(self, schemas, go_types=None):
        self.schemas = schemas
        self.go_types = go_types or {}
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
        return self.scalar_of(s)

    @staticmethod
    def scalar_of(s):
        alternatives = sorted(a.get("type", "") for a in s.get("oneOf", []))
        if s.get("format") == "int-or-string" or alternatives == ["integer", "string"]:
            return "x"
        if alternatives == ["number", "string"]:
            return "q"
        t, fmt = s.get("type"), s.get("format")
        if t == "string":
            return {"byte": "B", "date-time": "t"}.get(fmt, "s")
        if t == "integer":
            return "i" if fmt == "int32" else "l"
        if t == "number":
            return "f"
        if t == "boolean":
            return "b"
        raise ValueError(f"unexpected scalar schema {s!r}")

    def type_of_def(self, name):
        if name in SPECIAL_DEFS:
            return SPECIAL_DEFS[name]
        s = self.schemas[name]
        if "properties" not in s or s.get("x-kubernetes-preserve-unknown-fields"):
            return self.type_of(s)
        if name not in self.ids:
            self.ids[name] = len(self.order)
            self.order.append(name)
        return "@" + str(self.ids[name])

    def implied_go(self, code):
        """The Go type that a type code implies (see the format above)."""
        if code[0] in "[{":
            prefix = "[]" if code[0] == "[" else "map[string]"
            return prefix + self.implied_go(code[1:])
        if code[0] == "@":
            return go_struct_name(self.order[int(code[1:])])
        return SCALAR_GO.get(code, "")

    def build(self, kinds):
        """Assigns ids to every struct that the kinds reach; returns the kind records."""
        records = [(api_version, kind, self.type_of_def(name)[1:])
                   for api_version, kind, name in kinds]
        i = 0
        while i < len(self.order):  # type_of_def appends the structs it reaches.
            self.fields(self.order[i])
            i += 1
        return records

    def fields(self, name):
        props = self.schemas[name]["properties"]
        return [(f, self.type_of(props[f])) for f in sorted(props)]

    def render(self, kinds):
        lines = ["# Generated by src/api/schema/generate.py from Kubernetes' OpenAPI v3 "
                 "documents (Apache-2.0); do not edit."]
        for api_version, kind, id_ in self.build(kinds):
            lines.append(f"={api_version} {kind} {id_}")
        for i, name in enumerate(self.order):
            tokens = [str(i), name]
            for f, code in self.fields(name):
                go = self.go_types.get((name, f))
                tokens.append(f"{f}:{code}" + (f"={go}" if go and go != self.implied_go(code)
                                                 else ""))
            lines.append(" ".join(tokens))
        return "\n".join(lines) + "\n"


# gotypes.txt: "<definition> <field> <Go type>" for the fields whose Go type is not the one
# their type code implies (named types such as v1.Protocol, types.UID, v1.ResourceList). The
# OpenAPI documents do not carry Go type names, and Kubernetes' decoder prints them in its
# type errors, so they are read once from the Go sources of the release (k8s.io/api and
# k8s.io/apimachinery at the tag matching the documents, v0.32.x for Kubernetes 1.32) and kept
# in this file; regenerating from the documents alone reuses it.
GO_BUILTINS = {"string", "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8",
               "uint16", "uint32", "uint64", "float32", "float64", "byte", "rune", "any",
               "interface"}


def go_import_dir(path, api_dir, apimachinery_dir):
    for prefix, root in (("k8s.io/api/", api_dir), ("k8s.io/apimachinery/", apimachinery_dir)):
        if path.startswith(prefix):
            return os.path.join(root, *path[len(prefix):].split("/"))
    raise ValueError(f"no Go checkout given for {path}")


def go_package_dir(definition, api_dir, apimachinery_dir):
    parts = definition.split(".")[:-1]
    if parts[:3] == ["io", "k8s", "api"]:
        return go_import_dir("k8s.io/api/" + "/".join(parts[3:]), api_dir, apimachinery_dir)
    if parts[:3] == ["io", "k8s", "apimachinery"]:
        return go_import_dir("k8s.io/apimachinery/" + "/".join(parts[3:]), api_dir,
                             apimachinery_dir)
    raise ValueError(f"no Go package known for {definition}")


class GoSources:
    """The structs of the Go API packages: {json field name: Go type as reflect prints it},
    with the fields of inline embedded structs (TypeMeta, VolumeSource) merged in. Regular
    expressions suffice for Kubernetes' API types, which keep one field per line with a json
    tag."""

    def __init__(self, api_dir, apimachinery_dir):
        self.dirs = (api_dir, apimachinery_dir)
        self.packages = {}

    def struct(self, directory, name):
        if directory not in self.packages:
            self.packages[directory] = self.parse(directory)
        structs = self.packages[directory]
        if name not in structs:
            raise ValueError(f"no Go struct {name} in {directory}")
        fields, inline = structs[name]
        merged = {}
        for inline_dir, inline_name in inline:
            merged.update(self.struct(inline_dir, inline_name))
        merged.update(fields)
        return merged

    def parse(self, directory):
        import re
        structs = {}
        pkg = os.path.basename(directory.rstrip("/"))
        for fname in sorted(os.listdir(directory)):
            if not fname.endswith(".go") or fname.endswith("_test.go") or fname.startswith("zz_"):
                continue
            with open(os.path.join(directory, fname), encoding="utf-8") as f:
                text = f.read()
            imports = {}  # alias -> import path
            for m in re.finditer(r'^\s*(?:import\s+)?(\w+\s+)?"([\w./-]+)"\s*$', text, re.M):
                path = m.group(2)
                imports[(m.group(1) or "").strip() or path.rsplit("/", 1)[-1]] = path

            def qualify(expr):
                def one(m):
                    ident = m.group(0)
                    if "." in ident:
                        alias, name = ident.split(".", 1)
                        return imports.get(alias, alias).rsplit("/", 1)[-1] + "." + name
                    if ident in GO_BUILTINS or ident == "map":
                        return "uint8" if ident == "byte" else ident
                    return pkg + "." + ident
                return re.sub(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?", one, expr)

            for m in re.finditer(r"^type (\w+) struct \{\n(.*?)^\}", text, re.M | re.S):
                fields, inline = {}, []
                for line in m.group(2).splitlines():
                    if line.lstrip().startswith("//"):
                        continue
                    fm = re.match(r'^\s*(?:\w+\s+)?(\S+)\s+`[^`]*json:"([^",]*)([^"]*)"', line)
                    if not fm or fm.group(2) == "-":
                        continue
                    if fm.group(2) == "" and ",inline" in fm.group(3):
                        embedded = fm.group(1).lstrip("*")
                        if "." in embedded:
                            alias, name = embedded.split(".", 1)
                            inline.append((go_import_dir(imports[alias], *self.dirs), name))
                        else:
                            inline.append((directory, embedded))
                    elif fm.group(2):
                        fields[fm.group(2)] = qualify(fm.group(1).lstrip("*"))
                structs[m.group(1)] = (fields, inline)
        return structs


def go_types(table, api_dir, apimachinery_dir):
    sources, out = GoSources(api_dir, apimachinery_dir), {}
    for name in table.order:
        d = go_package_dir(name, api_dir, apimachinery_dir)
        go_fields = sources.struct(d, name.rsplit(".", 1)[1])
        for f, code in table.fields(name):
            if f not in go_fields:
                raise ValueError(f"{name}: no Go field with json name {f}")
            go = go_fields[f]
            if go != table.implied_go(code):
                out[(name, f)] = go
    return out


def read_go_types(path):
    out = {}
    if os.path.exists(path):
        with open(path, encoding="ascii") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    name, field, go = line.split()
                    out[(name, field)] = go
    return out


def write_go_types(path, types):
    with open(path, "w", encoding="ascii") as f:
        f.write("# Generated by src/api/schema/generate.py from the Go sources of k8s.io/api and "
                "k8s.io/apimachinery (Apache-2.0); do not edit.\n"
                "# <definition> <field> <Go type>, for the fields whose Go type is not the one "
                "their type code in fields.txt implies.\n")
        for (name, field), go in sorted(types.items()):
            f.write(f"{name} {field} {go}\n")


def input_path(src, name):
    """Kubernetes' own file (api__v1_openapi.json), or else a document this script wrote
    (api__v1.json): trimming keeps components.schemas and the served paths verbatim, so a
    trimmed document trims to itself and the table can be regenerated from this folder."""
    full = os.path.join(src, name + "_openapi.json")
    return full if os.path.exists(full) else os.path.join(src, name + ".json")


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit("usage: generate.py <openapi-spec/v3 dir> <output dir> "
                 "[<k8s.io/api dir> <k8s.io/apimachinery dir>]")
    src, dst = sys.argv[1], sys.argv[2]
    gvs = set(served_gvs()) | EXTRA_GVS
    all_schemas, kinds, docs = {}, [], {}
    # Every input is read before anything is written, so src and dst may be the same folder.
    for group, version in served_gvs():
        name = gv_path(group, version).replace("/", "__")
        with open(input_path(src, name), encoding="utf-8") as f:
            docs[name] = trim_doc(json.load(f), group, version)
        all_schemas.update(docs[name]["components"]["schemas"])
    for name, doc in docs.items():
        with open(os.path.join(dst, name + ".json"), "w", encoding="ascii") as f:
            f.write(dump_doc(doc))
    for name in sorted(all_schemas):
        for gvk in all_schemas[name].get("x-kubernetes-group-version-kind", []):
            if (gvk["group"], gvk["version"]) in gvs:
                api_version = gvk["version"] if not gvk["group"] else f"{gvk['group']}/{gvk['version']}"
                kinds.append((api_version, gvk["kind"], name))
    kinds.sort()
    go_path = os.path.join(dst, "gotypes.txt")
    if len(sys.argv) == 5:
        table = FieldTable(all_schemas)
        table.build(kinds)
        write_go_types(go_path, go_types(table, sys.argv[3], sys.argv[4]))
    with open(os.path.join(dst, "fields.txt"), "w", encoding="ascii") as f:
        f.write(FieldTable(all_schemas, read_go_types(go_path)).render(kinds))


if __name__ == "__main__":
    main()
