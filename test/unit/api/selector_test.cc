// Label and field selectors, with the error texts of apimachinery's labels and fields packages.

#include "api/selector.h"

#include <gtest/gtest.h>

namespace nanokube::api {
namespace {

const ResourceInfo& res(std::string_view apiVersion, std::string_view kind) {
  const ResourceInfo* r = findByKind(apiVersion, kind);
  EXPECT_NE(r, nullptr) << kind;
  return *r;
}

TEST(LabelSelector, ParsesAndPrintsCanonically) {
  struct Case {
    const char* in;
    const char* canonical;
  };
  const Case cases[] = {
      {"", ""},
      {"app=nginx,tier!=db", "app=nginx,tier!=db"},
      {"  a = b  ,  c  ", "a=b,c"},
      {"env in (b,a), !canary, x", "!canary,env in (a,b),x"},
      {"x notin ()", "x notin ()"},
      {"x in (a,,b)", "x in (,a,b)"},
      {"x in (in,notin)", "x in (in,notin)"},
      {"a==b", "a=b"},
      {"a=", "a="},
      {"x>1,y<10", "x>1,y<10"},
      {"example.com/role=web", "example.com/role=web"},
  };
  for (const auto& c : cases) {
    auto sel = parseLabelSelector(c.in);
    ASSERT_TRUE(sel.has_value()) << c.in << ": " << sel.error().message;
    EXPECT_EQ(sel->str(), c.canonical) << c.in;
  }
}

TEST(LabelSelector, Matches) {
  struct Case {
    const char* selector;
    const char* labels;
    bool want;
  };
  const Case cases[] = {
      {"", "{}", true},
      {"app=nginx", R"({"app":"nginx"})", true},
      {"app=nginx", R"({"app":"web"})", false},
      {"app=nginx", "{}", false},
      {"app!=nginx", "{}", true},
      {"app!=nginx", R"({"app":"nginx"})", false},
      {"env in (a,b)", R"({"env":"b"})", true},
      {"env in (a,b)", R"({"env":"c"})", false},
      {"env notin (a,b)", "{}", true},
      {"env notin (a,b)", R"({"env":"a"})", false},
      {"tier", R"({"tier":""})", true},
      {"tier", "null", false},
      {"!tier", "null", true},
      {"x>1", R"({"x":"2"})", true},
      {"x>1", R"({"x":"1"})", false},
      {"x<1", R"({"x":"-5"})", true},
      {"x>1", R"({"x":"two"})", false},
      {"a=1,b=2", R"({"a":"1","b":"2"})", true},
      {"a=1,b=2", R"({"a":"1","b":"3"})", false},
  };
  for (const auto& c : cases) {
    auto sel = parseLabelSelector(c.selector);
    ASSERT_TRUE(sel.has_value()) << c.selector;
    EXPECT_EQ(sel->matches(Json::parse(c.labels)), c.want) << c.selector << " on " << c.labels;
  }
}

TEST(LabelSelector, ErrorsReadAsKubernetes) {
  const std::string keyRegex =
      "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
      "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
      "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  const std::string valueMsg =
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
      "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
      "'my_value',  or '12345', regex used for validation is "
      "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  struct Case {
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {"a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"},
      {"a=b c", "found 'c', expected: ',' or 'end of string'"},
      {"a=b,", "found '', expected: identifier after ','"},
      {",a", "found ',', expected: !, identifier, or 'end of string'"},
      {"!a=b", "found '=', expected: ',' or 'end of string'"},
      {"a in b", "unable to parse requirement: found 'b' expected: '('"},
      {"a in (b", "unable to parse requirement: found '', expected: ',' or ')'"},
      {"a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"},
      {"a=(", "unable to parse requirement: found '(', expected: identifier"},
      {"=a", "found '=', expected: !, identifier, or 'end of string'"},
      {"a/b/c=d", "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a valid label key " +
                      keyRegex + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"},
      {"-a=b", "unable to parse requirement: <nil>: Invalid value: \"-a\": name part " + keyRegex},
      {"Example.com/a=b",
       "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a lowercase RFC "
       "1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and "
       "end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
      {"/a", "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty"},
      {"a=b$c", "unable to parse requirement: values[0][a]: Invalid value: \"b$c\": " + valueMsg},
      {"x>a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, "
              "the value must be an integer"},
      {"x>-1", "unable to parse requirement: values[0][x]: Invalid value: \"-1\": " + valueMsg},
      {"x>a$", "unable to parse requirement: [values[0]: Invalid value: \"a$\": for 'Gt', 'Lt' operators, "
               "the value must be an integer, values[0][x]: Invalid value: \"a$\": " + valueMsg + "]"},
  };
  for (const auto& c : cases) {
    auto sel = parseLabelSelector(c.in);
    ASSERT_FALSE(sel.has_value()) << c.in;
    EXPECT_EQ(sel.error().code, Code::kBadRequest) << c.in;
    EXPECT_EQ(sel.error().message, c.want) << c.in;
  }
}

TEST(LabelSelector, FromJsonAndMap) {
  auto sel = labelSelectorFromJson(Json::parse(R"({"matchLabels":{"app":"web"},"matchExpressions":[
      {"key":"tier","operator":"NotIn","values":["db"]},{"key":"canary","operator":"DoesNotExist"}]})"));
  ASSERT_TRUE(sel.has_value());
  EXPECT_EQ(sel->str(), "app=web,!canary,tier notin (db)");
  EXPECT_TRUE(sel->matches(Json::parse(R"({"app":"web","tier":"fe"})")));
  EXPECT_FALSE(sel->matches(Json::parse(R"({"app":"web","canary":"1"})")));

  auto everything = labelSelectorFromJson(Json::object());
  ASSERT_TRUE(everything.has_value());
  EXPECT_TRUE(everything->empty());
  EXPECT_TRUE(everything->matches(Json::parse(R"({"a":"b"})")));

  auto nothing = labelSelectorFromJson(nullptr);
  ASSERT_TRUE(nothing.has_value());
  EXPECT_FALSE(nothing->empty());
  EXPECT_TRUE(nothing->matchesNothing());
  EXPECT_FALSE(nothing->matches(Json::object()));
  EXPECT_EQ(nothing->str(), "");

  struct Case {
    const char* in;
    const char* want;
  };
  const Case errors[] = {
      {R"({"matchExpressions":[{"key":"a","operator":"Foo"}]})", "\"Foo\" is not a valid label selector operator"},
      {R"({"matchExpressions":[{"key":"a","operator":"In","values":[]}]})",
       "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"},
      {R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})",
       "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"},
      {R"({"matchLabels":{"a":"b c"}})",
       "values[0][a]: Invalid value: \"b c\": a valid label must be an empty string or consist of alphanumeric "
       "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
       "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
  };
  for (const auto& c : errors) {
    auto got = labelSelectorFromJson(Json::parse(c.in));
    ASSERT_FALSE(got.has_value()) << c.in;
    EXPECT_EQ(got.error().message, c.want) << c.in;
  }

  LabelSelector fromMap = labelSelectorFromMap(Json::parse(R"({"b":"2","a":"1"})"));
  EXPECT_EQ(fromMap.str(), "a=1,b=2");
  EXPECT_TRUE(fromMap.matches(Json::parse(R"({"a":"1","b":"2","c":"3"})")));
  EXPECT_FALSE(fromMap.matches(Json::parse(R"({"a":"1"})")));
  EXPECT_TRUE(labelSelectorFromMap(nullptr).empty());
}

Json pod() {
  return Json::parse(R"({"metadata":{"name":"web-1","namespace":"default"},
      "spec":{"nodeName":"node1","restartPolicy":"Always","schedulerName":"default-scheduler",
              "serviceAccountName":"default"},
      "status":{"phase":"Running","podIPs":[{"ip":"10.244.0.5"}],"podIP":"10.244.0.5"}})");
}

TEST(FieldSelector, MatchesPods) {
  struct Case {
    const char* selector;
    bool want;
  };
  const Case cases[] = {
      {"", true},
      {"metadata.name=web-1", true},
      {"metadata.name==web-1", true},
      {"metadata.name!=web-1", false},
      {"metadata.namespace=default,spec.nodeName=node1", true},
      {"spec.nodeName=node1,metadata.namespace=default", true},
      {"spec.nodeName=node2", false},
      {"spec.nodeName!=", true},
      {"spec.host=node1", true},
      {"status.phase!=Failed,status.phase!=Succeeded", true},
      {"status.podIP=10.244.0.5", true},
      {"spec.hostNetwork=false", true},
      {"spec.restartPolicy=Always,spec.schedulerName=default-scheduler,spec.serviceAccountName=default", true},
      {"status.nominatedNodeName=", true},
      {"status.podIPs=", true},
  };
  for (const auto& c : cases) {
    auto sel = parseFieldSelector(res("v1", "Pod"), c.selector);
    ASSERT_TRUE(sel.has_value()) << c.selector << ": " << sel.error().message;
    EXPECT_EQ(sel->matches(res("v1", "Pod"), pod()), c.want) << c.selector;
  }
}

TEST(FieldSelector, OtherKinds) {
  struct Case {
    const char* apiVersion;
    const char* kind;
    const char* obj;
    const char* selector;
    bool want;
  };
  const Case cases[] = {
      {"v1", "Event",
       R"({"metadata":{"name":"e","namespace":"default"},"involvedObject":{"kind":"Pod","name":"web-1",
          "namespace":"default","uid":"u-1"},"reason":"Pulled","type":"Normal","source":{"component":"kubelet"},
          "reportingComponent":"kubelet"})",
       "involvedObject.uid=u-1,involvedObject.name=web-1,involvedObject.namespace=default", true},
      {"v1", "Event", R"({"involvedObject":{"kind":"Service"},"source":{"component":"kubelet"}})",
       "involvedObject.kind=Service,source=kubelet,type=", true},
      {"v1", "Event", R"({"reportingComponent":"ctrl"})", "reportingComponent=ctrl", true},
      {"v1", "Node", R"({"metadata":{"name":"n1"},"spec":{"unschedulable":true}})", "spec.unschedulable=true", true},
      {"v1", "Node", R"({"metadata":{"name":"n1"}})", "spec.unschedulable=false", true},
      {"v1", "Namespace", R"({"metadata":{"name":"ns"},"status":{"phase":"Active"}})", "status.phase=Active", true},
      {"v1", "ReplicationController", R"({"status":{"replicas":3}})", "status.replicas=3", true},
      {"v1", "ReplicationController", R"({"status":{}})", "status.replicas=0", true},
      {"v1", "Service", R"({"spec":{"type":"NodePort","clusterIP":"10.96.0.1"}})",
       "spec.type=NodePort,spec.clusterIP=10.96.0.1", true},
      {"batch/v1", "Job", R"({"status":{"succeeded":1}})", "status.successful=1", true},
      {"v1", "ConfigMap", R"({"metadata":{"name":"a,b","namespace":"ns"}})", "metadata.name=a\\,b", true},
      {"v1", "ConfigMap", R"({"metadata":{"name":"a=b\\"}})", "metadata.name=a\\=b\\\\", true},
      {"apps/v1", "Deployment", R"({"metadata":{"name":"d","namespace":"x"}})", "metadata.namespace=y", false},
  };
  for (const auto& c : cases) {
    const ResourceInfo& r = res(c.apiVersion, c.kind);
    auto sel = parseFieldSelector(r, c.selector);
    ASSERT_TRUE(sel.has_value()) << c.selector << ": " << sel.error().message;
    EXPECT_EQ(sel->matches(r, Json::parse(c.obj)), c.want) << c.kind << " " << c.selector;
  }
}

TEST(FieldSelector, ErrorsReadAsKubernetes) {
  struct Case {
    const char* apiVersion;
    const char* kind;
    const char* selector;
    const char* want;
  };
  const Case cases[] = {
      {"v1", "Pod", "foo", "invalid selector: 'foo'; can't understand 'foo'"},
      {"v1", "Pod", "spec.foo=x", "field label not supported: spec.foo"},
      {"v1", "Pod", "z.b=1,a.a=2", "field label not supported: a.a"},
      {"v1", "Pod", "metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x"},
      {"v1", "Pod", "metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"},
      {"v1", "Pod", "metadata.name=a=b", "invalid field selector: unescaped character in value: 61"},
      {"v1", "Node", "metadata.namespace=x", "field label not supported: metadata.namespace"},
      {"v1", "Namespace", "metadata.namespace=x", "field label not supported: metadata.namespace"},
      {"v1", "Event", "involvedObject.foo=x", "field label not supported: involvedObject.foo"},
      {"batch/v1", "Job", "status.active=1", "field label not supported: status.active"},
      {"v1", "ConfigMap", "data.x=1",
       "\"data.x\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""},
      {"apps/v1", "Deployment", "spec.replicas=1",
       "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""},
  };
  for (const auto& c : cases) {
    auto sel = parseFieldSelector(res(c.apiVersion, c.kind), c.selector);
    ASSERT_FALSE(sel.has_value()) << c.selector;
    EXPECT_EQ(sel.error().code, Code::kBadRequest);
    EXPECT_EQ(sel.error().message, c.want) << c.selector;
  }
}

TEST(FieldSelector, FieldValue) {
  const ResourceInfo& pods = res("v1", "Pod");
  EXPECT_EQ(fieldValue(pods, pod(), "spec.nodeName"), "node1");
  EXPECT_EQ(fieldValue(pods, pod(), "spec.hostNetwork"), "false");
  EXPECT_EQ(fieldValue(pods, pod(), "spec.containers"), std::nullopt);
  EXPECT_EQ(fieldValue(res("v1", "Node"), Json::object(), "metadata.namespace"), std::nullopt);
  auto terms = parseFieldSelector(pods, "spec.host=n,status.phase!=Failed");
  ASSERT_TRUE(terms.has_value());
  ASSERT_EQ(terms->terms().size(), 2u);
  EXPECT_EQ(terms->terms()[0].field, "spec.nodeName");
  EXPECT_EQ(terms->terms()[1].field, "status.phase");
  EXPECT_TRUE(terms->terms()[1].notEquals);
}

}  // namespace
}  // namespace nanokube::api
