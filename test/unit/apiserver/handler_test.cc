// The REST layer over a real registry and SQLite store: what a client sees on the
// wire (HTTP code, Status reason and message, headers), with Kubernetes' API
// server as the reference.

#include "apiserver/handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <variant>

#include "apiserver/registry.h"
#include "store/store.h"

namespace nanokube::apiserver {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

constexpr const char* kNow = "2026-01-02T03:04:05Z";
constexpr const char* kPods = "/api/v1/namespaces/default/pods";
constexpr const char* kTableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
constexpr const char* kAggregatedAccept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

Json podManifest(const std::string& name, Json labels = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "nginx"}}})}}}};
}

Json rcManifest(const std::string& name, int replicas) {
  return {{"apiVersion", "v1"},
          {"kind", "ReplicationController"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"app", name}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "nginx"}}})}}}}}}}};
}

Json configMap(const std::string& name, Json labels = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"data", {{"k", "v"}}}};
}

class HandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nk-handler-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = store::openSqliteStore(dir_ + "/store.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    TimePoint now = *parseRfc3339(kNow);
    auto registry = Registry::create(*store_, {}, [now] { return now; });
    ASSERT_TRUE(registry) << registry.error().message;
    registry_ = std::move(*registry);
    auto boot = registry_->bootstrap();
    ASSERT_TRUE(boot) << boot.error().message;
    handler_ = std::make_unique<Handler>(*registry_, "127.0.0.1:6443");
  }

  void TearDown() override {
    handler_.reset();
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  HandlerResult raw(const std::string& method, const std::string& target, const std::string& body = {},
                    std::map<std::string, std::string> headers = {}, const std::string& user = "admin") {
    return handler_->handle(HttpRequest{method, target, std::move(headers), body, user});
  }

  HttpResponse call(const std::string& method, const std::string& target, const std::string& body = {},
                    std::map<std::string, std::string> headers = {}, const std::string& user = "admin") {
    HandlerResult res = raw(method, target, body, std::move(headers), user);
    if (auto* resp = std::get_if<HttpResponse>(&res)) return *resp;
    ADD_FAILURE() << method << " " << target << " answered with a watch stream";
    HttpResponse none;
    none.status = -1;
    return none;
  }

  HttpResponse post(const std::string& target, const Json& body) { return call("POST", target, body.dump()); }
  HttpResponse put(const std::string& target, const Json& body) { return call("PUT", target, body.dump()); }
  HttpResponse patch(const std::string& target, const std::string& type, const Json& body) {
    return call("PATCH", target, body.dump(), {{"content-type", type}});
  }

  // GET and parse, failing the test unless the answer is 200.
  Json getJson(const std::string& target) {
    HttpResponse resp = call("GET", target);
    EXPECT_EQ(resp.status, 200) << target << ": " << resp.body;
    return Json::parse(resp.body, nullptr, false);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Handler> handler_;
};

Json parse(const HttpResponse& resp) { return Json::parse(resp.body, nullptr, false); }

// Checks a Status answer: HTTP code, Status.code, reason and message.
::testing::AssertionResult isStatus(const HttpResponse& resp, int code, const std::string& reason,
                                    const std::string& message) {
  Json s = parse(resp);
  if (resp.status != code || !s.is_object() || s.value("kind", "") != "Status" || s.value("code", 0) != code ||
      s.value("status", "") != "Failure" || s.value("reason", "") != reason || s.value("message", "") != message) {
    return ::testing::AssertionFailure() << "got HTTP " << resp.status << " " << resp.body << "\nwant " << code
                                         << " reason " << reason << " message: " << message;
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> namesOf(const Json& list) {
  std::vector<std::string> out;
  for (const auto& item : list["items"]) out.push_back(item["metadata"].value("name", ""));
  return out;
}

std::string headerValue(const HttpResponse& resp, const std::string& name) {
  for (const auto& [k, v] : resp.headers) {
    if (k == name) return v;
  }
  return {};
}

// ---- create ----

TEST_F(HandlerTest, CreateSetsServerMetadataAndAnswers201) {
  HttpResponse resp = post(kPods, podManifest("p1"));
  ASSERT_EQ(resp.status, 201) << resp.body;
  Json pod = parse(resp);
  EXPECT_EQ(pod["kind"], "Pod");
  EXPECT_EQ(pod["apiVersion"], "v1");
  EXPECT_EQ(pod["metadata"]["name"], "p1");
  EXPECT_EQ(pod["metadata"]["namespace"], "default");  // defaulted from the URL
  EXPECT_THAT(pod["metadata"].value("uid", ""),
              ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_EQ(pod["metadata"]["creationTimestamp"], kNow);
  EXPECT_EQ(pod["metadata"]["resourceVersion"], std::to_string(store_->revision()));
  EXPECT_EQ(pod["status"]["phase"], "Pending");

  Json got = getJson(std::string(kPods) + "/p1");
  EXPECT_EQ(got["metadata"]["uid"], pod["metadata"]["uid"]);
  EXPECT_EQ(got["metadata"]["resourceVersion"], pod["metadata"]["resourceVersion"]);
}

TEST_F(HandlerTest, CreateIgnoresClientSuppliedServerFields) {
  Json body = podManifest("p1");
  body["metadata"]["uid"] = "not-a-uid";
  body["metadata"]["resourceVersion"] = "12345";
  body["metadata"]["creationTimestamp"] = "2000-01-01T00:00:00Z";
  HttpResponse resp = post(kPods, body);
  ASSERT_EQ(resp.status, 201) << resp.body;
  Json pod = parse(resp);
  EXPECT_NE(pod["metadata"]["uid"], "not-a-uid");
  EXPECT_EQ(pod["metadata"]["creationTimestamp"], kNow);
  EXPECT_EQ(pod["metadata"]["resourceVersion"], std::to_string(store_->revision()));
}

TEST_F(HandlerTest, CreateWithGenerateNameAppendsFiveRandomCharacters) {
  Json body = podManifest("");
  body["metadata"].erase("name");
  body["metadata"]["generateName"] = "web-";
  HttpResponse a = post(kPods, body);
  HttpResponse b = post(kPods, body);
  ASSERT_EQ(a.status, 201) << a.body;
  ASSERT_EQ(b.status, 201) << b.body;
  std::string nameA = parse(a)["metadata"]["name"], nameB = parse(b)["metadata"]["name"];
  // The alphabet of apimachinery's util/rand.String.
  EXPECT_THAT(nameA, ::testing::MatchesRegex("web-[bcdfghjklmnpqrstvwxz2456789]{5}"));
  EXPECT_NE(nameA, nameB);
  EXPECT_EQ(parse(a)["metadata"]["generateName"], "web-");
  EXPECT_EQ(getJson(std::string(kPods) + "/" + nameA)["metadata"]["name"], nameA);
}

TEST_F(HandlerTest, CreateInAnotherNamespaceTakesTheUrlNamespace) {
  HttpResponse resp = post("/api/v1/namespaces/kube-system/pods", podManifest("p1"));
  ASSERT_EQ(resp.status, 201) << resp.body;
  EXPECT_EQ(parse(resp)["metadata"]["namespace"], "kube-system");
  EXPECT_TRUE(isStatus(call("GET", std::string(kPods) + "/p1"), 404, "NotFound", "pods \"p1\" not found"));
}

TEST_F(HandlerTest, CreateWithMismatchedBodyNamespaceIs400) {
  Json body = podManifest("p1");
  body["metadata"]["namespace"] = "kube-system";
  EXPECT_TRUE(isStatus(post(kPods, body), 400, "BadRequest",
                       "the namespace of the provided object does not match the namespace sent on the request"));
}

TEST_F(HandlerTest, CreateInMissingNamespaceIs404) {
  HttpResponse resp = post("/api/v1/namespaces/nope/pods", podManifest("p1"));
  EXPECT_TRUE(isStatus(resp, 404, "NotFound", "namespaces \"nope\" not found"));
  EXPECT_EQ(parse(resp)["details"], (Json{{"name", "nope"}, {"kind", "namespaces"}}));
}

TEST_F(HandlerTest, CreateTwiceIsAlreadyExists) {
  ASSERT_EQ(post(kPods, podManifest("p1")).status, 201);
  int64_t rev = store_->revision();
  HttpResponse resp = post(kPods, podManifest("p1"));
  EXPECT_TRUE(isStatus(resp, 409, "AlreadyExists", "pods \"p1\" already exists"));
  EXPECT_EQ(parse(resp)["details"], (Json{{"name", "p1"}, {"kind", "pods"}}));
  EXPECT_EQ(store_->revision(), rev);
}

TEST_F(HandlerTest, CreateWithInvalidNameIs422) {
  HttpResponse resp = post(kPods, podManifest("Bad_Name"));
  EXPECT_TRUE(isStatus(
      resp, 422, "Invalid",
      "Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain "
      "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
      "alphanumeric character (e.g. 'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
  Json details = parse(resp)["details"];
  EXPECT_EQ(details["name"], "Bad_Name");
  EXPECT_EQ(details["kind"], "Pod");
  ASSERT_EQ(details["causes"].size(), 1u) << details;
  EXPECT_EQ(details["causes"][0]["reason"], "FieldValueInvalid");
  EXPECT_EQ(details["causes"][0]["field"], "metadata.name");
}

TEST_F(HandlerTest, CreateWithoutNameIs422) {
  Json body = podManifest("");
  body["metadata"].erase("name");
  EXPECT_TRUE(isStatus(post(kPods, body), 422, "Invalid",
                       "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required"));
}

TEST_F(HandlerTest, UnknownFieldIsRejectedUnderStrictValidation) {
  Json body = podManifest("p1");
  body["spec"]["foo"] = 1;
  EXPECT_TRUE(isStatus(call("POST", std::string(kPods) + "?fieldValidation=Strict", body.dump()), 400, "BadRequest",
                       "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field "
                       "\"spec.foo\""));
  EXPECT_TRUE(isStatus(call("GET", std::string(kPods) + "/p1"), 404, "NotFound", "pods \"p1\" not found"));
}

TEST_F(HandlerTest, UnknownFieldIsAWarningUnderWarnValidation) {
  Json body = podManifest("p1");
  body["spec"]["foo"] = 1;
  HttpResponse resp = call("POST", std::string(kPods) + "?fieldValidation=Warn", body.dump());
  ASSERT_EQ(resp.status, 201) << resp.body;
  // The warn-text is an RFC 7230 quoted-string, so the inner quotes are escaped
  // (k8s.io/apimachinery/pkg/util/net NewWarningHeader).
  EXPECT_EQ(headerValue(resp, "Warning"), "299 - \"unknown field \\\"spec.foo\\\"\"");
  // Kubernetes decodes into the typed object, so the unknown field is dropped.
  EXPECT_FALSE(parse(resp)["spec"].contains("foo"));
  EXPECT_FALSE(getJson(std::string(kPods) + "/p1")["spec"].contains("foo"));

  // Ignore drops the field silently.
  body["metadata"]["name"] = "p2";
  HttpResponse ignored = call("POST", std::string(kPods) + "?fieldValidation=Ignore", body.dump());
  ASSERT_EQ(ignored.status, 201) << ignored.body;
  EXPECT_EQ(headerValue(ignored, "Warning"), "");
  EXPECT_FALSE(getJson(std::string(kPods) + "/p2")["spec"].contains("foo"));
}

TEST_F(HandlerTest, BadFieldValidationValueIs400) {
  HttpResponse resp = call("POST", std::string(kPods) + "?fieldValidation=Loud", podManifest("p1").dump());
  EXPECT_EQ(resp.status, 400) << resp.body;
  EXPECT_EQ(parse(resp)["reason"], "BadRequest");
}

TEST_F(HandlerTest, ProtobufBodyIs415) {
  HttpResponse resp = call("POST", kPods, std::string("k8s\0\n\x02v1", 8),
                           {{"content-type", "application/vnd.kubernetes.protobuf"}});
  EXPECT_EQ(resp.status, 415) << resp.body;
  Json s = parse(resp);
  EXPECT_EQ(s["reason"], "UnsupportedMediaType");
  EXPECT_EQ(s["code"], 415);
  EXPECT_THAT(s.value("message", ""),
              StartsWith("the body of the request was in an unknown format - accepted media types include: "));
}

TEST_F(HandlerTest, MalformedJsonIs400) {
  HttpResponse resp = call("POST", kPods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":)");
  EXPECT_EQ(resp.status, 400) << resp.body;
  Json s = parse(resp);
  EXPECT_EQ(s["reason"], "BadRequest");
  EXPECT_EQ(s["code"], 400);
}

TEST_F(HandlerTest, MalformedJsonMessageNamesTheExpectedType) {
  // When the body is not JSON at all, Kubernetes cannot read apiVersion/kind and
  // transformDecodeError (endpoints/handlers/rest.go) answers with this message.
  HttpResponse resp = call("POST", kPods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":)");
  EXPECT_THAT(parse(resp).value("message", ""),
              StartsWith("the object provided is unrecognized (must be of type Pod): couldn't get version/kind; "
                         "json parse error: "));
}

TEST_F(HandlerTest, BodyOverThreeMebibytesIs413) {
  Json body = configMap("big");
  body["data"]["k"] = std::string(3 * 1024 * 1024, 'x');
  HttpResponse resp = call("POST", "/api/v1/namespaces/default/configmaps", body.dump());
  EXPECT_TRUE(isStatus(resp, 413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"));
  EXPECT_TRUE(isStatus(call("GET", "/api/v1/namespaces/default/configmaps/big"), 404, "NotFound",
                       "configmaps \"big\" not found"));
}

// ---- get ----

TEST_F(HandlerTest, GetMissingIs404WithDetails) {
  HttpResponse resp = call("GET", std::string(kPods) + "/x");
  EXPECT_TRUE(isStatus(resp, 404, "NotFound", "pods \"x\" not found"));
  EXPECT_EQ(parse(resp)["details"], (Json{{"name", "x"}, {"kind", "pods"}}));

  HttpResponse dep = call("GET", "/apis/apps/v1/namespaces/default/deployments/x");
  EXPECT_TRUE(isStatus(dep, 404, "NotFound", "deployments.apps \"x\" not found"));
  EXPECT_EQ(parse(dep)["details"], (Json{{"name", "x"}, {"group", "apps"}, {"kind", "deployments"}}));
}

TEST_F(HandlerTest, GetAsTableHasThePodColumns) {
  ASSERT_EQ(post(kPods, podManifest("p1")).status, 201);
  HttpResponse resp = call("GET", std::string(kPods) + "/p1", {}, {{"accept", kTableAccept}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  Json table = parse(resp);
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  std::vector<std::string> columns;
  for (const auto& c : table["columnDefinitions"]) columns.push_back(c["name"]);
  EXPECT_THAT(columns, ElementsAre("Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node",
                                   "Readiness Gates"));
  ASSERT_EQ(table["rows"].size(), 1u);
  EXPECT_EQ(table["rows"][0]["cells"],
            (Json{"p1", "0/1", "Pending", "0", "0s", "<none>", "<none>", "<none>", "<none>"}));
  // includeObject defaults to Metadata: a PartialObjectMetadata of the pod.
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(table["rows"][0]["object"]["metadata"]["name"], "p1");
}

TEST_F(HandlerTest, TableAnswerCarriesTheTableContentType) {
  ASSERT_EQ(post(kPods, podManifest("p1")).status, 201);
  HttpResponse resp = call("GET", std::string(kPods) + "/p1", {}, {{"accept", kTableAccept}});
  EXPECT_EQ(resp.contentType, "application/json;as=Table;v=v1;g=meta.k8s.io");
}

TEST_F(HandlerTest, ListAsTableHasOneRowPerObject) {
  ASSERT_EQ(post(kPods, podManifest("p1")).status, 201);
  ASSERT_EQ(post(kPods, podManifest("p2")).status, 201);
  HttpResponse resp = call("GET", kPods, {}, {{"accept", kTableAccept}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  Json table = parse(resp);
  ASSERT_EQ(table["rows"].size(), 2u);
  EXPECT_EQ(table["rows"][0]["cells"][0], "p1");
  EXPECT_EQ(table["rows"][1]["cells"][0], "p2");
  EXPECT_EQ(table["metadata"]["resourceVersion"], std::to_string(store_->revision()));
}

// ---- list ----

class HandlerListTest : public HandlerTest {
 protected:
  void SetUp() override {
    HandlerTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(post(kPods, podManifest("p1", {{"app", "web"}})).status, 201);
    Json p2 = podManifest("p2", {{"app", "db"}});
    p2["spec"]["nodeName"] = "node-a";
    ASSERT_EQ(post(kPods, p2).status, 201);
    ASSERT_EQ(post(kPods, podManifest("p3", {{"app", "web"}, {"tier", "fe"}})).status, 201);
    ASSERT_EQ(post("/api/v1/namespaces/kube-system/pods", podManifest("p4", {{"app", "web"}})).status, 201);
  }
};

TEST_F(HandlerListTest, LabelSelector) {
  EXPECT_THAT(namesOf(getJson(std::string(kPods) + "?labelSelector=app%3Dweb")), ElementsAre("p1", "p3"));
  EXPECT_THAT(namesOf(getJson(std::string(kPods) + "?labelSelector=app%21%3Dweb")), ElementsAre("p2"));
  EXPECT_THAT(namesOf(getJson(std::string(kPods) + "?labelSelector=app+in+%28db%2Cweb%29%2Ctier")),
              ElementsAre("p3"));
  EXPECT_THAT(namesOf(getJson(std::string(kPods) + "?labelSelector=%21tier")), ElementsAre("p1", "p2"));
  // All namespaces.
  EXPECT_THAT(namesOf(getJson("/api/v1/pods?labelSelector=app%3Dweb")), ElementsAre("p1", "p3", "p4"));
}

TEST_F(HandlerListTest, FieldSelector) {
  EXPECT_THAT(namesOf(getJson(std::string(kPods) + "?fieldSelector=metadata.name%3Dp2")), ElementsAre("p2"));
  EXPECT_THAT(namesOf(getJson(std::string(kPods) + "?fieldSelector=spec.nodeName%3Dnode-a")), ElementsAre("p2"));
  // kubectl's and the scheduler's "unscheduled pods" query.
  EXPECT_THAT(namesOf(getJson(std::string(kPods) + "?fieldSelector=spec.nodeName%3D")), ElementsAre("p1", "p3"));
  EXPECT_THAT(namesOf(getJson("/api/v1/pods?fieldSelector=metadata.namespace%3Dkube-system")), ElementsAre("p4"));
  EXPECT_THAT(namesOf(getJson(std::string(kPods) +
                              "?fieldSelector=metadata.name%21%3Dp1&labelSelector=app%3Dweb")),
              ElementsAre("p3"));
}

TEST_F(HandlerListTest, BadSelectorsAre400) {
  EXPECT_TRUE(isStatus(call("GET", std::string(kPods) + "?fieldSelector=spec.foo%3Dx"), 400, "BadRequest",
                       "field label not supported: spec.foo"));
  HttpResponse bad = call("GET", std::string(kPods) + "?labelSelector=app+in+%28web");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(parse(bad)["reason"], "BadRequest");
  EXPECT_NE(parse(bad).value("message", ""), "");
}

TEST_F(HandlerListTest, ListCarriesKindAndTheStoreRevision) {
  Json list = getJson(kPods);
  EXPECT_EQ(list["kind"], "PodList");
  EXPECT_EQ(list["apiVersion"], "v1");
  EXPECT_EQ(list["metadata"]["resourceVersion"], std::to_string(store_->revision()));
  EXPECT_FALSE(list["metadata"].contains("continue"));
  for (const auto& item : list["items"]) EXPECT_FALSE(item["metadata"].value("resourceVersion", "").empty());
}

TEST_F(HandlerListTest, ExactResourceVersionListsThePastState) {
  std::string before = getJson(kPods)["metadata"]["resourceVersion"];
  ASSERT_EQ(post(kPods, podManifest("p5")).status, 201);
  ASSERT_EQ(call("DELETE", std::string(kPods) + "/p1").status, 200);
  EXPECT_THAT(namesOf(getJson(kPods)), ElementsAre("p2", "p3", "p5"));
  Json past = getJson(std::string(kPods) + "?resourceVersion=" + before + "&resourceVersionMatch=Exact");
  EXPECT_THAT(namesOf(past), ElementsAre("p1", "p2", "p3"));
  EXPECT_EQ(past["metadata"]["resourceVersion"], before);
}

TEST_F(HandlerListTest, TooLargeResourceVersionIs504) {
  std::string rv = std::to_string(store_->revision() + 100);
  HttpResponse resp = call("GET", std::string(kPods) + "?resourceVersion=" + rv);
  EXPECT_TRUE(isStatus(resp, 504, "Timeout",
                       "Too large resource version: " + rv + ", current: " + std::to_string(store_->revision())));
}

TEST_F(HandlerTest, PaginationReturnsEveryObjectExactlyOnce) {
  ASSERT_EQ(post("/api/v1/namespaces", Json{{"metadata", {{"name", "pg"}}}}).status, 201);
  const std::string base = "/api/v1/namespaces/pg/configmaps";
  std::multiset<std::string> all;
  for (int i = 0; i < 11; ++i) {
    std::string name = "cm-" + std::to_string(i);
    ASSERT_EQ(post(base, configMap(name, {{"odd", i % 2 ? "yes" : "no"}})).status, 201);
    all.insert(name);
  }
  int late = 0;
  auto pages = [&](const std::string& query, size_t pageSize) {
    std::multiset<std::string> seen;
    std::string token, listRv;
    int count = 0;
    for (;;) {
      std::string target = base + "?limit=" + std::to_string(pageSize) + query;
      if (!token.empty()) target += "&continue=" + token;
      Json page = getJson(target);
      ++count;
      EXPECT_LE(page["items"].size(), pageSize);
      if (count == 1) {
        listRv = page["metadata"]["resourceVersion"];
        // Writes between pages do not show up: every page reads at the first page's revision.
        EXPECT_EQ(post(base, configMap("late-" + std::to_string(late++), {{"odd", "yes"}})).status, 201);
      } else {
        EXPECT_EQ(page["metadata"]["resourceVersion"], listRv);
      }
      for (const auto& n : namesOf(page)) seen.insert(n);
      token = page["metadata"].value("continue", "");
      if (token.empty() || count > 20) break;
      EXPECT_EQ(page["items"].size(), pageSize);
    }
    return std::make_pair(seen, count);
  };

  auto [seen, count] = pages("", 3);
  EXPECT_EQ(seen, all);
  EXPECT_EQ(count, 4);

  // With a selector, each page holds `limit` matches although the store is read
  // in key order across non-matching objects. late-0 exists by now.
  auto [odd, oddCount] = pages("&labelSelector=odd%3Dyes", 2);
  EXPECT_EQ(odd, (std::multiset<std::string>{"cm-1", "cm-3", "cm-5", "cm-7", "cm-9", "late-0"}));
  EXPECT_EQ(oddCount, 3);

  // A limit larger than the list: one page, no continue token.
  Json one = getJson(base + "?limit=500");
  EXPECT_EQ(one["items"].size(), 13u);
  EXPECT_FALSE(one["metadata"].contains("continue"));
}

TEST_F(HandlerTest, GarbageContinueTokenIs400) {
  HttpResponse resp = call("GET", std::string(kPods) + "?limit=1&continue=notatoken");
  EXPECT_EQ(resp.status, 400) << resp.body;
  EXPECT_EQ(parse(resp)["reason"], "BadRequest");
}

// ---- update ----

TEST_F(HandlerTest, UpdateWithStaleResourceVersionIsConflict) {
  Json pod = parse(post(kPods, podManifest("p1")));
  Json first = pod;
  first["metadata"]["labels"] = {{"v", "1"}};
  HttpResponse ok = put(std::string(kPods) + "/p1", first);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(parse(ok)["metadata"]["resourceVersion"], pod["metadata"]["resourceVersion"]);

  Json stale = pod;  // still carries the first resourceVersion
  stale["metadata"]["labels"] = {{"v", "2"}};
  HttpResponse resp = put(std::string(kPods) + "/p1", stale);
  EXPECT_TRUE(isStatus(resp, 409, "Conflict",
                       "Operation cannot be fulfilled on pods \"p1\": the object has been modified; please apply "
                       "your changes to the latest version and try again"));
  EXPECT_EQ(parse(resp)["details"], (Json{{"name", "p1"}, {"kind", "pods"}}));
  EXPECT_EQ(getJson(std::string(kPods) + "/p1")["metadata"]["labels"], (Json{{"v", "1"}}));
}

TEST_F(HandlerTest, UpdateOfMissingObjectIs404AndNameMismatchIs400) {
  EXPECT_TRUE(isStatus(put(std::string(kPods) + "/ghost", podManifest("ghost")), 404, "NotFound",
                       "pods \"ghost\" not found"));
  ASSERT_EQ(post(kPods, podManifest("p1")).status, 201);
  EXPECT_TRUE(isStatus(put(std::string(kPods) + "/p1", podManifest("p2")), 400, "BadRequest",
                       "the name of the object (p2) does not match the name on the URL (p1)"));
}

TEST_F(HandlerTest, MainResourceUpdateKeepsStatusAndStatusUpdateKeepsSpec) {
  Json pod = parse(post(kPods, podManifest("p1")));
  ASSERT_EQ(pod["status"]["phase"], "Pending");

  Json edit = pod;
  edit["metadata"]["labels"] = {{"edited", "yes"}};
  edit["status"]["phase"] = "Running";
  HttpResponse resp = put(std::string(kPods) + "/p1", edit);
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(parse(resp)["metadata"]["labels"], (Json{{"edited", "yes"}}));
  EXPECT_EQ(parse(resp)["status"]["phase"], "Pending");
  Json stored = getJson(std::string(kPods) + "/p1");
  EXPECT_EQ(stored["status"]["phase"], "Pending");

  Json status = stored;
  status["status"]["phase"] = "Running";
  status["spec"]["containers"][0]["image"] = "busybox";  // ignored by /status
  HttpResponse sresp = put(std::string(kPods) + "/p1/status", status);
  ASSERT_EQ(sresp.status, 200) << sresp.body;
  EXPECT_EQ(parse(sresp)["status"]["phase"], "Running");
  stored = getJson(std::string(kPods) + "/p1");
  EXPECT_EQ(stored["status"]["phase"], "Running");
  EXPECT_EQ(stored["spec"]["containers"][0]["image"], "nginx");

  // Patching the status through the main resource is ignored too.
  HttpResponse p = patch(std::string(kPods) + "/p1", "application/merge-patch+json",
                         Json{{"status", {{"phase", "Failed"}}}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(getJson(std::string(kPods) + "/p1")["status"]["phase"], "Running");
  HttpResponse ps = patch(std::string(kPods) + "/p1/status", "application/merge-patch+json",
                          Json{{"status", {{"phase", "Succeeded"}}}});
  ASSERT_EQ(ps.status, 200) << ps.body;
  EXPECT_EQ(getJson(std::string(kPods) + "/p1")["status"]["phase"], "Succeeded");
}

TEST_F(HandlerTest, GenerationBumpsOnSpecChangesOnly) {
  const std::string rcs = "/api/v1/namespaces/default/replicationcontrollers";
  HttpResponse created = post(rcs, rcManifest("web", 2));
  ASSERT_EQ(created.status, 201) << created.body;
  Json rc = parse(created);
  EXPECT_EQ(rc["metadata"]["generation"], 1);

  rc["metadata"]["labels"] = {{"team", "a"}};
  HttpResponse meta = put(rcs + "/web", rc);
  ASSERT_EQ(meta.status, 200) << meta.body;
  EXPECT_EQ(parse(meta)["metadata"]["generation"], 1);

  rc = parse(meta);
  rc["spec"]["replicas"] = 3;
  HttpResponse spec = put(rcs + "/web", rc);
  ASSERT_EQ(spec.status, 200) << spec.body;
  EXPECT_EQ(parse(spec)["metadata"]["generation"], 2);

  rc = parse(spec);
  rc["status"] = {{"replicas", 3}, {"observedGeneration", 2}};
  HttpResponse st = put(rcs + "/web/status", rc);
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_EQ(parse(st)["metadata"]["generation"], 2);
  EXPECT_EQ(parse(st)["status"]["replicas"], 3);

  // A client cannot set the generation itself.
  rc = parse(st);
  rc["metadata"]["generation"] = 40;
  HttpResponse forged = put(rcs + "/web", rc);
  ASSERT_EQ(forged.status, 200) << forged.body;
  EXPECT_EQ(getJson(rcs + "/web")["metadata"]["generation"], 2);
}

TEST_F(HandlerTest, PodGenerationIsNotTrackedByThisServer) {
  // Pods have tracked metadata.generation since Kubernetes 1.33 only; for 1.32 it
  // stays unset.
  Json pod = parse(post(kPods, podManifest("p1")));
  EXPECT_FALSE(pod["metadata"].contains("generation"));
}

// ---- patch ----

TEST_F(HandlerTest, MergePatch) {
  ASSERT_EQ(post(kPods, podManifest("p1", {{"app", "web"}, {"old", "x"}})).status, 201);
  HttpResponse resp = patch(std::string(kPods) + "/p1", "application/merge-patch+json",
                            Json{{"metadata", {{"labels", {{"tier", "fe"}, {"old", nullptr}}}}}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(parse(resp)["metadata"]["labels"], (Json{{"app", "web"}, {"tier", "fe"}}));
  EXPECT_EQ(getJson(std::string(kPods) + "/p1")["metadata"]["labels"], (Json{{"app", "web"}, {"tier", "fe"}}));
}

TEST_F(HandlerTest, StrategicMergePatchMergesContainersByName) {
  Json pod = podManifest("p1");
  pod["spec"]["containers"] = Json::array({{{"name", "a"}, {"image", "a:1"}}, {{"name", "b"}, {"image", "b:1"}}});
  ASSERT_EQ(post(kPods, pod).status, 201);
  HttpResponse resp =
      patch(std::string(kPods) + "/p1", "application/strategic-merge-patch+json",
            Json{{"spec", {{"containers", Json::array({{{"name", "b"}, {"image", "b:2"}}})}}}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  Json containers = getJson(std::string(kPods) + "/p1")["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u) << containers;
  EXPECT_EQ(containers[0]["name"], "a");
  EXPECT_EQ(containers[0]["image"], "a:1");
  EXPECT_EQ(containers[1]["name"], "b");
  EXPECT_EQ(containers[1]["image"], "b:2");
}

TEST_F(HandlerTest, JsonPatch) {
  ASSERT_EQ(post(kPods, podManifest("p1", {{"app", "web"}})).status, 201);
  HttpResponse resp = patch(std::string(kPods) + "/p1", "application/json-patch+json",
                            Json::array({{{"op", "replace"}, {"path", "/metadata/labels/app"}, {"value", "api"}},
                                         {{"op", "add"}, {"path", "/metadata/annotations"}, {"value", {{"a", "b"}}}}}));
  ASSERT_EQ(resp.status, 200) << resp.body;
  Json got = getJson(std::string(kPods) + "/p1");
  EXPECT_EQ(got["metadata"]["labels"], (Json{{"app", "api"}}));
  EXPECT_EQ(got["metadata"]["annotations"], (Json{{"a", "b"}}));

  // A failing test op leaves the object alone.
  HttpResponse failed = patch(std::string(kPods) + "/p1", "application/json-patch+json",
                              Json::array({{{"op", "test"}, {"path", "/metadata/labels/app"}, {"value", "web"}},
                                           {{"op", "replace"}, {"path", "/metadata/labels/app"}, {"value", "x"}}}));
  EXPECT_NE(failed.status, 200);
  EXPECT_EQ(getJson(std::string(kPods) + "/p1")["metadata"]["labels"], (Json{{"app", "api"}}));
}

TEST_F(HandlerTest, PatchOfMissingObjectIs404AndUnknownPatchTypeIs415) {
  EXPECT_TRUE(isStatus(patch(std::string(kPods) + "/ghost", "application/merge-patch+json", Json::object()), 404,
                       "NotFound", "pods \"ghost\" not found"));
  ASSERT_EQ(post(kPods, podManifest("p1")).status, 201);
  HttpResponse resp = patch(std::string(kPods) + "/p1", "text/plain", Json::object());
  EXPECT_EQ(resp.status, 415) << resp.body;
  EXPECT_EQ(parse(resp)["reason"], "UnsupportedMediaType");
}

TEST_F(HandlerTest, ScaleSubresource) {
  const std::string rcs = "/api/v1/namespaces/default/replicationcontrollers";
  ASSERT_EQ(post(rcs, rcManifest("web", 2)).status, 201);

  Json scale = getJson(rcs + "/web/scale");
  EXPECT_EQ(scale["kind"], "Scale");
  EXPECT_EQ(scale["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(scale["metadata"]["name"], "web");
  EXPECT_EQ(scale["metadata"]["namespace"], "default");
  EXPECT_EQ(scale["spec"]["replicas"], 2);
  EXPECT_EQ(scale["status"]["replicas"], 0);
  EXPECT_EQ(scale["status"]["selector"], "app=web");

  HttpResponse resp =
      patch(rcs + "/web/scale", "application/merge-patch+json", Json{{"spec", {{"replicas", 5}}}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(parse(resp)["kind"], "Scale");
  EXPECT_EQ(parse(resp)["spec"]["replicas"], 5);
  Json rc = getJson(rcs + "/web");
  EXPECT_EQ(rc["spec"]["replicas"], 5);
  EXPECT_EQ(rc["metadata"]["generation"], 2);
  EXPECT_EQ(parse(resp)["metadata"]["resourceVersion"], rc["metadata"]["resourceVersion"]);

  // PUT /scale, as `kubectl scale` sends it.
  Json put2 = getJson(rcs + "/web/scale");
  put2["spec"]["replicas"] = 1;
  HttpResponse r2 = put(rcs + "/web/scale", put2);
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_EQ(getJson(rcs + "/web")["spec"]["replicas"], 1);

  // A stale resourceVersion in the Scale is a conflict.
  HttpResponse stale = put(rcs + "/web/scale", put2);
  EXPECT_TRUE(isStatus(stale, 409, "Conflict",
                       "Operation cannot be fulfilled on replicationcontrollers \"web\": the object has been "
                       "modified; please apply your changes to the latest version and try again"));
}

TEST_F(HandlerTest, DeploymentScaleSelectorIsTheLabelSelectorString) {
  Json dep = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", "d"}}},
              {"spec",
               {{"replicas", 1},
                {"selector", {{"matchLabels", {{"app", "d"}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", "d"}}}}},
                  {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "nginx"}}})}}}}}}}};
  HttpResponse created = post("/apis/apps/v1/namespaces/default/deployments", dep);
  ASSERT_EQ(created.status, 201) << created.body;
  Json scale = getJson("/apis/apps/v1/namespaces/default/deployments/d/scale");
  EXPECT_EQ(scale["status"]["selector"], "app=d");
  EXPECT_EQ(scale["spec"]["replicas"], 1);
}

// ---- delete ----

TEST_F(HandlerTest, DeleteCollectionWithLabelSelector) {
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  ASSERT_EQ(post(cms, configMap("a", {{"app", "x"}})).status, 201);
  ASSERT_EQ(post(cms, configMap("b", {{"app", "y"}})).status, 201);
  ASSERT_EQ(post(cms, configMap("c", {{"app", "x"}})).status, 201);
  HttpResponse resp = call("DELETE", cms + "?labelSelector=app%3Dx");
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(parse(resp)["kind"], "ConfigMapList");
  EXPECT_THAT(namesOf(parse(resp)), ElementsAre("a", "c"));
  EXPECT_THAT(namesOf(getJson(cms)), ElementsAre("b"));
}

TEST_F(HandlerTest, DeleteOptionsInTheBodyAndPreconditions) {
  Json pod = podManifest("p1");
  pod["spec"]["nodeName"] = "node-a";
  Json created = parse(post(kPods, pod));
  HttpResponse marked = call("DELETE", std::string(kPods) + "/p1");
  ASSERT_EQ(marked.status, 200) << marked.body;
  EXPECT_EQ(parse(marked)["metadata"]["deletionGracePeriodSeconds"], 30);

  HttpResponse wrongUid = call("DELETE", std::string(kPods) + "/p1",
                               Json{{"kind", "DeleteOptions"},
                                    {"apiVersion", "v1"},
                                    {"gracePeriodSeconds", 0},
                                    {"preconditions", {{"uid", "00000000-0000-4000-8000-000000000000"}}}}
                                   .dump());
  EXPECT_TRUE(isStatus(wrongUid, 409, "Conflict",
                       "Operation cannot be fulfilled on pods \"p1\": Precondition failed: UID in precondition: "
                       "00000000-0000-4000-8000-000000000000, UID in object meta: " +
                           created["metadata"]["uid"].get<std::string>()));

  HttpResponse now = call("DELETE", std::string(kPods) + "/p1",
                          Json{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"gracePeriodSeconds", 0}}.dump());
  ASSERT_EQ(now.status, 200) << now.body;
  EXPECT_TRUE(isStatus(call("GET", std::string(kPods) + "/p1"), 404, "NotFound", "pods \"p1\" not found"));
  EXPECT_TRUE(isStatus(call("DELETE", std::string(kPods) + "/p1"), 404, "NotFound", "pods \"p1\" not found"));
}

TEST_F(HandlerTest, BadPropagationPolicyIs422) {
  ASSERT_EQ(post(kPods, podManifest("p1")).status, 201);
  HttpResponse resp = call("DELETE", std::string(kPods) + "/p1?propagationPolicy=Sideways");
  EXPECT_TRUE(isStatus(resp, 422, "Invalid",
                       "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: "
                       "\"Sideways\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""));
  EXPECT_EQ(getJson(std::string(kPods) + "/p1")["metadata"]["name"], "p1");
}

TEST_F(HandlerTest, DefaultNamespaceCannotBeDeleted) {
  EXPECT_TRUE(isStatus(call("DELETE", "/api/v1/namespaces/default"), 403, "Forbidden",
                       "namespaces \"default\" is forbidden: this namespace may not be deleted"));
  EXPECT_EQ(getJson("/api/v1/namespaces/default")["metadata"]["name"], "default");
}

// ---- watch over HTTP ----

// Waits (bounded) until `n` lines are queued and takes them: events may be
// delivered on another thread after the write returned.
std::vector<std::string> waitForLines(WatchQueue& queue, size_t n) {
  // Shared, because a producer may still hold the notifier after this returns.
  struct Signal {
    std::mutex mu;
    std::condition_variable cv;
  };
  auto signal = std::make_shared<Signal>();
  queue.setNotify([signal] {
    std::lock_guard lock(signal->mu);
    signal->cv.notify_all();
  });
  std::vector<std::string> lines;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::unique_lock lock(signal->mu);
  for (;;) {
    for (auto& l : queue.drain()) lines.push_back(std::move(l));
    if (lines.size() >= n || std::chrono::steady_clock::now() >= deadline) break;
    signal->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  return lines;
}

TEST_F(HandlerTest, WatchStreamDeliversEventsAsJsonLines) {
  HandlerResult res = raw("GET", std::string(kPods) + "?watch=1");
  auto* stream = std::get_if<std::shared_ptr<WatchStream>>(&res);
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(*stream);
  ASSERT_EQ(post(kPods, podManifest("p1")).status, 201);
  std::vector<std::string> lines = waitForLines(*(*stream)->queue, 1);
  ASSERT_EQ(lines.size(), 1u);
  Json ev = Json::parse(lines[0]);
  EXPECT_EQ(ev["type"], "ADDED");
  EXPECT_EQ(ev["object"]["metadata"]["name"], "p1");
  EXPECT_EQ(lines[0].back(), '\n');
  (*stream)->watch.reset();
}

TEST_F(HandlerTest, WatchFromACompactedRevisionEndsWithAnExpiredError) {
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  ASSERT_EQ(post(cms, configMap("a")).status, 201);
  std::string old = std::to_string(store_->revision());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(patch(cms + "/a", "application/merge-patch+json", Json{{"data", {{"i", std::to_string(i)}}}}).status,
              200);
  }
  int64_t compactAt = store_->revision();
  ASSERT_TRUE(store_->compact(compactAt));
  HandlerResult res = raw("GET", cms + "?watch=1&resourceVersion=" + old);
  // Kubernetes answers 200 and sends one ERROR event holding the 410 Status;
  // clients (reflectors) then relist.
  Json status;
  if (auto* resp = std::get_if<HttpResponse>(&res)) {
    status = parse(*resp);
    EXPECT_EQ(resp->status, 410) << resp->body;
  } else {
    auto stream = std::get<std::shared_ptr<WatchStream>>(res);
    std::vector<std::string> lines = waitForLines(*stream->queue, 1);
    ASSERT_EQ(lines.size(), 1u);
    Json ev = Json::parse(lines[0]);
    EXPECT_EQ(ev["type"], "ERROR");
    status = ev["object"];
  }
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["code"], 410);
  EXPECT_EQ(status["reason"], "Expired");
  EXPECT_EQ(status["message"], "too old resource version: " + old + " (" + std::to_string(compactAt) + ")");
}

// ---- discovery ----

TEST_F(HandlerTest, AggregatedDiscoveryOfTheCoreGroup) {
  HttpResponse resp = call("GET", "/api", {}, {{"accept", kAggregatedAccept}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(resp.contentType, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  Json list = parse(resp);
  EXPECT_EQ(list["kind"], "APIGroupDiscoveryList");
  EXPECT_EQ(list["apiVersion"], "apidiscovery.k8s.io/v2");
  ASSERT_EQ(list["items"].size(), 1u);
  const Json& v1 = list["items"][0]["versions"][0];
  EXPECT_EQ(v1["version"], "v1");
  const Json* pods = nullptr;
  for (const auto& r : v1["resources"]) {
    if (r["resource"] == "pods") pods = &r;
  }
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ((*pods)["shortNames"], (Json{"po"}));
  EXPECT_EQ((*pods)["categories"], (Json{"all"}));
  EXPECT_EQ((*pods)["scope"], "Namespaced");
  EXPECT_EQ((*pods)["singularResource"], "pod");
  EXPECT_EQ((*pods)["responseKind"], (Json{{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}));
}

TEST_F(HandlerTest, AggregatedDiscoveryOfNamedGroups) {
  HttpResponse resp = call("GET", "/apis", {}, {{"accept", kAggregatedAccept}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(resp.contentType, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  std::set<std::string> groups;
  Json list = parse(resp);
  for (const auto& item : list["items"]) groups.insert(item["metadata"]["name"]);
  for (const char* g : {"apps", "batch", "discovery.k8s.io", "coordination.k8s.io"}) {
    EXPECT_TRUE(groups.count(g)) << g;
  }
  EXPECT_FALSE(groups.count(""));
}

TEST_F(HandlerTest, LegacyDiscovery) {
  HttpResponse api = call("GET", "/api");
  ASSERT_EQ(api.status, 200);
  EXPECT_EQ(api.contentType, "application/json");
  EXPECT_EQ(parse(api)["kind"], "APIVersions");
  EXPECT_EQ(parse(api)["versions"], (Json{"v1"}));
  EXPECT_EQ(parse(api)["serverAddressByClientCIDRs"][0]["serverAddress"], "127.0.0.1:6443");

  HttpResponse apis = call("GET", "/apis");
  ASSERT_EQ(apis.status, 200);
  Json list = parse(apis);
  EXPECT_EQ(list["kind"], "APIGroupList");
  std::set<std::string> groups;
  for (const auto& g : list["groups"]) groups.insert(g["name"]);
  for (const char* g : {"apps", "batch", "discovery.k8s.io", "coordination.k8s.io"}) {
    EXPECT_TRUE(groups.count(g)) << g;
  }
  for (const auto& g : list["groups"]) {
    if (g["name"] == "apps") {
      EXPECT_EQ(g["preferredVersion"]["groupVersion"], "apps/v1");
    }
  }

  Json v1 = getJson("/api/v1");
  EXPECT_EQ(v1["kind"], "APIResourceList");
  EXPECT_EQ(v1["groupVersion"], "v1");
  bool podsStatus = false;
  for (const auto& r : v1["resources"]) podsStatus = podsStatus || r["name"] == "pods/status";
  EXPECT_TRUE(podsStatus);
}

TEST_F(HandlerTest, Version) {
  Json v = getJson("/version");
  EXPECT_EQ(v["major"], "1");
  EXPECT_EQ(v["minor"], "32");
  EXPECT_THAT(v.value("gitVersion", ""), StartsWith("v1.32."));
}

TEST_F(HandlerTest, UnservedPathsAre404) {
  EXPECT_TRUE(isStatus(call("GET", "/api/v1/namespaces/default/widgets"), 404, "NotFound",
                       "the server could not find the requested resource"));
  EXPECT_TRUE(isStatus(call("GET", "/apis/nope.example.com/v1"), 404, "NotFound",
                       "the server could not find the requested resource"));
}

// ---- authentication ----

TEST_F(HandlerTest, AnonymousRequestsAreUnauthorizedExceptPublicPaths) {
  for (const char* target : {"/api", "/apis", "/api/v1", "/api/v1/namespaces/default/pods",
                             "/api/v1/namespaces/default/pods/p1", "/apis/apps/v1/deployments"}) {
    EXPECT_TRUE(isStatus(call("GET", target, {}, {}, ""), 401, "Unauthorized", "Unauthorized")) << target;
  }
  EXPECT_TRUE(isStatus(call("POST", kPods, podManifest("p1").dump(), {}, ""), 401, "Unauthorized", "Unauthorized"));
  EXPECT_TRUE(isStatus(call("GET", std::string(kPods) + "/p1"), 404, "NotFound", "pods \"p1\" not found"));

  for (const char* target : {"/healthz", "/livez", "/readyz"}) {
    HttpResponse resp = call("GET", target, {}, {}, "");
    EXPECT_EQ(resp.status, 200) << target;
    EXPECT_EQ(resp.body, "ok") << target;
  }
  EXPECT_EQ(call("GET", "/version", {}, {}, "").status, 200);
  EXPECT_EQ(call("GET", "/openapi/v3", {}, {}, "").status, 200);
  EXPECT_EQ(call("GET", "/openapi/v2", {}, {}, "").status, 200);
  HttpResponse doc = call("GET", "/openapi/v3/api/v1", {}, {}, "");
  EXPECT_EQ(doc.status, 200);
  EXPECT_TRUE(parse(doc).contains("openapi") || parse(doc).contains("components")) << doc.body.substr(0, 200);
}

}  // namespace
}  // namespace nanokube::apiserver
