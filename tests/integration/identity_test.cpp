// Signing in and out, TOTP, password reset, CSRF, lock-out, roles and
// tokens, through the pages and the API, as people and systems use them.
#include <gtest/gtest.h>

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "db/database.h"
#include "modules/identity/identity.h"
#include "support/browser.h"
#include "support/test_server.h"
#include "web/web.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kCitizen[] = "11410012345";
constexpr char kCitizenPassword[] = "Tashi-Delek-2026";

std::string CodeFor(const std::string& secret_base32, int steps_ahead = 0) {
  const auto secret = Base32Decode(secret_base32);
  const auto step = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count() / 30 + steps_ahead;
  return identity::TotpCode(*secret, step);
}

class IdentityTest : public ::testing::Test {
 protected:
  static HttpResponse SignInTo(Browser& b, const std::string& user, const std::string& password) {
    b.Get("/sign-in");
    return b.Post("/sign-in", {{"username", user}, {"password", password}});
  }

  HttpResponse SignIn(Browser& b, const std::string& user, const std::string& password) {
    b.Get("/sign-in");
    return b.Post("/sign-in", {{"username", user}, {"password", password}});
  }

  /// A bearer token for a demo account, with the given scopes.
  std::string TokenFor(const std::string& username, const std::string& scopes) {
    auto& id = server_.app().Identity();
    auto accounts = id.ListAccounts(std::nullopt);
    for (const auto& a : *accounts) {
      if (a.username == username) return id.CreateToken(a.id, "test", scopes, std::chrono::hours(1)).value();
    }
    return {};
  }

  std::int64_t AccountId(const std::string& username) {
    const auto accounts = server_.app().Identity().ListAccounts(std::nullopt);
    for (const auto& a : *accounts) {
      if (a.username == username) return a.id;
    }
    return 0;
  }

  std::int64_t Count(const std::string& sql) {
    return server_.app()
        .Database()
        .ReadValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query(sql));
          return rows.at(0).Int(0);
        })
        .value();
  }

  TestServer server_;
};

TEST_F(IdentityTest, CitizenSignsInAndOut) {
  Browser b(server_.port());
  auto signed_in = SignIn(b, kCitizen, kCitizenPassword);
  ASSERT_EQ(signed_in.status, 303) << signed_in.body;
  EXPECT_EQ(signed_in.Header("location"), "/account");
  const std::string cookie = signed_in.Header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  auto account = b.Get("/account");
  ASSERT_EQ(account.status, 200);
  EXPECT_NE(account.body.find("Sonam Choden"), std::string::npos);
  EXPECT_NE(account.Header("content-security-policy").find("default-src 'self'"), std::string::npos);
  auto out = b.Post("/sign-out", {});
  EXPECT_EQ(out.status, 303);
  EXPECT_TRUE(b.Cookie("dzong_session").empty());
  EXPECT_EQ(b.Get("/account").status, 303);
}

TEST_F(IdentityTest, WrongPasswordIsRefusedAndStartsNoSession) {
  Browser b(server_.port());
  auto r = SignIn(b, kCitizen, "Not-The-Password-1");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("govuk-error-summary"), std::string::npos);
  EXPECT_NE(r.body.find("The username or password is not right"), std::string::npos);
  EXPECT_TRUE(b.Cookie("dzong_session").empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sessions"), 0);
}

TEST_F(IdentityTest, MalformedCidNamesTheRule) {
  Browser b(server_.port());
  auto r = SignIn(b, "1234", "whatever-password");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("11 digits"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sessions"), 0);
}

TEST_F(IdentityTest, FormsWithoutTheRightCsrfTokenAreRefused) {
  Browser b(server_.port());
  b.Get("/sign-in");
  auto missing = b.Post("/sign-in", {{"username", kCitizen}, {"password", kCitizenPassword}, {"csrf_token", ""}});
  EXPECT_EQ(missing.status, 422);
  auto wrong = b.Post("/sign-in", {{"username", kCitizen}, {"password", kCitizenPassword}, {"csrf_token", "forged"}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_TRUE(b.Cookie("dzong_session").empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sessions"), 0);
  // Signed in, the session's own token is required.
  ASSERT_EQ(SignIn(b, kCitizen, kCitizenPassword).status, 303);
  b.Get("/account");
  auto out = b.Post("/sign-out", {{"csrf_token", "forged"}});
  EXPECT_EQ(out.status, 422);
  EXPECT_EQ(b.Get("/account").status, 200);  // still signed in
}

TEST_F(IdentityTest, RepeatedFailuresLockTheAccountAndAreLogged) {
  Browser b(server_.port());
  for (int i = 0; i < 5; ++i) SignIn(b, kCitizen, fmt::format("Wrong-Password-{}", i));
  auto locked = SignIn(b, kCitizen, kCitizenPassword);
  EXPECT_EQ(locked.status, 422);
  EXPECT_NE(locked.body.find("locked"), std::string::npos);
  EXPECT_TRUE(b.Cookie("dzong_session").empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM security_events WHERE event = 'identity.account_locked'"), 1);
}

TEST_F(IdentityTest, ManyAttemptsFromOneAddressAreThrottledBeforeAnyHashing) {
  Browser b(server_.port());
  HttpResponse last;
  for (int i = 0; i < 51; ++i) last = SignIn(b, fmt::format("1141000{}", 1000 + i), "Some-Password-2026");
  EXPECT_EQ(last.status, 422);
  EXPECT_NE(last.body.find("Too many sign-in attempts"), std::string::npos);
  // Correct sign-ins from a busy address (a community centre) never count.
  TestServer centre;
  Browser desk(centre.port());
  for (int i = 0; i < 15; ++i) {
    ASSERT_EQ(SignInTo(desk, kCitizen, kCitizenPassword).status, 303) << "sign-in " << i;
    desk.Post("/sign-out", {});
  }
}

TEST_F(IdentityTest, OfficialEnrolsTotpThenSignsInWithACodeAndCannotReplayIt) {
  Browser b(server_.port());
  auto first = SignIn(b, "pema.wangmo", "Census-Officer-2026");
  ASSERT_EQ(first.status, 303);
  EXPECT_EQ(first.Header("location"), "/account/totp");
  EXPECT_EQ(b.Get("/account").status, 303);  // nothing else until the second factor is set up
  auto enrol = b.Get("/account/totp");
  ASSERT_EQ(enrol.status, 200);
  EXPECT_NE(enrol.body.find("<svg"), std::string::npos);
  const std::string secret = Browser::Between(enrol.body, "id=\"totp-secret\">", "<");
  ASSERT_EQ(secret.size(), 32U);
  const std::string pre_enrol_session = b.Cookie("dzong_session");
  const std::string used = CodeFor(secret);
  auto enrolled = b.Post("/account/totp", {{"secret", secret}, {"code", used}});
  ASSERT_EQ(enrolled.status, 303) << enrolled.body;
  EXPECT_NE(b.Cookie("dzong_session"), pre_enrol_session);  // the session id rotates
  EXPECT_EQ(b.Get("/account").status, 200);
  b.Post("/sign-out", {});

  auto again = SignIn(b, "pema.wangmo", "Census-Officer-2026");
  EXPECT_EQ(again.Header("location"), "/sign-in/totp");
  b.Get("/sign-in/totp");
  auto replay = b.Post("/sign-in/totp", {{"code", used}});  // the very code used to enrol
  EXPECT_EQ(replay.status, 422);
  EXPECT_NE(replay.body.find("used already"), std::string::npos);
  auto wrong = b.Post("/sign-in/totp", {{"code", "000000"}});
  EXPECT_EQ(wrong.status, 422);
  auto next = b.Post("/sign-in/totp", {{"code", CodeFor(secret, 1)}});
  EXPECT_EQ(next.status, 303);
  EXPECT_EQ(b.Get("/account").status, 200);
}

TEST_F(IdentityTest, PasswordResetWorksOnceAndNotAfterExpiry) {
  Browser b(server_.port());
  b.Get("/forgotten-password");
  auto asked = b.Post("/forgotten-password", {{"username", kCitizen}});
  EXPECT_EQ(asked.status, 200);
  auto payload = server_.app().Database().ReadValue<std::string>([](db::Connection& c) -> Result<std::string> {
    DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT payload FROM notification_outbox WHERE template = "
                                              "'identity.password_reset' ORDER BY id DESC LIMIT 1"));
    if (rows.empty()) return Error("test.none", "no reset message in the outbox");
    return rows[0].Text(0);
  });
  ASSERT_TRUE(payload.ok()) << payload.error().message;
  const std::string path = json::parse(*payload)["reset_path"];
  const std::string token = path.substr(path.find('=') + 1);
  b.Get(path);
  auto weak = b.Post("/reset-password", {{"token", token}, {"password", "short"}});
  EXPECT_EQ(weak.status, 422);
  auto reset = b.Post("/reset-password", {{"token", token}, {"password", "A-New-Password-2026"}});
  EXPECT_EQ(reset.status, 303);
  auto reused = b.Post("/reset-password", {{"token", token}, {"password", "Another-Password-2026"}});
  EXPECT_EQ(reused.status, 422);
  EXPECT_NE(reused.body.find("expired or has been used"), std::string::npos);
  EXPECT_EQ(SignIn(b, kCitizen, "A-New-Password-2026").status, 303);

  // An expired link is refused too.
  const std::string raw = RandomHex(32);
  ASSERT_TRUE(server_.app().Database().Write([&](db::Connection& c) -> Status {
    const db::Value v[] = {Sha256Hex(raw), AccountId(kCitizen), std::string("2020-01-01T00:00:00.000000Z"),
                           std::string("2020-01-01T00:30:00.000000Z")};
    DZONG_TRY(c.Execute("INSERT INTO password_resets (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)", v));
    return {};
  }).ok());
  auto expired = b.Post("/reset-password", {{"token", raw}, {"password", "Yet-Another-Password-2026"}});
  EXPECT_EQ(expired.status, 422);
}

TEST_F(IdentityTest, AgencyAdministratorCannotGrantOutsideTheirOrganisation) {
  auto client = server_.Client();
  const std::string token = TokenFor("karma.dorji", "roles.grant accounts.read");
  auto r = client->Send("POST", "/api/v1/accounts/" + std::to_string(AccountId("tshering.yangzom")) + "/grants",
                        json{{"role", "officer"}}.dump(), {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body)["code"], "identity.outside_organisation");
  auto inside = client->Send("POST", "/api/v1/accounts/" + std::to_string(AccountId("pema.wangmo")) + "/grants",
                             json{{"role", "registry_steward"}}.dump(), {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(inside.status, 201) << inside.body;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM role_grants WHERE role = 'officer' AND granted_by = 'karma.dorji'"), 0);
  // The list shows only the administrator's own organisation.
  auto list = client->Get("/api/v1/accounts", {{"Authorization", "Bearer " + token}});
  const json listed = json::parse(list.body);
  for (const auto& a : listed["items"]) EXPECT_EQ(a["organisation"], "DCRC");
}

TEST_F(IdentityTest, PlatformAdministratorRoleNeedsASecondAdministrator) {
  auto client = server_.Client();
  const std::string maker = TokenFor("tshering.yangzom", "roles.grant roles.approve");
  const std::string checker = TokenFor("ugyen.tenzin", "roles.approve");
  auto proposed = client->Send("POST", "/api/v1/accounts/" + std::to_string(AccountId("pema.wangmo")) + "/grants",
                               json{{"role", "platform_administrator"}}.dump(), {{"Authorization", "Bearer " + maker}});
  ASSERT_EQ(proposed.status, 202) << proposed.body;
  const auto grant = json::parse(proposed.body);
  EXPECT_EQ(grant["status"], "pending");
  const std::string approve = "/api/v1/grants/" + std::to_string(grant["id"].get<std::int64_t>()) + "/approve";
  auto self = client->Send("POST", approve, "", {{"Authorization", "Bearer " + maker}});
  EXPECT_EQ(self.status, 403);
  EXPECT_EQ(json::parse(self.body)["code"], "identity.second_approver_required");
  auto caller = server_.app().Identity().LoadCaller(AccountId("pema.wangmo"));
  EXPECT_FALSE(caller->Has("roles.approve"));
  auto approved = client->Send("POST", approve, "", {{"Authorization", "Bearer " + checker}});
  EXPECT_EQ(approved.status, 200) << approved.body;
  EXPECT_TRUE(server_.app().Identity().LoadCaller(AccountId("pema.wangmo"))->Has("roles.approve"));
}

TEST_F(IdentityTest, TokensCarryOnlyTheirScopesAndCanBeRevoked) {
  auto client = server_.Client();
  const std::string narrow = TokenFor("karma.dorji", "organisations.read");
  EXPECT_EQ(client->Get("/api/v1/organisations/DCRC", {{"Authorization", "Bearer " + narrow}}).status, 200);
  EXPECT_EQ(client->Get("/api/v1/accounts", {{"Authorization", "Bearer " + narrow}}).status, 403);
  auto tokens = server_.app().Identity().ListTokens(AccountId("karma.dorji"));
  ASSERT_TRUE(server_.app().Identity().RevokeToken(AccountId("karma.dorji"), tokens->front().id).ok());
  EXPECT_EQ(client->Get("/api/v1/organisations/DCRC", {{"Authorization", "Bearer " + narrow}}).status, 401);
  // A token may not carry a permission its holder lacks.
  auto over = server_.app().Identity().CreateToken(AccountId(kCitizen), "x", "accounts.read", std::chrono::hours(1));
  EXPECT_FALSE(over.ok());
}

TEST_F(IdentityTest, AccountsApiValidatesAndWritesNothingOnBadInput) {
  auto client = server_.Client();
  const std::string token = TokenFor("karma.dorji", "accounts.manage accounts.read");
  const auto before = Count("SELECT COUNT(*) FROM accounts");
  auto bad_cid = client->Send("POST", "/api/v1/accounts",
                              json{{"kind", "citizen"}, {"username", "12-34"}, {"display_name", "X"},
                                   {"password", "Long-Enough-Password-1"}}.dump(),
                              {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(bad_cid.status, 422);
  EXPECT_EQ(json::parse(bad_cid.body)["fields"][0]["rule"], "cid");
  auto weak = client->Send("POST", "/api/v1/accounts",
                           json{{"kind", "official"}, {"username", "new.officer"}, {"display_name", "New Officer"},
                                {"organisation", "DCRC"}, {"password", "new.officer-x"}}.dump(),
                           {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(weak.status, 422);
  auto elsewhere = client->Send("POST", "/api/v1/accounts",
                                json{{"kind", "official"}, {"username", "spy"}, {"display_name", "Spy"},
                                     {"organisation", "RBP"}, {"password", "Good-Password-2026"}}.dump(),
                                {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(elsewhere.status, 403);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM accounts"), before);
  auto ok = client->Send("POST", "/api/v1/accounts",
                         json{{"kind", "official"}, {"username", "new.officer"}, {"display_name", "New Officer"},
                              {"organisation", "DCRC"}, {"password", "Good-Password-2026"}}.dump(),
                         {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(IdentityTest, AdministratorsCreateAccountsAndApproveEachOthersGrantsOnThePages) {
  // Officials enrol TOTP at their first sign-in.
  const auto sign_in_official = [&](Browser& b, const std::string& user, const std::string& password) {
    ASSERT_EQ(SignIn(b, user, password).Header("location"), "/account/totp");
    const std::string secret = Browser::Between(b.Get("/account/totp").body, "id=\"totp-secret\">", "<");
    ASSERT_EQ(b.Post("/account/totp", {{"secret", secret}, {"code", CodeFor(secret)}}).status, 303);
  };
  Browser maker(server_.port());
  sign_in_official(maker, "tshering.yangzom", "Platform-Admin-2026");
  ASSERT_EQ(maker.Get("/admin/accounts").status, 200);
  auto created = maker.Post("/admin/accounts", {{"kind", "official"}, {"display_name", "Dechen Zangmo"},
                                                {"username", "dechen.zangmo"}, {"organisation", "RBP"},
                                                {"password", "Police-Officer-2026"}});
  ASSERT_EQ(created.status, 303) << created.body;
  auto weak = maker.Post("/admin/accounts", {{"kind", "citizen"}, {"display_name", "X"}, {"username", "12345"},
                                             {"password", "short"}});
  EXPECT_EQ(weak.status, 422);
  EXPECT_NE(weak.body.find("11 digits"), std::string::npos);

  maker.Get("/admin/accounts");
  ASSERT_EQ(maker.Post("/admin/grants", {{"account", "dechen.zangmo"}, {"role", "platform_administrator"}}).status, 303);
  auto page = maker.Get("/admin/accounts");
  EXPECT_NE(page.body.find("Needs another administrator"), std::string::npos);
  const auto pending = server_.app().Identity().ListGrants(std::nullopt, "pending");
  ASSERT_EQ(pending->size(), 1U);
  const std::string approve = "/admin/grants/" + std::to_string(pending->front().id) + "/approve";
  auto own = maker.Post(approve, {});
  EXPECT_EQ(own.status, 422);
  EXPECT_NE(own.body.find("second administrator"), std::string::npos);

  Browser checker(server_.port());
  sign_in_official(checker, "ugyen.tenzin", "Platform-Admin2-2026");
  checker.Get("/admin/accounts");
  EXPECT_EQ(checker.Post(approve, {}).status, 303);
  EXPECT_TRUE(server_.app().Identity().LoadCaller(AccountId("dechen.zangmo"))->Has("roles.approve"));

  // And the role can be taken back.
  const auto granted = server_.app().Identity().ListGrants(AccountId("dechen.zangmo"), "active");
  ASSERT_EQ(granted->size(), 1U);
  checker.Get("/admin/accounts");
  EXPECT_EQ(checker.Post("/admin/grants/" + std::to_string(granted->front().id) + "/revoke", {}).status, 303);
  EXPECT_FALSE(server_.app().Identity().LoadCaller(AccountId("dechen.zangmo"))->Has("roles.approve"));
}

TEST(ProxyTest, BehindATrustedProxyTheForwardedAddressIsThrottledNotTheProxy) {
  TestServer server([](Config& c) { c.trusted_proxies = {"127.0.0.1"}; });
  HttpClient client(server.port());
  const auto attempt = [&](const std::string& address, const std::string& user) {
    auto page = client.Get("/sign-in", {{"X-Forwarded-For", address}});
    const std::string csrf = Browser::Between(page.body, "name=\"csrf_token\" value=\"", "\"");
    const std::string cookie = page.Header("set-cookie").substr(0, page.Header("set-cookie").find(';'));
    return client.Send("POST", "/sign-in", "csrf_token=" + csrf + "&username=" + user + "&password=Wrong-Password-1",
                       {{"X-Forwarded-For", "203.0.113.9, " + address}, {"Cookie", cookie},
                        {"Content-Type", "application/x-www-form-urlencoded"}});
  };
  HttpResponse last;
  for (int i = 0; i < 50; ++i) last = attempt("198.51.100.7", fmt::format("1141000{}", 2000 + i));
  EXPECT_NE(attempt("198.51.100.7", "11410009999").body.find("Too many sign-in attempts"), std::string::npos);
  // Another person behind the same proxy is not held back.
  EXPECT_EQ(attempt("198.51.100.8", "11410008888").body.find("Too many sign-in attempts"), std::string::npos);
}

TEST_F(IdentityTest, EveryCatalogueKeyExistsInBothLanguages) {
  EXPECT_EQ(server_.app().Web().MissingTranslations(), std::vector<std::string>{});
}

TEST_F(IdentityTest, LanguageFollowsChoiceThenAcceptLanguage) {
  auto client = server_.Client();
  auto dz = client->Get("/", {{"Accept-Language", "dz, en;q=0.5"}});
  EXPECT_NE(dz.body.find("<html lang=\"dz\""), std::string::npos);
  auto chosen = client->Get("/", {{"Accept-Language", "dz"}, {"Cookie", "dzong_lang=en"}});
  EXPECT_NE(chosen.body.find("<html lang=\"en\""), std::string::npos);
  auto unknown = client->Get("/no-such-page", {{"Accept", "text/html"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("Page not found"), std::string::npos);
}

}  // namespace
}  // namespace dzong::testing
