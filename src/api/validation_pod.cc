// Pod and pod template validation, after ValidatePodSpec and friends in
// pkg/apis/core/validation/validation.go.

#include <map>
#include <set>

#include "api/validation.h"
#include "api/validation_internal.h"

namespace nanokube::api::detail {

namespace {

const std::vector<std::string> kProtocols = {"SCTP", "TCP", "UDP"};  // sets.List() order
const char* kQuantityRegexMsg =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

// The volume source fields a pod volume may carry; exactly one must be set.
const std::set<std::string> kVolumeSources = {
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret",
    "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs",
    "flocker", "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte",
    "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos",
    "csi", "ephemeral", "image"};

void requireName(const Json& src, const char* key, const std::string& path, ErrorList& errs) {
  if (str(src, key).empty()) errs.push_back(required(path + "." + key));
}

void validateVolumeSource(const Json& vol, const std::string& path, ErrorList& errs) {
  std::vector<std::string> sources;
  for (const auto& [k, v] : vol.items()) {
    if (kVolumeSources.count(k) && !v.is_null()) sources.push_back(k);
  }
  if (sources.empty()) {
    errs.push_back(required(path, "must specify a volume type"));
    return;
  }
  for (size_t i = 1; i < sources.size(); ++i) {
    errs.push_back(forbidden(path + "." + sources[i], "may not specify more than 1 volume type"));
  }
  const std::string& s = sources[0];
  const Json& src = vol[s];
  if (s == "hostPath") requireName(src, "path", path + ".hostPath", errs);
  if (s == "configMap") requireName(src, "name", path + ".configMap", errs);
  if (s == "secret") requireName(src, "secretName", path + ".secret", errs);
  if (s == "persistentVolumeClaim") requireName(src, "claimName", path + ".persistentVolumeClaim", errs);
  if (s == "nfs") {
    requireName(src, "server", path + ".nfs", errs);
    requireName(src, "path", path + ".nfs", errs);
  }
}

// Returns the names of the valid volumes, which volume mounts may refer to.
std::set<std::string> validateVolumes(const Json& spec, const std::string& path, ErrorList& errs) {
  std::set<std::string> names;
  const Json& vols = array(spec, "volumes");
  for (size_t i = 0; i < vols.size(); ++i) {
    ErrorList el;
    std::string p = idx(path, i);
    validateVolumeSource(vols[i], p, el);
    std::string name = str(vols[i], "name");
    if (name.empty()) {
      el.push_back(required(p + ".name"));
    } else {
      for (const auto& m : checkDns1123Label(name)) el.push_back(invalid(p + ".name", quote(name), m));
    }
    if (names.count(name)) el.push_back(duplicate(p + ".name", quote(name)));
    if (el.empty()) names.insert(name);
    errs.insert(errs.end(), el.begin(), el.end());
  }
  return names;
}

void validatePortNumOrName(const Json* port, const std::string& path, ErrorList& errs) {
  if (port == nullptr) {
    errs.push_back(invalid(path, "0", "must be between 1 and 65535, inclusive"));
  } else if (port->is_number()) {
    for (const auto& m : isValidPortNum(port->get<int64_t>())) errs.push_back(invalid(path, port->dump(), m));
  } else if (port->is_string()) {
    std::string name = port->get<std::string>();
    for (const auto& m : isValidPortName(name)) errs.push_back(invalid(path, quote(name), m));
  }
}

void validateContainerPorts(const Json& ports, const std::string& path, ErrorList& errs) {
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); ++i) {
    const Json& p = ports[i];
    std::string pp = idx(path, i);
    std::string name = str(p, "name");
    if (!name.empty()) {
      auto msgs = isValidPortName(name);
      for (const auto& m : msgs) errs.push_back(invalid(pp + ".name", quote(name), m));
      if (msgs.empty() && !names.insert(name).second) errs.push_back(duplicate(pp + ".name", quote(name)));
    }
    auto cp = integer(p, "containerPort").value_or(0);
    if (cp == 0) {
      errs.push_back(required(pp + ".containerPort"));
    } else {
      for (const auto& m : isValidPortNum(cp)) errs.push_back(invalid(pp + ".containerPort", std::to_string(cp), m));
    }
    auto hp = integer(p, "hostPort").value_or(0);
    if (hp != 0) {
      for (const auto& m : isValidPortNum(hp)) errs.push_back(invalid(pp + ".hostPort", std::to_string(hp), m));
    }
    std::string proto = str(p, "protocol");
    if (proto.empty()) {
      errs.push_back(required(pp + ".protocol"));
    } else if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
      errs.push_back(notSupported(pp + ".protocol", quote(proto), kProtocols));
    }
  }
}

// Two containers of a pod may not claim one hostIP/protocol/hostPort
// (AccumulateUniqueHostPorts). A repeated containerPort is only a warning in Kubernetes.
void checkHostPortConflicts(const Json& containers, const std::string& path, ErrorList& errs) {
  std::set<std::string> seen;
  for (size_t c = 0; c < containers.size(); ++c) {
    const Json& ports = array(containers[c], "ports");
    for (size_t i = 0; i < ports.size(); ++i) {
      auto hp = integer(ports[i], "hostPort").value_or(0);
      if (hp == 0) continue;
      std::string key = str(ports[i], "hostIP") + "/" + str(ports[i], "protocol") + "/" + std::to_string(hp);
      if (!seen.insert(key).second) {
        errs.push_back(duplicate(idx(idx(path, c) + ".ports", i) + ".hostPort", quote(key)));
      }
    }
  }
}

void validateEnv(const Json& env, const std::string& path, ErrorList& errs) {
  for (size_t i = 0; i < env.size(); ++i) {
    std::string p = idx(path, i);
    std::string name = str(env[i], "name");
    if (name.empty()) {
      errs.push_back(required(p + ".name"));
    } else {
      for (const auto& m : isRelaxedEnvVarName(name)) errs.push_back(invalid(p + ".name", quote(name), m));
    }
    const Json* from = child(env[i], "valueFrom");
    if (from == nullptr) continue;
    int sources = 0;
    for (const char* k : {"fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"}) {
      if (has(*from, k)) ++sources;
    }
    if (sources == 0) {
      errs.push_back(invalid(p + ".valueFrom", "\"\"",
                             "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    } else if (!str(env[i], "value").empty()) {
      errs.push_back(invalid(p + ".valueFrom", "\"\"", "may not be specified when `value` is not empty"));
    } else if (sources > 1) {
      errs.push_back(invalid(p + ".valueFrom", "\"\"", "may not have more than one field specified at a time"));
    }
  }
}

void validateVolumeMounts(const Json& mounts, const std::set<std::string>& volumes,
                          const std::string& path, ErrorList& errs) {
  std::set<std::string> paths;
  for (size_t i = 0; i < mounts.size(); ++i) {
    std::string p = idx(path, i);
    std::string name = str(mounts[i], "name");
    std::string mountPath = str(mounts[i], "mountPath");
    if (name.empty()) errs.push_back(required(p + ".name"));
    if (!volumes.count(name)) errs.push_back(notFound(p + ".name", quote(name)));
    if (mountPath.empty()) errs.push_back(required(p + ".mountPath"));
    if (!paths.insert(mountPath).second) errs.push_back(invalid(p + ".mountPath", quote(mountPath), "must be unique"));
  }
}

bool isStandardContainerResource(const std::string& name) {
  return name == "cpu" || name == "memory" || name == "ephemeral-storage" ||
         name.starts_with("hugepages-");
}

// Parses every quantity of a ResourceList, reporting the bad ones.
std::map<std::string, Quantity> resourceList(const Json& list, const std::string& path, ErrorList& errs) {
  std::map<std::string, Quantity> out;
  if (!list.is_object()) return out;
  for (const auto& [name, value] : list.items()) {
    std::string p = path + "[" + name + "]";
    if (name.find('/') == std::string::npos && !isStandardContainerResource(name)) {
      errs.push_back(invalid(p, quote(name), "must be a standard resource for containers"));
    }
    auto q = parseQuantity(value);
    if (!q) {
      errs.push_back(invalid(p, render(value), kQuantityRegexMsg));
    } else if (q->nanos < 0) {
      errs.push_back(invalid(p, quote(q->str()), "must be greater than or equal to 0"));
    } else {
      out.emplace(name, *q);
    }
  }
  return out;
}

void validateResources(const Json& res, const std::string& path, ErrorList& errs) {
  auto limits = resourceList(object(res, "limits"), path + ".limits", errs);
  auto requests = resourceList(object(res, "requests"), path + ".requests", errs);
  for (const auto& [name, req] : requests) {
    auto lim = limits.find(name);
    if (lim == limits.end()) continue;
    // Extended resources and huge pages cannot be overcommitted: request must equal limit.
    bool overcommit = name.find('/') == std::string::npos && !name.starts_with("hugepages-");
    if (!overcommit && req.compare(lim->second) != 0) {
      errs.push_back(invalid(path + ".requests", quote(req.str()),
                             "must be equal to " + name + " limit of " + lim->second.str()));
    } else if (req.compare(lim->second) > 0) {
      errs.push_back(invalid(path + ".requests", quote(req.str()),
                             "must be less than or equal to " + name + " limit of " + lim->second.str()));
    }
  }
}

void validateHandler(const Json& probe, const std::string& path, ErrorList& errs) {
  std::vector<std::string> handlers;
  for (const char* k : {"exec", "httpGet", "tcpSocket", "grpc"}) {
    if (has(probe, k)) handlers.push_back(k);
  }
  if (handlers.empty()) {
    errs.push_back(required(path, "must specify a handler type"));
    return;
  }
  for (size_t i = 1; i < handlers.size(); ++i) {
    errs.push_back(forbidden(path + "." + handlers[i], "may not specify more than 1 handler type"));
  }
  const Json& h = probe[handlers[0]];
  std::string hp = path + "." + handlers[0];
  if (handlers[0] == "exec" && array(h, "command").empty()) errs.push_back(required(hp + ".command"));
  if (handlers[0] == "httpGet") {
    if (str(h, "path").empty()) errs.push_back(required(hp + ".path"));
    validatePortNumOrName(child(h, "port"), hp + ".port", errs);
    std::string scheme = str(h, "scheme");
    if (scheme != "HTTP" && scheme != "HTTPS") errs.push_back(notSupported(hp + ".scheme", quote(scheme), {"HTTP", "HTTPS"}));
  }
  if (handlers[0] == "tcpSocket") validatePortNumOrName(child(h, "port"), hp + ".port", errs);
}

void validateProbe(const Json& c, const char* key, bool mustSucceedOnce, const std::string& path,
                   ErrorList& errs) {
  const Json* probe = child(c, key);
  if (probe == nullptr) return;
  std::string p = path + "." + key;
  validateHandler(*probe, p, errs);
  for (const char* f : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                        "failureThreshold"}) {
    validateNonnegative(*probe, f, p + "." + f, errs);
  }
  auto st = integer(*probe, "successThreshold");
  if (mustSucceedOnce && st && *st != 1) errs.push_back(invalid(p + ".successThreshold", std::to_string(*st), "must be 1"));
}

void validateContainerCommon(const Json& c, const std::set<std::string>& volumes,
                             const std::string& path, ErrorList& errs) {
  std::string name = str(c, "name");
  if (name.empty()) {
    errs.push_back(required(path + ".name"));
  } else {
    for (const auto& m : checkDns1123Label(name)) errs.push_back(invalid(path + ".name", quote(name), m));
  }
  if (str(c, "image").empty()) errs.push_back(required(path + ".image"));
  std::string tmp = str(c, "terminationMessagePolicy");
  if (tmp.empty()) {
    errs.push_back(required(path + ".terminationMessagePolicy"));
  } else if (tmp != "File" && tmp != "FallbackToLogsOnError") {
    errs.push_back(notSupported(path + ".terminationMessagePolicy", quote(tmp), {"File", "FallbackToLogsOnError"}));
  }
  validateContainerPorts(array(c, "ports"), path + ".ports", errs);
  validateEnv(array(c, "env"), path + ".env", errs);
  validateVolumeMounts(array(c, "volumeMounts"), volumes, path + ".volumeMounts", errs);
  std::string pull = str(c, "imagePullPolicy");
  if (pull.empty()) {
    errs.push_back(required(path + ".imagePullPolicy"));
  } else if (pull != "Always" && pull != "IfNotPresent" && pull != "Never") {
    errs.push_back(notSupported(path + ".imagePullPolicy", quote(pull), {"Always", "IfNotPresent", "Never"}));
  }
  validateResources(object(c, "resources"), path + ".resources", errs);
}

void validateContainers(const Json& spec, const std::set<std::string>& volumes,
                        const std::string& path, ErrorList& errs) {
  const Json& containers = array(spec, "containers");
  std::string p = path + ".containers";
  if (containers.empty()) {
    errs.push_back(required(p));
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < containers.size(); ++i) {
    const Json& c = containers[i];
    std::string cp = idx(p, i);
    validateContainerCommon(c, volumes, cp, errs);
    if (!names.insert(str(c, "name")).second) errs.push_back(duplicate(cp + ".name", quote(str(c, "name"))));
    validateProbe(c, "livenessProbe", true, cp, errs);
    validateProbe(c, "readinessProbe", false, cp, errs);
    validateProbe(c, "startupProbe", true, cp, errs);
  }
  checkHostPortConflicts(containers, p, errs);
}

void validateInitContainers(const Json& spec, const std::set<std::string>& volumes,
                            const std::string& path, ErrorList& errs) {
  const Json& inits = array(spec, "initContainers");
  std::string p = path + ".initContainers";
  std::set<std::string> names;
  for (const auto& c : array(spec, "containers")) names.insert(str(c, "name"));
  for (size_t i = 0; i < inits.size(); ++i) {
    const Json& c = inits[i];
    std::string cp = idx(p, i);
    validateContainerCommon(c, volumes, cp, errs);
    if (!names.insert(str(c, "name")).second) errs.push_back(duplicate(cp + ".name", quote(str(c, "name"))));
    bool sidecar = str(c, "restartPolicy") == "Always";
    for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      if (!sidecar && has(c, probe)) errs.push_back(forbidden(cp + "." + probe, "may not be set for init containers without restartPolicy=Always"));
    }
  }
  checkHostPortConflicts(inits, p, errs);
}

void validatePolicies(const Json& spec, const std::string& path, ErrorList& errs) {
  std::string rp = str(spec, "restartPolicy");
  if (rp.empty()) {
    errs.push_back(required(path + ".restartPolicy"));
  } else if (rp != "Always" && rp != "OnFailure" && rp != "Never") {
    errs.push_back(notSupported(path + ".restartPolicy", quote(rp), {"Always", "OnFailure", "Never"}));
  }
  std::string dns = str(spec, "dnsPolicy");
  if (dns.empty()) {
    errs.push_back(required(path + ".dnsPolicy"));
  } else if (dns != "ClusterFirstWithHostNet" && dns != "ClusterFirst" && dns != "Default" && dns != "None") {
    errs.push_back(notSupported(path + ".dnsPolicy", quote(dns), {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"}));
  }
}

void validateNames(const Json& spec, const std::string& path, ErrorList& errs) {
  std::string sa = str(spec, "serviceAccountName");
  for (const auto& m : sa.empty() ? std::vector<std::string>{} : checkDns1123Subdomain(sa)) {
    errs.push_back(invalid(path + ".serviceAccountName", quote(sa), m));
  }
  std::string node = str(spec, "nodeName");
  for (const auto& m : node.empty() ? std::vector<std::string>{} : checkDns1123Subdomain(node)) {
    errs.push_back(invalid(path + ".nodeName", quote(node), m));
  }
  for (const char* key : {"hostname", "subdomain"}) {
    std::string v = str(spec, key);
    if (v.empty()) continue;
    for (const auto& m : checkDns1123Label(v)) errs.push_back(invalid(path + "." + key, quote(v), m));
  }
  auto ads = integer(spec, "activeDeadlineSeconds");
  if (ads && (*ads < 1 || *ads > 2147483647)) {
    errs.push_back(invalid(path + ".activeDeadlineSeconds", std::to_string(*ads),
                           "must be between 1 and 2147483647, inclusive"));
  }
}

}  // namespace

void validatePodSpec(const Json& spec, const std::string& path, ErrorList& errs) {
  auto volumes = validateVolumes(spec, path + ".volumes", errs);
  validateContainers(spec, volumes, path, errs);
  validateInitContainers(spec, volumes, path, errs);
  validatePolicies(spec, path, errs);
  validateLabels(object(spec, "nodeSelector"), path + ".nodeSelector", errs);
  validateNames(spec, path, errs);
}

void validatePodTemplate(const Json& tmpl, const std::string& path, ErrorList& errs) {
  // Kubernetes reports template metadata at "<path>.labels", without "metadata"
  // (ValidatePodTemplateSpec).
  const Json& meta = object(tmpl, "metadata");
  validateLabels(object(meta, "labels"), path + ".labels", errs);
  validateAnnotations(object(meta, "annotations"), path + ".annotations", errs);
  validatePodSpec(object(tmpl, "spec"), path + ".spec", errs);
}

}  // namespace nanokube::api::detail
