// Walks the route table: every route declares a permission and an audit
// event, is enforced, and is described in the OpenAPI document (and the
// document describes no route that does not exist).
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// The JSON API and the operations endpoints; everything else is a page.
bool IsJsonRoute(const std::string& pattern) {
  return pattern.starts_with("/api/") || pattern.starts_with("/exchange/") || pattern.starts_with("/.well-known/") ||
         pattern == "/healthz" || pattern == "/readyz" || pattern == "/metrics";
}

std::string Concrete(std::string pattern) {
  // Fill parameters with a real code so that the route's own checks run.
  const auto open = pattern.find('{');
  if (open == std::string::npos) return pattern;
  return pattern.replace(open, pattern.find('}') - open + 1, "DCRC");
}

TEST(RouteTableTest, EveryRouteDeclaresPermissionAndAuditEvent) {
  TestServer server;
  const auto routes = server.app().Routes();
  ASSERT_FALSE(routes.empty());
  for (const auto& r : routes) {
    SCOPED_TRACE(r.method + " " + r.pattern);
    EXPECT_FALSE(r.permission.empty());
    EXPECT_FALSE(r.audit_event.empty());
    // A route that changes something must leave a trace.
    if (r.method != "GET") {
      EXPECT_NE(r.audit_event, "none");
    }
  }
}

TEST(RouteTableTest, AnonymousCallersReachOnlyWhatTheirPermissionsAllow) {
  TestServer server;
  auto client = server.Client();
  const std::set<std::string> anonymous = {"public", "organisations.read"};
  for (const auto& r : server.app().Routes()) {
    SCOPED_TRACE(r.method + " " + r.pattern);
    auto response = client->Send(r.method, Concrete(r.pattern), r.method == "GET" ? "" : "{}");
    if (anonymous.contains(r.permission)) {
      EXPECT_NE(response.status, 401);
      EXPECT_NE(response.status, 403);
    } else if (IsJsonRoute(r.pattern)) {
      EXPECT_EQ(response.status, 401);
      EXPECT_EQ(json::parse(response.body)["code"], "auth.unauthenticated");
    } else {
      // A page asks the person to sign in.
      EXPECT_EQ(response.status, 303);
      EXPECT_TRUE(response.Header("location").starts_with("/sign-in?return=")) << response.Header("location");
    }
  }
}

TEST(RouteTableTest, OpenApiDocumentMatchesTheRouteTable) {
  TestServer server;
  const json doc = json::parse(ApiDescription());
  std::set<std::string> documented;
  for (const auto& [path, operations] : doc["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      documented.insert(Lower(method) + " " + path);
    }
  }
  std::set<std::string> served;
  for (const auto& r : server.app().Routes()) {
    if (IsJsonRoute(r.pattern)) served.insert(Lower(r.method) + " " + r.pattern);
  }
  for (const auto& s : served) EXPECT_TRUE(documented.contains(s)) << s << " is served but not in docs/api/openapi.json";
  for (const auto& d : documented) EXPECT_TRUE(served.contains(d)) << d << " is documented but not served";
}

}  // namespace
}  // namespace dzong::testing
