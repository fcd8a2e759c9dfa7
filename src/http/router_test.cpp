#include "http/router.h"

#include <gtest/gtest.h>

namespace dzong::http {
namespace {

Handler Ok() {
  return [](const Request&, const PathParams&) { return Response{}; };
}

TEST(RouterTest, RefusesARouteWithoutPermission) {
  Router router;
  Status s = router.Add({"GET", "/x", "", kNoAuditEvent, Ok(), ""});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "router.no_permission");
  EXPECT_TRUE(router.routes().empty());
}

TEST(RouterTest, RefusesARouteWithoutAuditEvent) {
  Router router;
  Status s = router.Add({"GET", "/x", kPublic, "", Ok(), ""});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "router.no_audit_event");
}

TEST(RouterTest, RefusesDuplicatesAndMalformedPatterns) {
  Router router;
  ASSERT_TRUE(router.Add({"GET", "/a/{id}", kPublic, kNoAuditEvent, Ok(), ""}).ok());
  EXPECT_EQ(router.Add({"GET", "/a/{id}", kPublic, kNoAuditEvent, Ok(), ""}).error().code, "router.duplicate");
  EXPECT_EQ(router.Add({"GET", "/b/{id", kPublic, kNoAuditEvent, Ok(), ""}).error().code, "router.bad_pattern");
  EXPECT_EQ(router.Add({"GET", "nope", kPublic, kNoAuditEvent, Ok(), ""}).error().code, "router.bad_pattern");
  EXPECT_EQ(router.Add({"get", "/c", kPublic, kNoAuditEvent, Ok(), ""}).error().code, "router.bad_method");
}

TEST(RouterTest, MatchesParametersAndDecodesThem) {
  Router router;
  ASSERT_TRUE(router.Add({"GET", "/orgs/{code}", kPublic, kNoAuditEvent, Ok(), ""}).ok());
  auto m = router.Match("GET", "/orgs/DZ%2DPARO");
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(m));
  EXPECT_EQ(std::get<RouteMatch>(m).params.at("code"), "DZ-PARO");
  EXPECT_TRUE(std::holds_alternative<NoRoute>(router.Match("GET", "/orgs/")));
  EXPECT_TRUE(std::holds_alternative<NoRoute>(router.Match("GET", "/orgs/a/b")));
  EXPECT_TRUE(std::holds_alternative<NoRoute>(router.Match("GET", "/orgs/%zz")));
}

TEST(RouterTest, LiteralSegmentsWinOverParameters) {
  Router router;
  ASSERT_TRUE(router.Add({"GET", "/orgs/{code}", kPublic, kNoAuditEvent, Ok(), ""}).ok());
  ASSERT_TRUE(router.Add({"GET", "/orgs/new", kPublic, kNoAuditEvent, Ok(), ""}).ok());
  auto m = router.Match("GET", "/orgs/new");
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(m));
  EXPECT_EQ(std::get<RouteMatch>(m).index, 1U);
}

TEST(RouterTest, WrongMethodListsTheAllowedOnes) {
  Router router;
  ASSERT_TRUE(router.Add({"GET", "/orgs/{code}", kPublic, kNoAuditEvent, Ok(), ""}).ok());
  ASSERT_TRUE(router.Add({"PATCH", "/orgs/{code}", "orgs.manage", "orgs.update", Ok(), ""}).ok());
  auto m = router.Match("DELETE", "/orgs/X");
  ASSERT_TRUE(std::holds_alternative<WrongMethod>(m));
  EXPECT_EQ(std::get<WrongMethod>(m).allow, (std::vector<std::string>{"GET", "PATCH"}));
}

}  // namespace
}  // namespace dzong::http
