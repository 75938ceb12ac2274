#!/usr/bin/env python3
"""Creates pods as fast as one keep-alive connection allows, until the server
goes away (or MAX pods), appending "name resourceVersion" of every pod the
server acknowledged with 201 to ACKFILE (flushed at once).

usage: creates.py URL CERTDIR NAMESPACE ACKFILE [MAX]
"""
import http.client
import json
import os
import ssl
import sys
import urllib.parse

url, certdir, ns, ackfile = sys.argv[1:5]
limit = int(sys.argv[5]) if len(sys.argv) > 5 else 100000
u = urllib.parse.urlsplit(url)
ctx = ssl.create_default_context(cafile=certdir + "/ca.crt")
ctx.load_cert_chain(certdir + "/client.crt", certdir + "/client.key")
conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
fd = os.open(ackfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(limit):
    name = "durable-%05d" % i
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"i": str(i)}},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    try:
        conn.request("POST", "/api/v1/namespaces/%s/pods" % ns, body=json.dumps(pod),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
    except Exception:
        break  # the server is gone
    if resp.status != 201:
        sys.stderr.write("create %s: %d %s\n" % (name, resp.status, data[:200]))
        sys.exit(1)
    os.write(fd, ("%s %s\n" % (name, json.loads(data)["metadata"]["resourceVersion"])).encode())
