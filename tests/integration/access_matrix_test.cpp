// Every route × every role, against tests/access_matrix.csv: a signed-in
// holder of each role (through an API token carrying all its permissions)
// and an anonymous caller, allowed or refused as the matrix says.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/csv.h"
#include "modules/identity/identity.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

struct MatrixRow {
  std::string method, route;
  std::map<std::string, std::string> expected;  ///< role (or "anonymous") → allow / deny
};

std::vector<MatrixRow> LoadMatrix(std::vector<std::string>* roles) {
  std::ifstream in(DZONG_SOURCE_DIR "/tests/access_matrix.csv");
  std::string line, text;
  while (std::getline(in, line)) {
    if (!line.starts_with("#")) text += line + "\n";
  }
  const auto header = SplitCsvLine(text.substr(0, text.find('\n')));
  roles->assign(header.begin() + 3, header.end());  // after method, route, anonymous
  std::vector<MatrixRow> rows;
  for (const auto& f : CsvRecords(text)) {
    MatrixRow row{f.at(0), f.at(1), {}};
    for (std::size_t i = 2; i < f.size(); ++i) row.expected[header[i]] = f[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string Concrete(std::string pattern) {
  const auto open = pattern.find('{');
  if (open == std::string::npos) return pattern;
  return pattern.replace(open, pattern.find('}') - open + 1, "DCRC");
}

bool IsJsonRoute(const std::string& pattern) {
  return pattern.starts_with("/api/") || pattern.starts_with("/exchange/") || pattern.starts_with("/.well-known/") ||
         pattern == "/healthz" || pattern == "/readyz" || pattern == "/metrics";
}

TEST(AccessMatrixTest, CoversEveryRoute) {
  TestServer server;
  std::vector<std::string> roles;
  std::set<std::string> in_matrix;
  for (const auto& row : LoadMatrix(&roles)) in_matrix.insert(row.method + " " + row.route);
  std::set<std::string> served;
  for (const auto& r : server.app().Routes()) served.insert(r.method + " " + r.pattern);
  EXPECT_EQ(in_matrix, served);
  auto codes = server.app().Identity().RoleCodes();
  ASSERT_TRUE(codes.ok());
  EXPECT_EQ(std::set<std::string>(roles.begin(), roles.end()), std::set<std::string>(codes->begin(), codes->end()));
}

TEST(AccessMatrixTest, EveryRoleReachesExactlyWhatTheMatrixSays) {
  TestServer server;
  identity::IdentityService& identity = server.app().Identity();
  std::vector<std::string> roles;
  const auto matrix = LoadMatrix(&roles);

  // Two platform administrators from the demo seed: one proposes, one approves.
  auto accounts = identity.ListAccounts(std::nullopt);
  ASSERT_TRUE(accounts.ok());
  std::int64_t maker = 0, checker = 0;
  for (const auto& a : *accounts) {
    if (a.username == "tshering.yangzom") maker = a.id;
    if (a.username == "ugyen.tenzin") checker = a.id;
  }
  const auto admin = identity.LoadCaller(maker);
  const auto second = identity.LoadCaller(checker);
  ASSERT_TRUE(admin.ok() && second.ok());

  std::map<std::string, std::string> tokens;  // role → bearer token
  int n = 0;
  for (const std::string& role : roles) {
    identity::NewAccount input;
    input.kind = role == "citizen" ? identity::AccountKind::kCitizen : identity::AccountKind::kOfficial;
    input.username = role == "citizen" ? "1140100" + std::to_string(1000 + n) : "matrix." + std::to_string(n);
    input.display_name = "Holder of " + role;
    if (role != "citizen") input.organisation = "DCRC";
    input.password = "Matrix-Test-Password-2026";
    ++n;
    auto account = identity.CreateAccount(input, "test");
    ASSERT_TRUE(account.ok()) << account.error().message;
    auto grant = identity.GrantRole(*admin, account->id, role);
    ASSERT_TRUE(grant.ok()) << role << ": " << grant.error().message;
    if (grant->status == "pending") {
      ASSERT_TRUE(identity.ApproveGrant(*second, grant->id).ok());
    }
    auto caller = identity.LoadCaller(account->id);
    ASSERT_TRUE(caller.ok());
    std::string scopes;
    for (const auto& p : caller->permissions) scopes += p + " ";
    auto token = identity.CreateToken(account->id, "matrix", scopes, std::chrono::hours(1));
    ASSERT_TRUE(token.ok()) << token.error().message;
    tokens[role] = *token;
  }

  auto client = server.Client();
  int checked = 0;
  for (const MatrixRow& row : matrix) {
    const std::string target = Concrete(row.route);
    const std::string body = row.method == "GET" ? "" : "{}";
    {
      SCOPED_TRACE(row.method + " " + row.route + " as anonymous");
      auto r = client->Send(row.method, target, body);
      const bool refused = IsJsonRoute(row.route) ? r.status == 401 : (r.status == 303 && r.Header("location").starts_with("/sign-in?return="));
      EXPECT_EQ(refused ? "deny" : "allow", row.expected.at("anonymous")) << "status " << r.status;
      ++checked;
    }
    for (const std::string& role : roles) {
      SCOPED_TRACE(row.method + " " + row.route + " as " + role);
      auto r = client->Send(row.method, target, body, {{"Authorization", "Bearer " + tokens[role]}});
      EXPECT_NE(r.status, 401) << r.body;
      // The matrix is about permissions: a JSON route's own refusal after the
      // permission check (e.g. the exchange's "sign your request") is not a deny.
      bool denied = r.status == 403;
      if (denied && IsJsonRoute(row.route)) {
        const auto error = nlohmann::json::parse(r.body, nullptr, false);
        denied = error.is_object() && error.value("code", "") == "auth.forbidden";
      }
      EXPECT_EQ(denied ? "deny" : "allow", row.expected.at(role)) << "status " << r.status << " " << r.body;
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(matrix.size() * (roles.size() + 1)));
}

}  // namespace
}  // namespace dzong::testing
