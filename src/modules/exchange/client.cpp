#include "modules/exchange/client.h"

#include <cctype>
#include <charconv>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/crypto.h"
#include "http/client.h"
#include "http/message.h"

namespace dzong::exchange {
namespace {

using nlohmann::json;

/// A parameter of a Signature-Input value (keyid, created), or empty.
std::string Param(std::string_view input, std::string_view name) {
  const std::string key = fmt::format(";{}=", name);
  const auto at = input.find(key);
  if (at == std::string_view::npos) return {};
  std::size_t start = at + key.size();
  if (start < input.size() && input[start] == '"') {
    const auto end = input.find('"', start + 1);
    return std::string(input.substr(start + 1, end == std::string_view::npos ? 0 : end - start - 1));
  }
  const auto end = input.find(';', start);
  return std::string(input.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

}  // namespace

Result<SystemKey> ParseKeyFile(const std::string& text) {
  std::string line = text;
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  auto raw = Base64Decode(line);
  if (!raw || raw->size() != 64) {
    return Error(dzong::errc::kValidation,
                 "the key file must hold one line: the system's 64-byte Ed25519 secret key in base64 "
                 "(dzong exchange keygen writes one)");
  }
  return SystemKey{*raw};
}

std::string NewKeyFile() { return Base64Encode(Ed25519KeyPair().secret_key) + "\n"; }

Result<ReadAnswer> Read(const ReadRequest& request) {
  DZONG_ASSIGN_OR_RETURN(http::Origin origin, http::ParseOrigin(request.server));
  std::vector<PublicKey> keys;
  if (request.platform_keys) {
    keys = *request.platform_keys;
  } else {
    DZONG_ASSIGN_OR_RETURN(http::ClientResponse jwks, http::Fetch(origin, "GET", "/.well-known/dzong-keys.json", {}));
    if (jwks.status != 200) {
      return Error("client.bad_response", fmt::format("the platform's keys could not be read ({})", jwks.status));
    }
    DZONG_ASSIGN_OR_RETURN(keys, KeysFromJwks(jwks.body));
  }

  const std::string path =
      fmt::format("/exchange/v1/registries/{}/records/{}", http::PercentEncode(request.registry), http::PercentEncode(request.record_key));
  const auto created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string components = "\"@method\" \"@path\" \"x-purpose\"";
  std::string base = fmt::format("\"@method\": GET\n\"@path\": {}\n\"x-purpose\": {}\n", path, request.purpose);
  if (!request.issue.empty()) {
    components += " \"x-road-issue\"";
    base += fmt::format("\"x-road-issue\": {}\n", request.issue);
  }
  const std::string params = fmt::format("({});created={};keyid=\"{}\";alg=\"ed25519\";nonce=\"{}\"", components,
                                         created, request.client, RandomHex(16));
  base += "\"@signature-params\": " + params;
  const std::string signature = "sig1=:" + Base64Encode(Ed25519Sign(request.key.secret_key, base)) + ":";
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Road-Client", request.client},
      {"X-Purpose", request.purpose},
      {"Signature-Input", "sig1=" + params},
      {"Signature", signature},
      {"Accept", "application/json"}};
  if (!request.issue.empty()) headers.emplace_back("X-Road-Issue", request.issue);
  DZONG_ASSIGN_OR_RETURN(http::ClientResponse response, http::Fetch(origin, "GET", path, headers));

  ReadAnswer answer;
  answer.status = response.status;
  answer.body = response.body;
  if (response.status != 200) {
    const json error = json::parse(response.body, nullptr, false);
    if (error.is_object()) {
      answer.error_code = error.value("code", "");
      answer.message = error.value("message", "");
    }
    return answer;
  }
  // The answer covers its status, its digest and this request's signature.
  const std::string input = response.Header("signature-input");
  const std::string answer_signature = response.Header("signature");
  answer.digest_matches = response.Header("content-digest") == "sha-256=:" + Base64Encode(Sha256(response.body)) + ":";
  answer.signed_by = Param(input, "keyid");
  const std::string created_at = Param(input, "created");
  if (!input.starts_with("sig1=") || !answer_signature.starts_with("sig1=:") || answer_signature.size() < 8 ||
      created_at.empty()) {
    answer.signature = SignatureCheck::kBadSignature;
    return answer;
  }
  const std::string answer_base =
      fmt::format("\"@status\": {}\n\"content-digest\": {}\n\"signature\";req: {}\n\"@signature-params\": {}",
                  response.status, response.Header("content-digest"), signature, input.substr(5));
  auto raw = Base64Decode(answer_signature.substr(6, answer_signature.size() - 7));
  if (!raw) {
    answer.signature = SignatureCheck::kBadSignature;
    return answer;
  }
  std::int64_t seconds = 0;
  std::from_chars(created_at.data(), created_at.data() + created_at.size(), seconds);
  // `created` counts whole seconds: the signature was made within that
  // second, so a key made earlier in the same second still covers it.
  const std::string signed_at = FormatUtc(std::chrono::system_clock::time_point(std::chrono::seconds(seconds + 1)) -
                                          std::chrono::microseconds(1));
  answer.signature = CheckSignature(keys, Signature{answer.signed_by, *raw}, answer_base, signed_at);
  return answer;
}

}  // namespace dzong::exchange
