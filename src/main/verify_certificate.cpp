#include "main/verify_certificate.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/signing.h"
#include "modules/certificates/certificates.h"

namespace dzong {
namespace {

constexpr int kInvalid = 1;
constexpr int kUnreadable = 2;

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "dzong verify: %s\n", message.c_str());
  return kUnreadable;
}

}  // namespace

int VerifyCertificateCommand(const VerifyCertificateOptions& options) {
  auto jwks = ReadFile(options.keys_file);
  if (!jwks) return Fail("--keys: cannot read " + options.keys_file);
  auto keys = KeysFromJwks(*jwks);
  if (!keys.ok()) return Fail("--keys: " + keys.error().message);
  std::optional<nlohmann::json> status_list;
  if (!options.status_file.empty()) {
    auto text = ReadFile(options.status_file);
    if (!text) return Fail("--status-list: cannot read " + options.status_file);
    status_list = nlohmann::json::parse(*text, nullptr, false);
    if (!status_list->is_object()) return Fail("--status-list: " + options.status_file + " is not JSON");
  }
  // The input is a file (a PDF, or the payload saved as text) or the payload itself.
  std::string payload = options.input;
  if (auto file = ReadFile(options.input)) {
    if (file->starts_with("%PDF-")) {
      auto found = certificates::PayloadFromPdf(*file);
      if (!found.ok()) return Fail(found.error().message);
      payload = *found;
    } else {
      payload = *file;
    }
  }
  const std::string now = options.at.empty() ? FormatUtc(std::chrono::system_clock::now()) : options.at;
  auto check = certificates::VerifyOffline(payload, *keys, now, status_list ? &*status_list : nullptr);
  if (!check.ok()) return Fail(check.error().message);
  const nlohmann::json& claims = check->payload;
  std::printf("%s: %s\n", std::string(certificates::VerdictName(check->verdict)).c_str(), check->detail.c_str());
  std::printf("certificate %s, issued by %s on %s to %s, signed with %s\n", claims.value("id", "?").c_str(),
              claims.value("iss", "?").c_str(), claims.value("iat", "?").c_str(), claims.value("sub", "?").c_str(),
              check->kid.c_str());
  if (claims.contains("exp")) std::printf("valid until %s\n", claims.value("exp", "").c_str());
  if (check->verdict != certificates::Verdict::kForged) {
    const nlohmann::json fields = claims.value("f", nlohmann::json::object());
    for (const auto& [field, value] : fields.items()) {
      std::printf("  %s: %s\n", field.c_str(), value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
    }
  }
  return check->verdict == certificates::Verdict::kValid ? 0 : kInvalid;
}

}  // namespace dzong
