// An agency system registers its Ed25519 public key and signs its requests
// with HTTP Message Signatures (RFC 9421); anything else about the request
// that does not match the signature is refused.
#include <gtest/gtest.h>

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "modules/identity/identity.h"
#include "modules/identity/message_signature.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kSystem[] = "BT/GOV/DCRC/CENSUS";

class SystemClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& id = server_.app().Identity();
    const auto accounts = id.ListAccounts(std::nullopt);
    std::int64_t admin = 0;
    for (const auto& a : *accounts) {
      if (a.username == "karma.dorji") admin = a.id;
    }
    const std::string token = id.CreateToken(admin, "t", "accounts.manage roles.grant", std::chrono::hours(1)).value();
    auto created = server_.Client()->Send(
        "POST", "/api/v1/accounts",
        json{{"kind", "system"}, {"username", kSystem}, {"display_name", "Census register"},
             {"organisation", "DCRC"}, {"public_key", Base64Encode(keys_.public_key)}}.dump(),
        {{"Authorization", "Bearer " + token}});
    ASSERT_EQ(created.status, 201) << created.body;
    const auto id_of_system = json::parse(created.body)["id"].get<std::int64_t>();
    auto granted = server_.Client()->Send("POST", fmt::format("/api/v1/accounts/{}/grants", id_of_system),
                                          json{{"role", "auditor"}}.dump(), {{"Authorization", "Bearer " + token}});
    ASSERT_EQ(granted.status, 201) << granted.body;
  }

  /// Signature-Input and Signature headers for a request, as the system makes them.
  std::vector<std::pair<std::string, std::string>> Sign(const std::string& method, const std::string& path,
                                                        const std::string& body, std::int64_t created_offset = 0,
                                                        const std::string& key_id = kSystem) {
    const auto created =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
        created_offset;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string components = "\"@method\" \"@path\"";
    std::string base = fmt::format("\"@method\": {}\n\"@path\": {}\n", method, path);
    if (!body.empty()) {
      const std::string digest = identity::ContentDigest(body);
      headers.push_back({"Content-Digest", digest});
      components += " \"content-digest\"";
      base += fmt::format("\"content-digest\": {}\n", digest);
    }
    const std::string params = fmt::format("({});created={};keyid=\"{}\";alg=\"ed25519\"", components, created, key_id);
    base += "\"@signature-params\": " + params;
    headers.push_back({"Signature-Input", "sig1=" + params});
    headers.push_back({"Signature", "sig1=:" + Base64Encode(Ed25519Sign(keys_.secret_key, base)) + ":"});
    return headers;
  }

  TestServer server_;
  KeyPair keys_ = Ed25519KeyPair();
};

TEST_F(SystemClientTest, SignedRequestIsAcceptedAsTheSystem) {
  auto client = server_.Client();
  auto r = client->Get("/api/v1/accounts", Sign("GET", "/api/v1/accounts", ""));
  ASSERT_EQ(r.status, 200) << r.body;
  const json listed = json::parse(r.body);
  for (const auto& a : listed["items"]) EXPECT_EQ(a["organisation"], "DCRC");
  EXPECT_EQ(client->Get("/api/v1/accounts").status, 401);
}

TEST_F(SystemClientTest, SignatureOverAnotherRequestIsRefused) {
  auto client = server_.Client();
  auto moved = client->Get("/api/v1/accounts", Sign("GET", "/api/v1/organisations", ""));
  EXPECT_EQ(moved.status, 401);
  auto stale = client->Get("/api/v1/accounts", Sign("GET", "/api/v1/accounts", "", -3600));
  EXPECT_EQ(stale.status, 401);
  EXPECT_NE(json::parse(stale.body)["message"].get<std::string>().find("five minutes"), std::string::npos);
  auto stranger = client->Get("/api/v1/accounts", Sign("GET", "/api/v1/accounts", "", 0, "BT/GOV/RBP/NOBODY"));
  EXPECT_EQ(stranger.status, 401);
}

TEST_F(SystemClientTest, BodyMustMatchItsSignedDigest) {
  auto client = server_.Client();
  const std::string body = json{{"role", "officer"}}.dump();
  auto headers = Sign("POST", "/api/v1/accounts/1/grants", body);
  auto tampered = client->Send("POST", "/api/v1/accounts/1/grants", json{{"role", "platform_administrator"}}.dump(),
                               headers);
  EXPECT_EQ(tampered.status, 401);
  EXPECT_NE(json::parse(tampered.body)["message"].get<std::string>().find("Content-Digest"), std::string::npos);
}

TEST_F(SystemClientTest, RegistrationValidatesTheKey) {
  auto& id = server_.app().Identity();
  identity::NewAccount bad;
  bad.kind = identity::AccountKind::kSystem;
  bad.username = "BT/GOV/DCRC/OTHER";
  bad.display_name = "Other";
  bad.organisation = "DCRC";
  bad.public_key = "bm90IGEga2V5";  // "not a key"
  auto r = id.CreateAccount(bad, "test");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fields.at(0).rule, "ed25519");
  bad.public_key = Base64Encode(Ed25519KeyPair().public_key);
  bad.username = "dcrc-other";
  auto named = id.CreateAccount(bad, "test");
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.error().fields.at(0).field, "username");
}

}  // namespace
}  // namespace dzong::testing
