#include "apiserver/handler.h"

#include <fmt/format.h>

#include "api/object.h"
#include "api/schema.h"
#include "api/table.h"
#include "apiserver/discovery.h"
#include "apiserver/node_proxy.h"
#include "apiserver/request_info.h"
#include "apiserver/yaml.h"

namespace nanokube::apiserver {

namespace {

constexpr size_t kMaxBody = 3 * 1024 * 1024;  // Kubernetes' MaxRequestBodyBytes

constexpr const char* kTableContentType = "application/json;as=Table;v=v1;g=meta.k8s.io";

// A Table answer carries the negotiated media type, as Kubernetes sends it.
HttpResponse tableResponse(const Json& table) {
  HttpResponse resp = jsonResponse(200, table);
  resp.contentType = kTableContentType;
  return resp;
}

bool wantsTable(const std::string& accept) { return accept.find("as=Table") != std::string::npos; }

api::IncludeObject includeObjectOf(const Query& q) {
  std::string v = queryValue(q, "includeObject");
  if (v == "None") return api::IncludeObject::kNone;
  if (v == "Object") return api::IncludeObject::kObject;
  return api::IncludeObject::kMetadata;
}

Result<ListOptions> listOptionsOf(const api::ResourceInfo& r, const Query& q) {
  ListOptions o;
  if (auto s = queryValue(q, "labelSelector"); !s.empty()) {
    auto sel = api::parseLabelSelector(s);
    if (!sel) return std::unexpected(sel.error());
    o.labels = std::move(*sel);
  }
  if (auto s = queryValue(q, "fieldSelector"); !s.empty()) {
    auto sel = api::parseFieldSelector(r, s);
    if (!sel) return std::unexpected(sel.error());
    o.fields = std::move(*sel);
  }
  o.resourceVersion = queryValue(q, "resourceVersion");
  o.resourceVersionMatch = queryValue(q, "resourceVersionMatch");
  if (auto s = queryValue(q, "limit"); !s.empty()) o.limit = std::atoll(s.c_str());
  o.continueToken = queryValue(q, "continue");
  o.allowWatchBookmarks = queryValue(q, "allowWatchBookmarks") == "true";
  return o;
}

Result<WriteOptions> writeOptionsOf(const Query& q) {
  WriteOptions o;
  std::string fv = queryValue(q, "fieldValidation");
  if (fv == "Strict") o.fieldValidation = FieldValidation::kStrict;
  else if (fv == "Ignore") o.fieldValidation = FieldValidation::kIgnore;
  else if (fv == "Warn" || fv.empty()) o.fieldValidation = FieldValidation::kWarn;
  else {
    return fail(Code::kBadRequest,
                fmt::format("fieldValidation must be one of \"Ignore\", \"Warn\" or \"Strict\", got \"{}\"", fv));
  }
  std::string dry = queryValue(q, "dryRun");
  if (dry == "All") o.dryRun = true;
  else if (!dry.empty()) return fail(Code::kBadRequest, fmt::format("Invalid dry run value: {}", dry));
  return o;
}

// The media type of a request body, without parameters.
std::string mediaType(const std::string& contentType) {
  std::string t = contentType.substr(0, contentType.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

Result<Json> decodeBody(const HttpRequest& req, const api::ResourceInfo* r) {
  std::string type = mediaType(req.header("content-type"));
  if (type == "application/vnd.kubernetes.protobuf") {
    return fail(Code::kUnsupportedMediaType,
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml (nanokube does not decode protobuf bodies; create the object "
                "from a manifest with `kubectl create -f` or `kubectl apply -f`)");
  }
  if (type == "application/yaml") return yamlToJson(req.body);
  if (!type.empty() && type != "application/json" && type != "application/merge-patch+json" &&
      type != "application/strategic-merge-patch+json" && type != "application/json-patch+json" &&
      type != "*/*") {
    return fail(Code::kUnsupportedMediaType,
                fmt::format("the body of the request was in an unknown format - accepted media types include: "
                            "application/json, application/yaml (got {})",
                            type));
  }
  Json body = Json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    // Find the syntax error's position for the message, as encoding/json reports it.
    std::string detail = "invalid JSON";
    try {
      (void)Json::parse(req.body);
    } catch (const Json::parse_error& e) {
      detail = e.what();
    }
    // The decoder could not even read apiVersion/kind (transformDecodeError in
    // k8s.io/apiserver/pkg/endpoints/handlers/rest.go).
    if (r != nullptr) {
      return fail(Code::kBadRequest,
                  fmt::format("the object provided is unrecognized (must be of type {}): couldn't get version/kind; "
                              "json parse error: {}",
                              r->kind, detail));
    }
    return fail(Code::kBadRequest, "couldn't get version/kind; json parse error: " + detail);
  }
  return body;
}

Result<DeleteOptions> deleteOptionsOf(const HttpRequest& req, const Query& q) {
  DeleteOptions o;
  Json body = Json::object();
  if (!req.body.empty()) {
    body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return fail(Code::kBadRequest, "couldn't get version/kind; json parse error: invalid DeleteOptions body");
    }
  }
  if (body.contains("gracePeriodSeconds") && body["gracePeriodSeconds"].is_number_integer()) {
    o.gracePeriodSeconds = body["gracePeriodSeconds"].get<int64_t>();
  }
  if (auto s = queryValue(q, "gracePeriodSeconds"); !s.empty()) o.gracePeriodSeconds = std::atoll(s.c_str());
  o.propagationPolicy = body.value("propagationPolicy", "");
  if (auto s = queryValue(q, "propagationPolicy"); !s.empty()) o.propagationPolicy = s;
  if (body.value("orphanDependents", false) || queryValue(q, "orphanDependents") == "true") {
    o.propagationPolicy = "Orphan";
  }
  if (!o.propagationPolicy.empty() && o.propagationPolicy != "Orphan" && o.propagationPolicy != "Background" &&
      o.propagationPolicy != "Foreground") {
    return fail(Code::kInvalid,
                fmt::format("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: "
                            "\"{}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
                            o.propagationPolicy));
  }
  if (body.contains("preconditions") && body["preconditions"].is_object()) {
    o.preconditionUid = body["preconditions"].value("uid", "");
    o.preconditionResourceVersion = body["preconditions"].value("resourceVersion", "");
  }
  const Json dry = body.value("dryRun", Json::array());
  o.dryRun = queryValue(q, "dryRun") == "All" || (dry.is_array() && !dry.empty());
  return o;
}

}  // namespace

void WatchQueue::push(std::string line) {
  std::function<void()> notify;
  {
    std::lock_guard lock(mu_);
    lines_.push_back(std::move(line));
    notify = notify_;
  }
  if (notify) notify();
}

std::vector<std::string> WatchQueue::drain() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out(std::make_move_iterator(lines_.begin()), std::make_move_iterator(lines_.end()));
  lines_.clear();
  return out;
}

void WatchQueue::setNotify(std::function<void()> notify) {
  bool pending;
  {
    std::lock_guard lock(mu_);
    notify_ = std::move(notify);
    pending = !lines_.empty();
  }
  if (pending && notify_) notify_();
}

std::string dumpJson(const Json& value) {
  // Request bodies may carry invalid UTF-8 that ends up in a message; replace it
  // rather than fail to answer.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

HttpResponse jsonResponse(int status, const Json& body) {
  HttpResponse resp;
  resp.status = status;
  resp.body = dumpJson(body);
  return resp;
}

HttpResponse errorResponse(const Error& error) { return jsonResponse(httpStatus(error.code), toStatus(error)); }

class RequestContext {
 public:
  std::string path;
  Query query;
  RequestInfo info;
};

Handler::Handler(Registry& registry, std::string serverAddress)
    : registry_(registry), serverAddress_(std::move(serverAddress)) {}

HandlerResult Handler::handle(const HttpRequest& req) {
  // Nothing a client sends may end the connection without an answer: a value of
  // an unexpected JSON type deep in a body surfaces as a json exception.
  try {
    return handleRequest(req);
  } catch (const Json::exception& e) {
    return errorResponse(Error{Code::kBadRequest, fmt::format("the request could not be decoded: {}", e.what())});
  } catch (const std::exception& e) {
    return errorResponse(Error{Code::kInternal, fmt::format("Internal error occurred: {}", e.what())});
  }
}

HandlerResult Handler::handleRequest(const HttpRequest& req) {
  RequestContext ctx;
  splitTarget(req.target, ctx.path, ctx.query);
  if (req.body.size() > kMaxBody) {
    return errorResponse(Error{Code::kRequestEntityTooLarge,
                               fmt::format("Request entity too large: limit is {}", kMaxBody)});
  }
  const std::string& path = ctx.path;
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    HttpResponse resp;
    resp.contentType = "text/plain; charset=utf-8";
    if (ctx.query.count("verbose")) {
      std::string name = path.substr(1);
      resp.body = fmt::format("[+]ping ok\n[+]log ok\n[+]etcd ok\n{} check passed\n", name);
    } else {
      resp.body = "ok";
    }
    return resp;
  }
  if (path == "/version" || path == "/version/") return jsonResponse(200, versionInfo());
  if (path == "/openapi/v3" || path == "/openapi/v3/") return jsonResponse(200, api::openapiV3Index());
  if (path.rfind("/openapi/v3/", 0) == 0) {
    // The documents are served as embedded bytes; parsing them would cost memory.
    if (auto doc = api::openapiV3DocumentText(path.substr(std::string("/openapi/v3/").size()))) {
      HttpResponse resp;
      resp.body = std::string(*doc);
      if (!queryValue(ctx.query, "hash").empty()) {
        resp.headers.emplace_back("Cache-Control", "public, immutable");
      }
      return resp;
    }
  }
  if (path == "/openapi/v2" || path == "/openapi/v2/") {
    // kubectl asks for the OpenAPI v2 document (protobuf) when validating a kind
    // that OpenAPI v3 does not describe, and for apply's patch metadata. An empty
    // protobuf message is a valid, empty openapi_v2.Document: kubectl then skips
    // client-side validation of unknown kinds (and reports them as unknown to the
    // API, as Kubernetes does) and uses its compiled-in patch metadata.
    HttpResponse resp;
    resp.contentType = "application/octet-stream";
    return resp;
  }
  if (req.user.empty()) {
    return errorResponse(Error{Code::kUnauthorized, "Unauthorized"});
  }
  if (auto d = discoveryResponse(path, req.header("accept"), serverAddress_)) return *d;

  ctx.info = parseRequestInfo(req.method, path, ctx.query);
  if (!ctx.info.isResourceRequest || ctx.info.info == nullptr) {
    return errorResponse(Error{Code::kNotFound, "the server could not find the requested resource"});
  }
  return handleResource(req, path, ctx);
}

HandlerResult Handler::handleResource(const HttpRequest& req, const std::string& path, const RequestContext& ctx) {
  const RequestInfo& ri = ctx.info;
  const api::ResourceInfo& r = *ri.info;
  const std::string& ns = ri.namespace_;
  const std::string accept = req.header("accept");
  auto notFound = [] {
    return errorResponse(Error{Code::kNotFound, "the server could not find the requested resource"});
  };
  if (!r.namespaced && !ns.empty()) return notFound();
  if (!ri.subresource.empty() && !r.hasSubresource(ri.subresource)) return notFound();

  auto writeAnswer = [&](int status, const Result<Written>& w) -> HandlerResult {
    if (!w) return errorResponse(w.error());
    HttpResponse resp = jsonResponse(status, w->object);
    for (const auto& warning : w->warnings) {
      // RFC 7234 warn-text is a quoted-string: escape backslashes and quotes.
      std::string quoted;
      for (char c : warning) {
        if (c == '"' || c == '\\') quoted.push_back('\\');
        quoted.push_back(c);
      }
      resp.headers.emplace_back("Warning", fmt::format("299 - \"{}\"", quoted));
    }
    return resp;
  };
  auto objectAnswer = [&](const Result<Json>& obj) -> HandlerResult {
    if (!obj) return errorResponse(obj.error());
    if (wantsTable(accept) && ri.subresource.empty()) {
      std::vector<const Json*> one{&*obj};
      Json meta = {{"resourceVersion", (*obj)["metadata"].value("resourceVersion", "")}};
      return tableResponse(api::toTable(r, one, meta, registry_.now(), includeObjectOf(ctx.query)));
    }
    return jsonResponse(200, *obj);
  };

  if (ri.subresource == "log" || ri.subresource == "exec" || ri.subresource == "attach") return handleNodeProxy(ctx);

  if (ri.verb == "get") return objectAnswer(registry_.get(r, ns, ri.name, ri.subresource));

  if (ri.verb == "list") {
    auto opts = listOptionsOf(r, ctx.query);
    if (!opts) return errorResponse(opts.error());
    if (!wantsTable(accept)) {
      auto text = registry_.listJson(r, ns, *opts);
      if (!text) return errorResponse(text.error());
      HttpResponse resp;
      resp.body = std::move(*text);
      return resp;
    }
    auto list = registry_.list(r, ns, *opts);
    if (!list) return errorResponse(list.error());
    std::vector<const Json*> objs;
    for (const auto& item : (*list)["items"]) objs.push_back(&item);
    return tableResponse(api::toTable(r, objs, (*list)["metadata"], registry_.now(), includeObjectOf(ctx.query)));
  }

  if (ri.verb == "watch") {
    auto opts = listOptionsOf(r, ctx.query);
    if (!opts) return errorResponse(opts.error());
    auto stream = std::make_shared<WatchStream>();
    stream->queue = std::make_shared<WatchQueue>();
    bool table = wantsTable(accept);
    api::IncludeObject include = includeObjectOf(ctx.query);
    auto queue = stream->queue;
    auto lastRevision = std::make_shared<std::atomic<int64_t>>(0);
    auto firstRow = std::make_shared<std::atomic<bool>>(true);
    Registry* reg = &registry_;
    const api::ResourceInfo* rp = &r;
    auto sink = [=](const char* type, const SharedObject& obj) {
      std::string rv = obj.object()["metadata"].value("resourceVersion", "0");
      lastRevision->store(std::atoll(rv.c_str()));
      if (table) {
        std::vector<const Json*> one{&obj.object()};
        // Kubernetes sends the column definitions with the first event only.
        bool first = firstRow->exchange(false);
        Json ev = {{"type", type},
                   {"object", api::toTable(*rp, one, Json{{"resourceVersion", rv}}, reg->now(), include, first)}};
        queue->push(dumpJson(ev) + "\n");
      } else {
        // The object's text is shared by every watcher of the event.
        queue->push(fmt::format("{{\"type\":\"{}\",\"object\":{}}}\n", type, obj.json()));
      }
    };
    int64_t start = 0;
    auto watch = registry_.watch(r, ns, *opts, sink, start);
    if (!watch && watch.error().code == Code::kGone) {
      // Kubernetes answers a watch from a compacted revision with 200 and a single
      // ERROR event carrying the 410 Status; clients then relist.
      Json ev = {{"type", "ERROR"}, {"object", toStatus(watch.error())}};
      stream->queue->push(dumpJson(ev) + "\n");
      stream->endAfterQueued = true;
      return stream;
    }
    if (!watch) return errorResponse(watch.error());
    if (lastRevision->load() < start) lastRevision->store(start);
    stream->watch = std::move(*watch);
    if (auto t = queryValue(ctx.query, "timeoutSeconds"); !t.empty()) stream->timeoutSeconds = std::atoi(t.c_str());
    if (opts->allowWatchBookmarks) {
      std::string kind = r.kind, apiVersion = r.apiVersion();
      stream->bookmark = [=] {
        Json ev = {{"type", "BOOKMARK"},
                   {"object",
                    {{"kind", kind},
                     {"apiVersion", apiVersion},
                     {"metadata", {{"resourceVersion", std::to_string(lastRevision->load())}}}}}};
        return dumpJson(ev) + "\n";
      };
    }
    if (table) stream->contentType = kTableContentType;
    return stream;
  }

  if (ri.verb == "create") {
    auto body = decodeBody(req, &r);
    if (!body) return errorResponse(body.error());
    auto opts = writeOptionsOf(ctx.query);
    if (!opts) return errorResponse(opts.error());
    if (ri.subresource == "binding") {
      // The binding names the pod in the URL; its metadata may omit the name.
      Json binding = std::move(*body);
      if (binding.is_object() && (!binding.contains("metadata") || !binding["metadata"].is_object())) {
        binding["metadata"] = Json::object();
      }
      if (binding.is_object() && api::nameOf(binding).empty()) binding["metadata"]["name"] = ri.name;
      if (binding.is_object() && api::nameOf(binding) != ri.name) {
        return errorResponse(Error{Code::kBadRequest, "the name of the binding does not match the name of the pod"});
      }
      auto b = registry_.bindPod(ns, binding);
      if (!b) return errorResponse(b.error());
      return jsonResponse(201, Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()},
                                    {"status", "Success"}, {"code", 201}});
    }
    if (!ri.name.empty()) {
      return errorResponse(Error{Code::kMethodNotAllowed,
                                 "the server does not allow this method on the requested resource"});
    }
    return writeAnswer(201, registry_.create(r, ns, std::move(*body), *opts));
  }

  if (ri.verb == "update") {
    auto body = decodeBody(req, &r);
    if (!body) return errorResponse(body.error());
    auto opts = writeOptionsOf(ctx.query);
    if (!opts) return errorResponse(opts.error());
    return writeAnswer(200, registry_.update(r, ns, ri.name, std::move(*body), *opts, ri.subresource));
  }

  if (ri.verb == "patch") {
    std::string type = mediaType(req.header("content-type"));
    PatchType pt;
    if (type == "application/merge-patch+json") pt = PatchType::kMerge;
    else if (type == "application/strategic-merge-patch+json") pt = PatchType::kStrategic;
    else if (type == "application/json-patch+json") pt = PatchType::kJson;
    else if (type == "application/apply-patch+yaml" || type == "application/apply-patch+cbor") {
      return errorResponse(Error{Code::kUnsupportedMediaType,
                                 "server-side apply is not supported by nanokube; use client-side "
                                 "`kubectl apply` (without --server-side)"});
    } else {
      return errorResponse(Error{Code::kUnsupportedMediaType,
                                 fmt::format("the body of the request was in an unknown format - accepted media "
                                             "types include: application/json-patch+json, "
                                             "application/merge-patch+json, application/strategic-merge-patch+json "
                                             "(got {})",
                                             type)});
    }
    Json patch = Json::parse(req.body, nullptr, false);
    if (patch.is_discarded()) {
      return errorResponse(Error{Code::kBadRequest, "error decoding patch: invalid JSON"});
    }
    auto opts = writeOptionsOf(ctx.query);
    if (!opts) return errorResponse(opts.error());
    return writeAnswer(200, registry_.patch(r, ns, ri.name, pt, patch, *opts, ri.subresource));
  }

  if (ri.verb == "delete") {
    auto opts = deleteOptionsOf(req, ctx.query);
    if (!opts) return errorResponse(opts.error());
    return objectAnswer(registry_.remove(r, ns, ri.name, *opts));
  }

  if (ri.verb == "deletecollection") {
    auto lopts = listOptionsOf(r, ctx.query);
    if (!lopts) return errorResponse(lopts.error());
    auto dopts = deleteOptionsOf(req, ctx.query);
    if (!dopts) return errorResponse(dopts.error());
    auto res = registry_.removeCollection(r, ns, *lopts, *dopts);
    if (!res) return errorResponse(res.error());
    return jsonResponse(200, *res);
  }
  (void)path;
  return errorResponse(Error{Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"});
}

// pods/log, pods/exec: the pod's node agent answers (see node_proxy.h); the
// checks before are kube-apiserver's (pkg/registry/core/pod/strategy.go).
HandlerResult Handler::handleNodeProxy(const RequestContext& ctx) {
  const RequestInfo& ri = ctx.info;
  auto pod = registry_.get(*ri.info, ri.namespace_, ri.name);
  if (!pod) return errorResponse(pod.error());
  if (ri.subresource == "attach") {
    return errorResponse(Error{Code::kBadRequest, "pods/attach is not implemented by nanokube"});
  }
  auto container = requestedContainer(*pod, queryValue(ctx.query, "container"));
  if (!container) return errorResponse(container.error());
  const Json spec = pod->value("spec", Json::object());
  std::string nodeName = spec.value("nodeName", "");
  if (ri.subresource == "exec") {
    std::string phase = (*pod)["status"].is_object() ? (*pod)["status"].value("phase", "") : "";
    if (phase == "Succeeded" || phase == "Failed") {
      return errorResponse(Error{Code::kBadRequest,
                                 fmt::format("cannot exec into a container in a completed pod; current phase is {}",
                                             phase)});
    }
    if (nodeName.empty()) {
      return errorResponse(Error{Code::kBadRequest, fmt::format("pod {} does not have a host assigned", ri.name)});
    }
  } else if (nodeName.empty()) {
    // A pod not yet scheduled has no logs: kube-apiserver answers an empty stream.
    HttpResponse resp;
    resp.contentType = "text/plain";
    return resp;
  }
  const api::ResourceInfo* nodes = api::findResource("", "v1", "nodes");
  auto node = registry_.get(*nodes, "", nodeName);
  if (!node) return errorResponse(node.error());
  auto endpoint = kubeletEndpoint(*node);
  if (!endpoint) return errorResponse(endpoint.error());
  auto target = std::make_shared<ProxyTarget>();
  target->host = endpoint->first;
  target->port = endpoint->second;
  target->target = agentTarget(ri.subresource, ri.namespace_, ri.name, *container, ctx.query);
  return target;
}

}  // namespace nanokube::apiserver
