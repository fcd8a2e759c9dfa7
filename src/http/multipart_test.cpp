#include "http/multipart.h"

#include <gtest/gtest.h>

namespace dzong::http {
namespace {

constexpr char kType[] = "multipart/form-data; boundary=----b0undary";

std::string Body(const std::string& parts) { return parts + "------b0undary--\r\n"; }

TEST(MultipartTest, ReadsFieldsAndFilesAsSent) {
  const std::string body = Body(
      "------b0undary\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n"
      "------b0undary\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.png\"\r\n"
      "Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n----b0undarydata\r\n");
  auto parts = ParseMultipart(kType, std::string_view(body.data(), body.size()));
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "csrf_token");
  EXPECT_EQ((*parts)[0].body, "abc");
  EXPECT_FALSE((*parts)[0].filename);
  EXPECT_EQ((*parts)[1].name, "photo");
  EXPECT_EQ((*parts)[1].filename.value_or(""), "me.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  // The body may hold CRLF and the start of a boundary line without ending.
  EXPECT_EQ((*parts)[1].body, std::string("\x89PNG\r\n\x1a\n", 8) + "\r\n----b0undarydata");
}

TEST(MultipartTest, AQuotedBoundaryAndAnEmptyFileAreRead) {
  const std::string body =
      "--x y\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\nContent-Type: "
      "application/octet-stream\r\n\r\n\r\n--x y--";
  auto parts = ParseMultipart("multipart/form-data; boundary=\"x y\"", body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].body, "");
  EXPECT_EQ((*parts)[0].filename.value_or("?"), "");
}

TEST(MultipartTest, RefusesWhatItDoesNotUnderstand) {
  const auto refused = [](std::string_view type, const std::string& body) {
    auto parts = ParseMultipart(type, body);
    return parts.ok() ? std::string("accepted") : parts.error().code;
  };
  EXPECT_EQ(refused("application/x-www-form-urlencoded", "a=b"), "request.unsupported_media_type");
  EXPECT_EQ(refused("multipart/form-data", "--\r\n"), "request.unsupported_media_type");
  // No closing boundary.
  EXPECT_EQ(refused(kType, "------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx"),
            kMalformedMultipart);
  // No name.
  EXPECT_EQ(refused(kType, Body("------b0undary\r\nContent-Disposition: form-data\r\n\r\nx\r\n")), kMalformedMultipart);
  // Not form-data.
  EXPECT_EQ(refused(kType, Body("------b0undary\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n")),
            kMalformedMultipart);
  // A preamble before the first boundary.
  EXPECT_EQ(refused(kType, "hello\r\n" + Body("------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n")),
            kMalformedMultipart);
  // Nested multipart and transfer encodings.
  EXPECT_EQ(refused(kType, Body("------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: "
                                "multipart/mixed; boundary=z\r\n\r\nx\r\n")),
            kMalformedMultipart);
  EXPECT_EQ(refused(kType, Body("------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                                "Content-Transfer-Encoding: base64\r\n\r\neA==\r\n")),
            kMalformedMultipart);
  // Text after the end.
  EXPECT_EQ(refused(kType, Body("------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n") + "more"),
            kMalformedMultipart);
  // Too many parts.
  std::string many;
  for (int i = 0; i < 4; ++i) many += "------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n";
  auto parts = ParseMultipart(kType, Body(many), 3);
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.error().code, kMalformedMultipart);
}

}  // namespace
}  // namespace dzong::http
