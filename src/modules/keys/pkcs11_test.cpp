#include "modules/keys/pkcs11.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace dzong::keys {
namespace {

namespace fs = std::filesystem;

constexpr char kModule[] = "/usr/lib/softhsm/libsofthsm2.so";
constexpr char kLabel[] = "dzong-20261130-ab12";

/// Each test gets its own SoftHSM2 token store in a temporary directory,
/// with one fresh token, "dzong-test", PIN 1234.
class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Failing, not skipping: a skipped test would let the suite pass on a
    // machine that cannot show the token client works.
    ASSERT_TRUE(fs::exists(kModule)) << kModule << " is missing: install softhsm2 (apt-get install softhsm2)";
    ASSERT_GE(sodium_init(), 0);
    std::string pattern = (fs::temp_directory_path() / "dzong-pkcs11-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directory(dir_ / "tokens");
    const fs::path config = dir_ / "softhsm2.conf";
    std::ofstream(config) << "directories.tokendir = " << (dir_ / "tokens").string() << "\n"
                          << "objectstore.backend = file\n"
                          << "log.level = ERROR\n";
    ASSERT_EQ(setenv("SOFTHSM2_CONF", config.c_str(), 1), 0);
    InitToken("dzong-test");
  }

  void TearDown() override {
    unsetenv("SOFTHSM2_CONF");
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  static void InitToken(const std::string& label) {
    const std::string command =
        "softhsm2-util --init-token --free --label " + label + " --pin 1234 --so-pin 5678 > /dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  static TokenSettings Settings(std::string label = "dzong-test", std::string pin = "1234") {
    return TokenSettings{kModule, std::move(label), std::move(pin)};
  }

  static bool Verifies(const std::string& public_key, std::string_view message, const std::string& signature) {
    if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) return false;
    return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                       reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
  }

  fs::path dir_;
};

TEST_F(TokenTest, GeneratesAKeyWhoseSignaturesVerify) {
  auto token = Token::Open(Settings());
  ASSERT_TRUE(token.ok()) << token.error().message;

  auto generated = (*token)->GenerateEd25519(kLabel);
  ASSERT_TRUE(generated.ok()) << generated.error().message;
  EXPECT_EQ(generated->size(), 32u);

  auto public_key = (*token)->PublicKey(kLabel);
  ASSERT_TRUE(public_key.ok()) << public_key.error().message;
  EXPECT_EQ(*public_key, *generated);

  const std::string message = "certificate 2026/000123 issued to Karma Wangchuk";
  auto signature = (*token)->Sign(kLabel, message);
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_EQ(signature->size(), 64u);
  EXPECT_TRUE(Verifies(*public_key, message, *signature));
  EXPECT_FALSE(Verifies(*public_key, message + ".", *signature));

  auto again = (*token)->GenerateEd25519(kLabel);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, errc::kPkcs11KeyExists);
}

TEST_F(TokenTest, AWrongPinNamesCLogin) {
  auto token = Token::Open(Settings("dzong-test", "0000"));
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, errc::kPkcs11Failed);
  EXPECT_NE(token.error().message.find("C_Login"), std::string::npos) << token.error().message;
  EXPECT_NE(token.error().message.find("CKR_PIN_INCORRECT"), std::string::npos) << token.error().message;
}

TEST_F(TokenTest, AnUnknownTokenLabelIsNamed) {
  auto token = Token::Open(Settings("no-such-token"));
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, errc::kPkcs11Failed);
  EXPECT_NE(token.error().message.find("no-such-token"), std::string::npos) << token.error().message;
}

TEST_F(TokenTest, AMissingModuleIsNamed) {
  auto token = Token::Open(TokenSettings{"/nonexistent/libpkcs11.so", "dzong-test", "1234"});
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().code, errc::kPkcs11Failed);
  EXPECT_NE(token.error().message.find("dlopen /nonexistent/libpkcs11.so"), std::string::npos) << token.error().message;
}

TEST_F(TokenTest, AnUnknownKeyLabelIsNoKey) {
  auto token = Token::Open(Settings());
  ASSERT_TRUE(token.ok()) << token.error().message;
  auto public_key = (*token)->PublicKey("dzong-19990101-0000");
  ASSERT_FALSE(public_key.ok());
  EXPECT_EQ(public_key.error().code, errc::kPkcs11NoKey);
  auto signature = (*token)->Sign("dzong-19990101-0000", "message");
  ASSERT_FALSE(signature.ok());
  EXPECT_EQ(signature.error().code, errc::kPkcs11NoKey);
}

TEST_F(TokenTest, OpensAgainAfterTheFirstTokenIsDestroyed) {
  std::string generated;
  {
    auto token = Token::Open(Settings());
    ASSERT_TRUE(token.ok()) << token.error().message;
    auto made = (*token)->GenerateEd25519(kLabel);
    ASSERT_TRUE(made.ok()) << made.error().message;
    generated = *made;
  }
  // The module was finalised and unloaded; this loads and initialises it anew.
  auto token = Token::Open(Settings());
  ASSERT_TRUE(token.ok()) << token.error().message;
  auto public_key = (*token)->PublicKey(kLabel);
  ASSERT_TRUE(public_key.ok()) << public_key.error().message;
  EXPECT_EQ(*public_key, generated);
  auto signature = (*token)->Sign(kLabel, "again");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_TRUE(Verifies(generated, "again", *signature));
}

TEST_F(TokenTest, ASecondTokenOnTheSameTokenIsRefused) {
  auto first = Token::Open(Settings());
  ASSERT_TRUE(first.ok()) << first.error().message;
  // Accepting the login the first Token made would let a wrong PIN through.
  auto second = Token::Open(Settings("dzong-test", "0000"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "C_Login: CKR_USER_ALREADY_LOGGED_IN");
  // The first is still logged in and usable.
  auto generated = (*first)->GenerateEd25519(kLabel);
  EXPECT_TRUE(generated.ok()) << generated.error().message;
}

TEST_F(TokenTest, TwoTokensShareTheModuleUntilTheLastCloses) {
  ASSERT_NO_FATAL_FAILURE(InitToken("dzong-test-2"));
  auto first = Token::Open(Settings());
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = Token::Open(Settings("dzong-test-2"));
  ASSERT_TRUE(second.ok()) << second.error().message;
  auto generated = (*second)->GenerateEd25519(kLabel);
  ASSERT_TRUE(generated.ok()) << generated.error().message;
  // Closing the first must not finalise the module under the second.
  first->reset();
  auto signature = (*second)->Sign(kLabel, "still here");
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_TRUE(Verifies(*generated, "still here", *signature));
}

}  // namespace
}  // namespace dzong::keys
