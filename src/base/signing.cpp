#include "base/signing.h"

#include <nlohmann/json.hpp>

#include "base/crypto.h"

namespace dzong {

std::string_view SignatureCheckName(SignatureCheck check) {
  switch (check) {
    case SignatureCheck::kValid: return "valid";
    case SignatureCheck::kUnknownKey: return "unknown key";
    case SignatureCheck::kOutsideKeyPeriod: return "signed outside the key's period";
    case SignatureCheck::kBadSignature: return "bad signature";
  }
  return "bad signature";
}

SignatureCheck CheckSignature(const std::vector<PublicKey>& keys, const Signature& signature,
                              std::string_view message, std::string_view signed_at) {
  for (const PublicKey& key : keys) {
    if (key.kid != signature.kid) continue;
    if (signed_at < key.created_at || (key.retired_at && signed_at >= *key.retired_at)) {
      return SignatureCheck::kOutsideKeyPeriod;
    }
    return Ed25519Verify(key.key, message, signature.bytes) ? SignatureCheck::kValid : SignatureCheck::kBadSignature;
  }
  return SignatureCheck::kUnknownKey;
}

std::string KeysToJwks(const std::vector<PublicKey>& keys) {
  nlohmann::json list = nlohmann::json::array();
  for (const PublicKey& key : keys) {
    nlohmann::json jwk = {{"kty", "OKP"},          {"crv", "Ed25519"},
                          {"alg", "EdDSA"},        {"use", "sig"},
                          {"kid", key.kid},        {"x", Base64UrlEncode(key.key)},
                          {"dzong:created", key.created_at}, {"dzong:status", key.status}};
    if (key.retired_at) jwk["dzong:retired"] = *key.retired_at;
    list.push_back(std::move(jwk));
  }
  return nlohmann::json({{"keys", std::move(list)}}).dump();
}

Result<std::vector<PublicKey>> KeysFromJwks(std::string_view jwks) {
  const auto bad = [](std::string message) { return Error("keys.invalid_jwks", std::move(message)); };
  const nlohmann::json doc = nlohmann::json::parse(jwks, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return bad("not a JSON Web Key Set: expected an object with a \"keys\" list");
  }
  std::vector<PublicKey> out;
  for (const auto& jwk : doc["keys"]) {
    const auto text = [&](const char* name) -> std::string {
      return jwk.contains(name) && jwk[name].is_string() ? jwk[name].get<std::string>() : std::string();
    };
    if (text("kty") != "OKP" || text("crv") != "Ed25519") continue;  // not a key Dzong signs with
    PublicKey key;
    key.kid = text("kid");
    auto raw = Base64UrlDecode(text("x"));
    if (key.kid.empty() || !raw || raw->size() != 32) {
      return bad("key " + std::to_string(out.size() + 1) + ": needs a kid and a 32-byte base64url x");
    }
    key.key = std::move(*raw);
    key.created_at = text("dzong:created");
    key.status = text("dzong:status");
    if (std::string retired = text("dzong:retired"); !retired.empty()) key.retired_at = std::move(retired);
    out.push_back(std::move(key));
  }
  return out;
}

}  // namespace dzong
