# Services: expose, ClusterIP and nodePort allocation, describe, endpoints,
# the kubernetes service, `get all`.

test_services_expose_clusterip() {
  new_namespace
  run_ok kubectl create -f "$SEEDS/nginxrc.yaml" -n "$NS"
  run_ok kubectl expose rc my-nginx --port=80 -n "$NS"
  expect_eq "expose" "service/my-nginx exposed" "$OUT"
  run_out kubectl get svc -n "$NS"
  expect_line "get svc header" 'NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE' "$OUT"
  expect_line "get svc row" "my-nginx +ClusterIP +$SVC_IP_RE +<none> +80/TCP +$AGE_RE" "$OUT"
  run_out kubectl get service my-nginx -n "$NS" -o wide
  expect_line "get svc -o wide header" 'NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE +SELECTOR' "$OUT"
  expect_line "get svc -o wide row" "my-nginx +ClusterIP +$SVC_IP_RE +<none> +80/TCP +$AGE_RE +app=nginx" "$OUT"
  run_out kubectl get svc my-nginx -n "$NS" -o json
  local json=$OUT ip
  ip=$(jfield 'd["spec"]["clusterIP"]' "$json")
  expect_match "clusterIP in 10.96.0.0/12" "^$SVC_IP_RE\$" "$ip"
  expect_eq "clusterIPs" "[\"$ip\"]" "$(jfield 'd["spec"]["clusterIPs"]' "$json")"
  expect_eq "service defaults" "ClusterIP None SingleStack IPv4 Cluster TCP 80 app=nginx" \
    "$(jfield '" ".join([d["spec"]["type"], d["spec"]["sessionAffinity"], d["spec"]["ipFamilyPolicy"], ",".join(d["spec"]["ipFamilies"]), d["spec"]["internalTrafficPolicy"], d["spec"]["ports"][0]["protocol"], str(d["spec"]["ports"][0]["targetPort"]), ",".join(k+"="+v for k,v in d["metadata"]["labels"].items())])' "$json")"
  expect_eq "ClusterIP service has no nodePort" "None" "$(jfield 'str(d["spec"]["ports"][0].get("nodePort"))' "$json")"

  run_out kubectl describe service my-nginx -n "$NS"
  expect_line "describe Name" 'Name: +my-nginx' "$OUT"
  expect_line "describe Selector" 'Selector: +app=nginx' "$OUT"
  expect_line "describe Type" 'Type: +ClusterIP' "$OUT"
  expect_line "describe IP" "IP: +$ip" "$OUT"
  expect_line "describe IPs" "IPs: +$ip" "$OUT"
  expect_line "describe Port" 'Port: +<unset> +80/TCP' "$OUT"
  expect_line "describe TargetPort" 'TargetPort: +80/TCP' "$OUT"
  expect_line "describe Endpoints" 'Endpoints: *(<none>)?' "$OUT"
  expect_line "describe Session Affinity" 'Session Affinity: +None' "$OUT"
  expect_line "describe Events" 'Events:.*' "$OUT"

  # The seed service manifest.
  run_ok kubectl create -f "$SEEDS/nginxsvc.yaml" -n "$NS"
  expect_eq "create -f nginxsvc.yaml" "service/nginxsvc created" "$OUT"
  run_out kubectl get svc nginxsvc -n "$NS" -o wide
  expect_line "nginxsvc row" "nginxsvc +ClusterIP +$SVC_IP_RE +<none> +80/TCP +$AGE_RE +app=nginx" "$OUT"
  local ip2
  ip2=$(kubectl get svc nginxsvc -n "$NS" -o jsonpath='{.spec.clusterIP}')
  [[ "$ip2" != "$ip" ]] || fail "two services got the same clusterIP $ip"

  run_out kubectl get endpoints -n "$NS"
  expect_line "get endpoints header" 'NAME +ENDPOINTS +AGE' "$OUT"
  expect_line "endpoints of a service without pods" "my-nginx +<none> +$AGE_RE" "$OUT"
}

test_services_expose_loadbalancer() {
  new_namespace
  run_ok kubectl create -f "$SEEDS/nginxrc.yaml" -n "$NS"
  run_ok kubectl expose rc my-nginx --port=80 --type=LoadBalancer --name=my-second -n "$NS"
  expect_eq "expose LoadBalancer" "service/my-second exposed" "$OUT"
  run_out kubectl get svc -n "$NS"
  expect_line "LoadBalancer row" "my-second +LoadBalancer +$SVC_IP_RE +<pending> +80:$NODEPORT_RE/TCP +$AGE_RE" "$OUT"
  run_out kubectl get svc my-second -n "$NS" -o wide
  expect_line "LoadBalancer -o wide" "my-second +LoadBalancer +$SVC_IP_RE +<pending> +80:$NODEPORT_RE/TCP +$AGE_RE +app=nginx" "$OUT"
  local np
  np=$(kubectl get svc my-second -n "$NS" -o jsonpath='{.spec.ports[0].nodePort}')
  expect_contains "PORT(S) shows the nodePort" "80:$np/TCP" "$OUT"
  run_out kubectl get svc my-second -n "$NS" -o jsonpath='{.spec.externalTrafficPolicy} {.spec.allocateLoadBalancerNodePorts} {.status.loadBalancer}'
  expect_eq "LoadBalancer defaults" "Cluster true {}" "$OUT"
  run_out kubectl describe svc my-second -n "$NS"
  expect_line "describe NodePort" "NodePort: +<unset> +$np/TCP" "$OUT"
  expect_line "describe Type" 'Type: +LoadBalancer' "$OUT"
  expect_line "describe Events" 'Events:.*' "$OUT"

  # A NodePort service with two ports gets two distinct nodePorts.
  run_ok kubectl create -n "$NS" -f - <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: two-ports
spec:
  type: NodePort
  selector:
    app: nginx
  ports:
  - name: http
    port: 80
  - name: alt
    port: 8080
    targetPort: 80
YAML
  run_out kubectl get svc two-ports -n "$NS"
  expect_line "NodePort row" "two-ports +NodePort +$SVC_IP_RE +<none> +80:$NODEPORT_RE/TCP,8080:$NODEPORT_RE/TCP +$AGE_RE" "$OUT"
  local a b
  read -r a b < <(kubectl get svc two-ports -n "$NS" -o jsonpath='{.spec.ports[*].nodePort}')
  [[ -n "$a" && "$a" != "$b" && "$a" != "$np" && "$b" != "$np" ]] || fail "nodePorts not distinct: $np $a $b"
}

test_services_allocation_rules() {
  new_namespace
  local y=$E2E_WORK/svc-alloc.yaml
  svc_yaml() { # NAME TYPE NODEPORT CLUSTERIP
    {
      printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n  type: %s\n' "$1" "$2"
      [[ -n "$4" ]] && printf '  clusterIP: %s\n' "$4"
      printf '  selector:\n    app: nginx\n  ports:\n  - port: 80\n'
      [[ -n "$3" ]] && printf '    nodePort: %s\n' "$3"
    } >"$y"
  }
  svc_yaml np-a NodePort 30999 ""
  run_ok kubectl create -f "$y" -n "$NS"
  run_out kubectl get svc np-a -n "$NS"
  expect_line "requested nodePort honoured" "np-a +NodePort +$SVC_IP_RE +<none> +80:30999/TCP +$AGE_RE" "$OUT"
  svc_yaml np-b NodePort 30999 ""
  run_fail kubectl create -f "$y" -n "$NS"
  expect_eq "taken nodePort" \
    'The Service "np-b" is invalid: spec.ports[0].nodePort: Invalid value: 30999: provided port is already allocated' "$OUT"
  svc_yaml np-c NodePort 29999 ""
  run_fail kubectl create -f "$y" -n "$NS"
  expect_eq "nodePort out of range" \
    'The Service "np-c" is invalid: spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767' "$OUT"
  # Released on delete.
  run_ok kubectl delete svc np-a -n "$NS"
  svc_yaml np-d NodePort 30999 ""
  run_ok kubectl create -f "$y" -n "$NS"
  expect_eq "nodePort reusable after delete" "service/np-d created" "$OUT"

  local ip
  ip=$(kubectl get svc np-d -n "$NS" -o jsonpath='{.spec.clusterIP}')
  svc_yaml ip-b ClusterIP "" "$ip"
  run_fail kubectl create -f "$y" -n "$NS"
  expect_eq "taken clusterIP" \
    "The Service \"ip-b\" is invalid: spec.clusterIPs: Invalid value: []string{\"$ip\"}: failed to allocate IP $ip: provided IP is already allocated" "$OUT"
  svc_yaml ip-c ClusterIP "" 192.168.7.7
  run_fail kubectl create -f "$y" -n "$NS"
  expect_eq "clusterIP out of range" \
    'The Service "ip-c" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.7.7"}: failed to allocate IP 192.168.7.7: the provided IP (192.168.7.7) is not in the valid range. The range of valid IPs is 10.96.0.0/12' "$OUT"
  svc_yaml ip-d ClusterIP "" 10.100.200.7
  run_ok kubectl create -f "$y" -n "$NS"
  run_out kubectl get svc ip-d -n "$NS"
  expect_line "requested clusterIP honoured" "ip-d +ClusterIP +10\.100\.200\.7 +<none> +80/TCP +$AGE_RE" "$OUT"
  svc_yaml headless ClusterIP "" None
  run_ok kubectl create -f "$y" -n "$NS"
  run_out kubectl get svc headless -n "$NS"
  expect_line "headless service" "headless +ClusterIP +None +<none> +80/TCP +$AGE_RE" "$OUT"
  svc_yaml BadName ClusterIP "" ""
  run_fail kubectl create -f "$y" -n "$NS"
  expect_eq "invalid service name" \
    "The Service \"BadName\" is invalid: metadata.name: Invalid value: \"BadName\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')" "$OUT"
  unset -f svc_yaml
}

test_services_kubernetes_service() {
  run_out kubectl get svc kubernetes -n default
  expect_line "kubernetes service" "kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP +$AGE_RE" "$OUT"
  local port=${SERVER_URL##*:}
  run_out kubectl get endpoints kubernetes -n default
  expect_line "kubernetes endpoints" "kubernetes +127\.0\.0\.1:$port +$AGE_RE" "$OUT"
}

test_services_get_all() {
  new_namespace
  run_ok kubectl create -f "$SEEDS/nginxpod.yaml" -n "$NS"
  run_ok kubectl create -f "$SEEDS/nginxrc.yaml" -n "$NS"
  run_ok kubectl expose rc my-nginx --port=80 -n "$NS"
  run_out kubectl get all -n "$NS"
  expect_line "get all pod header" 'NAME +READY +STATUS +RESTARTS +AGE' "$OUT"
  expect_line "get all pod" "pod/nginxpod +0/2 +Pending +0 +$AGE_RE" "$OUT"
  expect_line "get all rc header" 'NAME +DESIRED +CURRENT +READY +AGE' "$OUT"
  expect_line "get all rc" "replicationcontroller/my-nginx +2 +[0-9]+ +0 +$AGE_RE" "$OUT"
  expect_line "get all svc header" 'NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE' "$OUT"
  expect_line "get all svc" "service/my-nginx +ClusterIP +$SVC_IP_RE +<none> +80/TCP +$AGE_RE" "$OUT"
  expect_no_line "get all shows no configmaps" 'configmap/.*' "$OUT"
  run_out kubectl get all -n "$NS" -o name
  expect_eq "get all -o name" $'pod/nginxpod\nreplicationcontroller/my-nginx\nservice/my-nginx' "$(grep -E '^(pod|replicationcontroller|service)/' <<<"$OUT" | sort)"
  run_out kubectl get pods,svc -n "$NS" -o name
  expect_eq "get pods,svc" $'pod/nginxpod\nservice/my-nginx' "$OUT"
}
