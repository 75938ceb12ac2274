// Column sets and cells for every served kind, ported from Kubernetes'
// pkg/printers/internalversion/printers.go (AddHandlers and the print<Kind> functions).
// Cells Go prints as int64 are JSON numbers even where the column's declared type is
// "string" (ConfigMap Data, Event Count, ...): that is what a real server sends.

#include <algorithm>
#include <map>
#include <set>

#include "api/selector.h"
#include "api/table.h"
#include "api/table_docs.h"
#include "api/table_internal.h"

namespace nanokube::api::table {

namespace {

constexpr const char* kContainersDoc = "Names of each container in the template.";
constexpr const char* kImagesDoc = "Images referenced by each container in the template.";

const Column kNameCol{"Name", "string", "name", docs::kName, 0};
const Column kAgeCol{"Age", "string", "", docs::kCreationTimestamp, 0};
const Column kContainersCol{"Containers", "string", "", kContainersDoc, 1};
const Column kImagesCol{"Images", "string", "", kImagesDoc, 1};

std::string orNone(std::string s) { return s.empty() ? "<none>" : s; }
std::string name(const Json& obj) { return str(obj, {"metadata", "name"}); }

const Json& templateSpec(const Json& obj) {
  static const Json kEmpty = Json::object();
  const Json* spec = at(obj, {"spec", "template", "spec"});
  return spec != nullptr ? *spec : kEmpty;
}

// --- services -------------------------------------------------------------------

// loadBalancerStatusStringer with wide=true (the server always prints wide), so
// the list is never clipped to 16 characters.
std::string loadBalancerIngress(const Json& svc) {
  std::set<std::string> result;
  for (const auto& ing : arr(svc, {"status", "loadBalancer", "ingress"})) {
    if (!str(ing, {"ip"}).empty()) {
      result.insert(str(ing, {"ip"}));
    } else if (!str(ing, {"hostname"}).empty()) {
      result.insert(str(ing, {"hostname"}));
    }
  }
  std::string out;
  for (const auto& s : result) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string joinStrings(const Json& list) {
  std::string out;
  for (const auto& v : list) out += (out.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

// printers.go getServiceExternalIP.
std::string serviceExternalIP(const Json& svc) {
  std::string type = str(svc, {"spec", "type"});
  const Json& externalIPs = arr(svc, {"spec", "externalIPs"});
  if (type == "ClusterIP" || type == "NodePort") {
    return externalIPs.empty() ? "<none>" : joinStrings(externalIPs);
  }
  if (type == "LoadBalancer") {
    std::string lb = loadBalancerIngress(svc);
    if (!externalIPs.empty()) {
      std::string ext = joinStrings(externalIPs);
      return lb.empty() ? ext : lb + "," + ext;
    }
    return lb.empty() ? "<pending>" : lb;
  }
  if (type == "ExternalName") return str(svc, {"spec", "externalName"});
  return "<unknown>";
}

// printers.go makePortString.
std::string servicePorts(const Json& svc) {
  std::string out;
  for (const auto& p : arr(svc, {"spec", "ports"})) {
    std::string piece = std::to_string(num(p, {"port"}));
    if (num(p, {"nodePort"}) > 0) piece += ":" + std::to_string(num(p, {"nodePort"}));
    piece += "/" + str(p, {"protocol"});
    out += (out.empty() ? "" : ",") + piece;
  }
  return out;
}

Json serviceCells(const Json& svc, TimePoint now) {
  // Defaulting fills clusterIPs from clusterIP; fall back for objects stored before it.
  const Json& ips = arr(svc, {"spec", "clusterIPs"});
  std::string clusterIP = !ips.empty() && ips[0].is_string() ? ips[0].get<std::string>()
                                                              : str(svc, {"spec", "clusterIP"});
  return Json::array({name(svc), str(svc, {"spec", "type"}), orNone(clusterIP),
                      serviceExternalIP(svc), orNone(servicePorts(svc)), age(svc, now),
                      formatLabels(at(svc, {"spec", "selector"}))});
}

// --- workloads ------------------------------------------------------------------

Json replicationControllerCells(const Json& rc, TimePoint now) {
  auto [names, images] = containerCells(templateSpec(rc));
  return Json::array({name(rc), num(rc, {"spec", "replicas"}), num(rc, {"status", "replicas"}),
                      num(rc, {"status", "readyReplicas"}), age(rc, now), names, images,
                      formatLabels(at(rc, {"spec", "selector"}))});
}

Json replicaSetCells(const Json& rs, TimePoint now) {
  auto [names, images] = containerCells(templateSpec(rs));
  return Json::array({name(rs), num(rs, {"spec", "replicas"}), num(rs, {"status", "replicas"}),
                      num(rs, {"status", "readyReplicas"}), age(rs, now), names, images,
                      formatLabelSelector(at(rs, {"spec", "selector"}))});
}

Json deploymentCells(const Json& d, TimePoint now) {
  auto [names, images] = containerCells(templateSpec(d));
  // printDeployment uses LabelSelectorAsSelector(...).String() directly: no "<none>".
  std::string selector;
  if (const Json* sel = at(d, {"spec", "selector"}); sel != nullptr && !sel->is_null()) {
    auto parsed = labelSelectorFromJson(*sel);
    selector = parsed ? parsed->str() : "<invalid>";
  }
  std::string ready = std::to_string(num(d, {"status", "readyReplicas"})) + "/" +
                      std::to_string(num(d, {"spec", "replicas"}));
  return Json::array({name(d), ready, num(d, {"status", "updatedReplicas"}),
                      num(d, {"status", "availableReplicas"}), age(d, now), names, images,
                      selector});
}

Json daemonSetCells(const Json& ds, TimePoint now) {
  auto [names, images] = containerCells(templateSpec(ds));
  return Json::array({name(ds), num(ds, {"status", "desiredNumberScheduled"}),
                      num(ds, {"status", "currentNumberScheduled"}),
                      num(ds, {"status", "numberReady"}),
                      num(ds, {"status", "updatedNumberScheduled"}),
                      num(ds, {"status", "numberAvailable"}),
                      formatLabels(at(templateSpec(ds), {"nodeSelector"})), age(ds, now), names,
                      images, formatLabelSelector(at(ds, {"spec", "selector"}))});
}

// printers.go hasJobCondition: the first condition of the type decides.
bool hasJobCondition(const Json& job, std::string_view type) {
  for (const auto& c : arr(job, {"status", "conditions"})) {
    if (str(c, {"type"}) == type) return str(c, {"status"}) == "True";
  }
  return false;
}

std::string jobStatus(const Json& job) {
  if (hasJobCondition(job, "Complete")) return "Complete";
  if (hasJobCondition(job, "Failed")) return "Failed";
  const Json* deletion = at(job, {"metadata", "deletionTimestamp"});
  if (deletion != nullptr && !deletion->is_null()) return "Terminating";
  if (hasJobCondition(job, "Suspended")) return "Suspended";
  if (hasJobCondition(job, "FailureTarget")) return "FailureTarget";
  return "Running";
}

Json jobCells(const Json& job, TimePoint now) {
  std::string succeeded = std::to_string(num(job, {"status", "succeeded"}));
  std::string completions;
  if (const Json* c = at(job, {"spec", "completions"}); c != nullptr && c->is_number()) {
    completions = succeeded + "/" + std::to_string(num(job, {"spec", "completions"}));
  } else if (std::int64_t parallelism = num(job, {"spec", "parallelism"}); parallelism > 1) {
    completions = succeeded + "/1 of " + std::to_string(parallelism);
  } else {
    completions = succeeded + "/1";
  }
  std::string duration;
  auto start = parseRfc3339(str(job, {"status", "startTime"}));
  auto completion = parseRfc3339(str(job, {"status", "completionTime"}));
  if (start) duration = humanDuration((completion ? *completion : now) - *start);
  auto [names, images] = containerCells(templateSpec(job));
  return Json::array({name(job), jobStatus(job), completions, duration, age(job, now), names,
                      images, formatLabelSelector(at(job, {"spec", "selector"}))});
}

// --- discovery ------------------------------------------------------------------

// net.JoinHostPort: brackets around IPv6 addresses.
std::string joinHostPort(const std::string& host, std::int64_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// printers.go formatEndpoints with ports=nil: the first three, then " + N more...".
std::string formatEndpoints(const Json& ep) {
  const Json& subsets = arr(ep, {"subsets"});
  if (subsets.empty()) return "<none>";
  constexpr size_t kMax = 3;
  std::vector<std::string> list;
  bool more = false;
  size_t count = 0;
  auto add = [&](std::string s) {
    if (list.size() == kMax) {
      more = true;
      return false;
    }
    list.push_back(std::move(s));
    return true;
  };
  for (const auto& ss : subsets) {
    const Json& addresses = arr(ss, {"addresses"});
    const Json& ports = arr(ss, {"ports"});
    if (ports.empty()) {  // headless services may have no ports
      count += addresses.size();
      for (const auto& a : addresses) {
        if (!add(str(a, {"ip"}))) break;
      }
      continue;
    }
    for (const auto& p : ports) {
      count += addresses.size();
      for (const auto& a : addresses) {
        if (!add(joinHostPort(str(a, {"ip"}), num(p, {"port"})))) break;
      }
    }
  }
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : ",") + s;
  if (more) out += " + " + std::to_string(count - kMax) + " more...";
  return out;
}

Json endpointsCells(const Json& ep, TimePoint now) {
  return Json::array({name(ep), formatEndpoints(ep), age(ep, now)});
}

// printers.go listWithMoreString, shared by the EndpointSlice ports and endpoints.
std::string listWithMore(const std::vector<std::string>& all) {
  constexpr size_t kMax = 3;
  std::string out;
  for (size_t i = 0; i < all.size() && i < kMax; ++i) out += (i ? "," : "") + all[i];
  if (all.size() > kMax) return out + " + " + std::to_string(all.size() - kMax) + " more...";
  return out.empty() ? "<unset>" : out;
}

Json endpointSliceCells(const Json& slice, TimePoint now) {
  std::vector<std::string> ports;
  for (const auto& p : arr(slice, {"ports"})) {
    const Json* port = at(p, {"port"});
    if (port != nullptr && port->is_number()) {
      ports.push_back(std::to_string(num(p, {"port"})));
    } else if (const Json* n = at(p, {"name"}); n != nullptr && n->is_string()) {
      ports.push_back(n->get<std::string>());
    } else {
      ports.push_back("*");
    }
  }
  std::vector<std::string> addresses;
  for (const auto& e : arr(slice, {"endpoints"})) {
    for (const auto& a : arr(e, {"addresses"})) {
      addresses.push_back(a.is_string() ? a.get<std::string>() : a.dump());
    }
  }
  return Json::array({name(slice), str(slice, {"addressType"}), listWithMore(ports),
                      listWithMore(addresses), age(slice, now)});
}

}  // namespace

// Defined in table_printers_core.cc.
Json nodeCells(const Json& node, TimePoint now);
Json eventCells(const Json& ev, TimePoint now);
Json namespaceCells(const Json& ns, TimePoint now);
Json configMapCells(const Json& cm, TimePoint now);
Json serviceAccountCells(const Json& sa, TimePoint now);
Json leaseCells(const Json& lease, TimePoint now);
Json defaultCells(const Json& obj, TimePoint now);

namespace {

std::map<std::string, Printer, std::less<>> buildPrinters() {
  using namespace docs;
  std::map<std::string, Printer, std::less<>> p;
  p["Pod"] = {{kNameCol,
               {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
               {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
               {"Restarts", "string", "",
                "The number of times the containers in this pod have been restarted and when the "
                "last container in this pod has restarted.",
                0},
               kAgeCol,
               {"IP", "string", "", kPodIP, 1},
               {"Node", "string", "", kNodeName, 1},
               {"Nominated Node", "string", "", kNominatedNodeName, 1},
               {"Readiness Gates", "string", "", kReadinessGates, 1}},
              podCells,
              podConditions};
  p["Service"] = {{kNameCol,
                   {"Type", "string", "", kSvcType, 0},
                   {"Cluster-IP", "string", "", kSvcClusterIP, 0},
                   {"External-IP", "string", "", kSvcExternalIPs, 0},
                   {"Port(s)", "string", "", kSvcPorts, 0},
                   kAgeCol,
                   {"Selector", "string", "", kSvcSelector, 1}},
                  serviceCells};
  p["ReplicationController"] = {{kNameCol,
                                 {"Desired", "integer", "", kRcSpecReplicas, 0},
                                 {"Current", "integer", "", kRcStatusReplicas, 0},
                                 {"Ready", "integer", "", kRcStatusReady, 0},
                                 kAgeCol, kContainersCol, kImagesCol,
                                 {"Selector", "string", "", kRcSpecSelector, 1}},
                                replicationControllerCells};
  p["ReplicaSet"] = {{kNameCol,
                      {"Desired", "integer", "", kRsSpecReplicas, 0},
                      {"Current", "integer", "", kRsStatusReplicas, 0},
                      {"Ready", "integer", "", kRsStatusReady, 0},
                      kAgeCol, kContainersCol, kImagesCol,
                      {"Selector", "string", "", kRsSpecSelector, 1}},
                     replicaSetCells};
  p["Deployment"] = {{kNameCol,
                      {"Ready", "string", "", "Number of the pod with ready state", 0},
                      {"Up-to-date", "string", "", kDeployUpdated, 0},
                      {"Available", "string", "", kDeployAvailable, 0},
                      kAgeCol, kContainersCol, kImagesCol,
                      {"Selector", "string", "", kDeploySelector, 1}},
                     deploymentCells};
  p["DaemonSet"] = {{kNameCol,
                     {"Desired", "integer", "", kDsDesired, 0},
                     {"Current", "integer", "", kDsCurrent, 0},
                     {"Ready", "integer", "", kDsReady, 0},
                     {"Up-to-date", "integer", "", kDsUpdated, 0},
                     {"Available", "integer", "", kDsAvailable, 0},
                     {"Node Selector", "string", "", kNodeSelector, 0},
                     kAgeCol, kContainersCol, kImagesCol,
                     {"Selector", "string", "", kDsSelector, 1}},
                    daemonSetCells};
  p["Job"] = {{kNameCol,
               {"Status", "string", "", "Status of the job.", 0},
               {"Completions", "string", "", kJobSucceeded, 0},
               {"Duration", "string", "", "Time required to complete the job.", 0},
               kAgeCol, kContainersCol, kImagesCol,
               {"Selector", "string", "", kJobSelector, 1}},
              jobCells};
  p["Endpoints"] = {{kNameCol, {"Endpoints", "string", "", kEpSubsets, 0}, kAgeCol}, endpointsCells};
  p["EndpointSlice"] = {{kNameCol,
                         {"AddressType", "string", "", kSliceAddressType, 0},
                         {"Ports", "string", "", kSlicePorts, 0},
                         {"Endpoints", "string", "", kSliceEndpoints, 0},
                         kAgeCol},
                        endpointSliceCells};
  p["Node"] = {{kNameCol,
                {"Status", "string", "", "The status of the node", 0},
                {"Roles", "string", "", "The roles of the node", 0},
                kAgeCol,
                {"Version", "string", "", kKubeletVersion, 0},
                {"Internal-IP", "string", "", kNodeAddresses, 1},
                {"External-IP", "string", "", kNodeAddresses, 1},
                {"OS-Image", "string", "", kOsImage, 1},
                {"Kernel-Version", "string", "", kKernelVersion, 1},
                {"Container-Runtime", "string", "", kRuntimeVersion, 1}},
               nodeCells};
  p["Event"] = {{{"Last Seen", "string", "", kEvLast, 0},
                 {"Type", "string", "", kEvType, 0},
                 {"Reason", "string", "", kEvReason, 0},
                 {"Object", "string", "", kEvObject, 0},
                 {"Subobject", "string", "", kEvFieldPath, 1},
                 {"Source", "string", "", kEvSource, 1},
                 {"Message", "string", "", kEvMessage, 0},
                 {"First Seen", "string", "", kEvFirst, 1},
                 {"Count", "string", "", kEvCount, 1},
                 {"Name", "string", "name", kName, 1}},
                eventCells};
  p["Namespace"] = {{kNameCol, {"Status", "string", "", "The status of the namespace", 0}, kAgeCol},
                    namespaceCells};
  p["ConfigMap"] = {{kNameCol, {"Data", "string", "", kCmData, 0}, kAgeCol}, configMapCells};
  p["ServiceAccount"] = {{kNameCol, {"Secrets", "string", "", kSaSecrets, 0}, kAgeCol},
                         serviceAccountCells};
  p["Lease"] = {{kNameCol, {"Holder", "string", "", kLeaseHolder, 0}, kAgeCol}, leaseCells};
  return p;
}

}  // namespace

const Printer& printerFor(std::string_view kind) {
  static const auto printers = buildPrinters();
  // The generic TableConvertor (apiserver pkg/registry/rest/table.go) for kinds
  // without a printer: Name and "Created At".
  static const Printer fallback{
      {kNameCol, {"Created At", "date", "", docs::kCreationTimestamp, 0}}, defaultCells};
  auto it = printers.find(kind);
  return it != printers.end() ? it->second : fallback;
}

}  // namespace nanokube::api::table
