#include "http/errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "modules/identity/identity.h"
#include "modules/organisations/organisations.h"

namespace dzong::http {
namespace {

TEST(ErrorsTest, EveryCodeHasOneStatus) {
  std::set<std::string_view> seen;
  for (const auto& e : ErrorTable()) {
    EXPECT_TRUE(seen.insert(e.code).second) << e.code << " is listed twice";
    EXPECT_GE(e.status, 400);
    EXPECT_LT(e.status, 600);
    // Codes are namespaced by their module: "module.what".
    if (e.code != errc::kInternal) {
      EXPECT_NE(e.code.find('.'), std::string_view::npos) << e.code;
    }
  }
  for (const char* code : {organisations::errc::kNotFound, organisations::errc::kAlreadyExists,
                           organisations::errc::kParentNotFound, organisations::errc::kParentCycle,
                           identity::errc::kInvalidCredentials, identity::errc::kLocked, identity::errc::kThrottled,
                           identity::errc::kTotpInvalid, identity::errc::kTotpReplayed,
                           identity::errc::kSessionInvalid, identity::errc::kTokenInvalid,
                           identity::errc::kResetTokenInvalid, identity::errc::kNotFound,
                           identity::errc::kAlreadyExists, identity::errc::kOutsideOrganisation,
                           identity::errc::kSecondApproverRequired, identity::errc::kCsrf}) {
    EXPECT_TRUE(seen.contains(code)) << code << " is missing from the table";
  }
}

TEST(ErrorsTest, BodyHasCodeMessageFieldsAndRequestId) {
  Response r = ErrorResponse(Error(errc::kValidation, "name_en is required", {{"name_en", "required", "name_en is required"}}),
                             "req-1");
  EXPECT_EQ(r.status, 422);
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["code"], "request.invalid");
  EXPECT_EQ(body["message"], "name_en is required");
  EXPECT_EQ(body["fields"][0]["field"], "name_en");
  EXPECT_EQ(body["fields"][0]["rule"], "required");
  EXPECT_EQ(body["request_id"], "req-1");
}

TEST(ErrorsTest, InternalDetailsStayOutOfTheBody) {
  Response r = ErrorResponse(Error("something.unlisted", "sqlite: disk I/O error at /srv/secret"), "req-2");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(r.body)["code"], "internal");
}

}  // namespace
}  // namespace dzong::http
