#pragma once
// An official signing in for the first time, as they do in a browser: the
// password, then setting up the authenticator with a code from it.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "base/crypto.h"
#include "modules/identity/identity.h"
#include "support/browser.h"

namespace dzong::testing {

/// The authenticator's code now for a base32 secret.
inline std::string TotpCodeNow(const std::string& secret_base32) {
  const auto secret = Base32Decode(secret_base32);
  const auto step =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() /
      30;
  return identity::TotpCode(*secret, step);
}

/// Signs `user` in and sets up their authenticator; the browser is then
/// signed in.
inline std::unique_ptr<Browser> SignInOfficialFirstTime(std::uint16_t port, const std::string& user,
                                                        const std::string& password) {
  auto b = std::make_unique<Browser>(port);
  b->Get("/sign-in");
  auto first = b->Post("/sign-in", {{"username", user}, {"password", password}});
  EXPECT_EQ(first.Header("location"), "/account/totp") << first.status << first.body;
  const std::string secret = Browser::Between(b->Get("/account/totp").body, "id=\"totp-secret\">", "<");
  EXPECT_EQ(b->Post("/account/totp", {{"secret", secret}, {"code", TotpCodeNow(secret)}}).status, 303);
  return b;
}

}  // namespace dzong::testing
