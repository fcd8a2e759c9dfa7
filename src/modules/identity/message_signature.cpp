#include "modules/identity/message_signature.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "base/crypto.h"

namespace dzong::identity {
namespace {

Error Refuse(const std::string& why) { return Error(dzong::errc::kUnauthenticated, "request signature: " + why); }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::string ContentDigest(std::string_view body) { return "sha-256=:" + Base64Encode(Sha256(body)) + ":"; }

Result<SignedRequest> ParseSignedRequest(const http::Request& request, std::chrono::system_clock::time_point now) {
  const std::string_view input = Trim(request.HeaderValue("Signature-Input"));
  const std::string_view signature = Trim(request.HeaderValue("Signature"));
  if (!input.starts_with("sig1=(")) return Refuse("Signature-Input must define sig1");
  if (!signature.starts_with("sig1=:") || !signature.ends_with(":")) return Refuse("Signature must carry sig1 as :base64:");
  const std::string_view params = input.substr(5);  // the inner list with its parameters, as signed
  const auto close = params.find(')');
  if (close == std::string_view::npos) return Refuse("malformed component list");

  // Covered components: quoted names separated by spaces.
  std::vector<std::string> components;
  std::string_view list = params.substr(1, close - 1);
  while (!(list = Trim(list)).empty()) {
    if (list.front() != '"') return Refuse("component names must be quoted");
    const auto end = list.find('"', 1);
    if (end == std::string_view::npos) return Refuse("unterminated component name");
    components.emplace_back(list.substr(1, end - 1));
    list.remove_prefix(end + 1);
  }

  SignedRequest out;
  std::string alg;
  std::string_view rest = params.substr(close + 1);
  while (!rest.empty()) {
    if (rest.front() != ';') return Refuse("malformed signature parameters");
    rest.remove_prefix(1);
    const auto eq = rest.find('=');
    const auto next = rest.find(';');
    const std::string_view name = rest.substr(0, eq);
    std::string_view value = rest.substr(eq + 1, next == std::string_view::npos ? std::string_view::npos : next - eq - 1);
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (name == "keyid") out.key_id = std::string(value);
    if (name == "alg") alg = std::string(value);
    if (name == "created") std::from_chars(value.data(), value.data() + value.size(), out.created);
  }
  if (out.key_id.empty()) return Refuse("keyid is missing");
  if (alg != "ed25519") return Refuse("alg must be ed25519");
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() - out.created;
  if (out.created == 0 || age > 300 || age < -300) return Refuse("created must be within five minutes of now");

  const auto covers = [&](std::string_view c) { return std::find(components.begin(), components.end(), c) != components.end(); };
  if (!covers("@method") || !covers("@path")) return Refuse("the signature must cover @method and @path");
  if (!request.body.empty()) {
    if (!covers("content-digest")) return Refuse("a request with a body must sign content-digest");
    if (Trim(request.HeaderValue("Content-Digest")) != ContentDigest(request.body)) {
      return Refuse("Content-Digest does not match the body");
    }
  }

  for (const std::string& c : components) {
    std::string value;
    if (c == "@method") {
      value = request.method;
    } else if (c == "@path") {
      value = request.path;
    } else if (c == "@query") {
      value = "?" + request.query;
    } else if (c == "@authority") {
      value = Lower(request.HeaderValue("Host"));
    } else if (c.starts_with("@")) {
      return Refuse(fmt::format("component {} is not supported", c));
    } else {
      const std::string_view header = request.HeaderValue(c);
      if (header.empty()) return Refuse(fmt::format("covered header {} is missing", c));
      value = std::string(Trim(header));
    }
    out.base += fmt::format("\"{}\": {}\n", c, value);
  }
  out.base += fmt::format("\"@signature-params\": {}", params);
  const auto raw = Base64Decode(signature.substr(6, signature.size() - 7));
  if (!raw) return Refuse("Signature is not base64");
  out.signature = *raw;
  return out;
}

}  // namespace dzong::identity
