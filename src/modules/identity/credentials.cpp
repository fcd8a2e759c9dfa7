// Shapes and secrets: CID, password policy, TOTP codes and their QR drawing.
#include <qrencode.h>

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "base/crypto.h"
#include "modules/identity/identity.h"

namespace dzong::identity {

std::string_view KindName(AccountKind kind) {
  switch (kind) {
    case AccountKind::kCitizen:
      return "citizen";
    case AccountKind::kOfficial:
      return "official";
    case AccountKind::kSystem:
      return "system";
  }
  return "citizen";
}

std::vector<FieldError> ValidateCid(const std::string& field, const std::string& cid) {
  if (cid.size() == 11 && std::all_of(cid.begin(), cid.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return {};
  }
  return {{field, "cid",
           "Enter your Citizenship ID as it is on your card: 11 digits, with no spaces or dashes"}};
}

std::vector<FieldError> ValidatePassword(const std::string& field, const std::string& password,
                                         const std::string& username) {
  // Common passwords an attacker tries first; long enough ones only, since
  // shorter ones fail the length rule anyway.
  static constexpr std::array<std::string_view, 8> kCommon = {
      "password1234", "123456789012", "qwertyuiop12", "passwordpassword",
      "iloveyou1234", "bhutan123456", "thimphu12345", "druk12345678"};
  if (password.size() < 12) return {{field, "min_length", "Your password must be at least 12 characters"}};
  if (password.size() > 128) return {{field, "max_length", "Your password must be 128 characters or fewer"}};
  std::string lower = password;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (std::find(kCommon.begin(), kCommon.end(), lower) != kCommon.end()) {
    return {{field, "common", "This password is too commonly used; choose another"}};
  }
  std::string user = username;
  std::transform(user.begin(), user.end(), user.begin(), [](unsigned char c) { return std::tolower(c); });
  if (user.size() >= 4 && lower.find(user) != std::string::npos) {
    return {{field, "contains_username", "Your password must not contain your username or CID"}};
  }
  if (std::all_of(password.begin(), password.end(), [&](char c) { return c == password[0]; })) {
    return {{field, "repetitive", "Your password must not be one character repeated"}};
  }
  return {};
}

std::string TotpCode(std::string_view secret, std::int64_t step) {
  std::string counter(8, '\0');
  for (int i = 7; i >= 0; --i) {
    counter[static_cast<std::size_t>(i)] = static_cast<char>(step & 0xff);
    step >>= 8;
  }
  const std::string mac = HmacSha1(secret, counter);
  const int offset = mac.back() & 0x0f;
  const std::uint32_t binary = ((static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset])) & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 1])) << 16) |
                               (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 2])) << 8) |
                               static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 3]));
  return fmt::format("{:06d}", binary % 1000000);
}

/// Draws `text` as a QR code in SVG, one rectangle per dark module, with a
/// quiet zone of four modules.
std::string QrSvg(const std::string& text) {
  QRcode* code = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (!code) return {};
  const int width = code->width;
  const int size = width + 8;
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {0}" width="{1}" height="{1}" aria-hidden="true" focusable="false" shape-rendering="crispEdges">)",
      size, size * 5);
  svg += fmt::format(R"(<rect width="{0}" height="{0}" fill="#fff"/><path fill="#000" d=")", size);
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      if (code->data[y * width + x] & 1) svg += fmt::format("M{} {}h1v1h-1z", x + 4, y + 4);
    }
  }
  svg += "\"/></svg>";
  QRcode_free(code);
  return svg;
}

}  // namespace dzong::identity
