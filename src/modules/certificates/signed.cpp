// What is signed and how anyone checks it: the compact payload of the QR
// code, the offline check against saved keys and a saved status list, the
// eddsa-jcs-2022 proofs of credentials, and the status list's bitstring.
// Nothing here touches the database, so `dzong verify` runs it offline.
#include <zlib.h>

#include <fmt/format.h>

#include "base/crypto.h"
#include "base/jcs.h"
#include "modules/certificates/certificates.h"
#include "modules/certificates/internal.h"

namespace dzong::certificates {

using nlohmann::json;

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid: return "valid";
    case Verdict::kRevoked: return "revoked";
    case Verdict::kExpired: return "expired";
    case Verdict::kForged: return "forged";
    case Verdict::kUnknownKey: return "unknown_key";
    case Verdict::kNotFound: return "not_found";
  }
  return "forged";
}

std::string Certificate::StatusAt(const std::string& now) const {
  if (status == "revoked") return "revoked";
  if (expires_at && *expires_at <= now) return "expired";
  return "valid";
}

json Certificate::Fields() const {
  json claims = json::parse(payload, nullptr, false);
  return claims.is_object() ? claims.value("f", json::object()) : json::object();
}

namespace {

std::string Compose(std::string_view payload, const Signature& signature) {
  return fmt::format("{}{}.{}.{}", kCompactPrefix, Base64UrlEncode(payload), signature.kid,
                     Base64UrlEncode(signature.bytes));
}

}  // namespace

std::string CompactPayload(const Certificate& certificate) {
  return Compose(certificate.payload, certificate.signature);
}

Result<std::string> SignClaims(Signer& signer, const json& claims) {
  DZONG_ASSIGN_OR_RETURN(std::string payload, Canonical(claims));
  DZONG_ASSIGN_OR_RETURN(Signature signature, signer.Sign(payload));
  return Compose(payload, signature);
}

Result<Compact> ParseCompact(std::string_view text) {
  const auto malformed = [] {
    return Error(errc::kMalformed,
                 "this is not a Dzong certificate's signed payload: it starts with DZ1. and has four parts "
                 "separated by dots");
  };
  if (const auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(hash + 1);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  if (!text.starts_with(kCompactPrefix)) return malformed();
  text.remove_prefix(std::string_view(kCompactPrefix).size());
  const auto first = text.find('.');
  const auto second = first == std::string_view::npos ? first : text.find('.', first + 1);
  if (second == std::string_view::npos || text.find('.', second + 1) != std::string_view::npos) return malformed();
  Compact out;
  auto payload = Base64UrlDecode(text.substr(0, first));
  auto signature = Base64UrlDecode(text.substr(second + 1));
  if (!payload || !signature || signature->size() != 64) return malformed();
  out.payload = std::move(*payload);
  out.signature.kid = std::string(text.substr(first + 1, second - first - 1));
  out.signature.bytes = std::move(*signature);
  out.claims = json::parse(out.payload, nullptr, false);
  if (!out.claims.is_object() || !out.claims.contains("id") || !out.claims.contains("iat")) return malformed();
  return out;
}

Verdict CheckCompact(const Compact& compact, const std::vector<PublicKey>& keys, std::string& detail) {
  switch (CheckSignature(keys, compact.signature, compact.payload, compact.claims.value("iat", ""))) {
    case SignatureCheck::kValid: return Verdict::kValid;
    case SignatureCheck::kUnknownKey:
      detail = fmt::format("no published key has the id {}", compact.signature.kid);
      return Verdict::kUnknownKey;
    case SignatureCheck::kOutsideKeyPeriod:
      detail = fmt::format("the key {} could not sign on {}", compact.signature.kid, compact.claims.value("iat", ""));
      return Verdict::kUnknownKey;
    case SignatureCheck::kBadSignature:
      detail = "the signature does not match the certificate's text: it was altered, or not made by the platform";
      return Verdict::kForged;
  }
  return Verdict::kForged;
}

Result<OfflineCheck> VerifyOffline(std::string_view text, const std::vector<PublicKey>& keys, const std::string& now,
                                   const json* status_list) {
  DZONG_ASSIGN_OR_RETURN(Compact compact, ParseCompact(text));
  OfflineCheck out;
  out.payload = compact.claims;
  out.kid = compact.signature.kid;
  out.verdict = CheckCompact(compact, keys, out.detail);
  if (out.verdict != Verdict::kValid) return out;
  const std::string expires = compact.claims.value("exp", "");
  if (!expires.empty() && expires <= now) {
    out.verdict = Verdict::kExpired;
    out.detail = fmt::format("it expired on {}", expires.substr(0, 10));
    return out;
  }
  if (status_list) {
    if (!CheckProof(*status_list, keys)) {
      return Error(errc::kMalformed, "the status list's own signature does not hold: get a fresh copy from the platform");
    }
    const json& subject = status_list->value("credentialSubject", json::object());
    const std::string list_url = status_list->value("id", "");
    const json status = compact.claims.value("st", json::object());
    if (status.value("l", std::int64_t{0}) == ListNumber(list_url)) {
      auto bits = DecodeBits(subject.value("encodedList", ""));
      if (!bits) return Error(errc::kMalformed, "the status list's encodedList cannot be read");
      if (BitAt(*bits, status.value("i", std::int64_t{-1}))) {
        out.verdict = Verdict::kRevoked;
        out.detail = fmt::format("the status list of {} marks it revoked", status_list->value("validFrom", ""));
        return out;
      }
    }
  }
  out.detail = "the signature holds and it has not expired";
  return out;
}

Result<std::string> PayloadFromPdf(std::string_view pdf) {
  // The PDF's Keywords carry the compact payload, written by Pdf().
  const auto at = pdf.find(kCompactPrefix);
  if (!pdf.starts_with("%PDF-") || at == std::string_view::npos) {
    return Error(errc::kMalformed, "this file is not a certificate PDF made by Dzong: it carries no signed payload");
  }
  auto end = at;
  while (end < pdf.size() && (std::isalnum(static_cast<unsigned char>(pdf[end])) || pdf[end] == '-' ||
                              pdf[end] == '_' || pdf[end] == '.')) {
    ++end;
  }
  return std::string(pdf.substr(at, end - at));
}

std::string DidFor(const std::string& site_url) {
  std::string host = site_url;
  if (const auto scheme = host.find("://"); scheme != std::string::npos) host = host.substr(scheme + 3);
  if (const auto slash = host.find('/'); slash != std::string::npos) host = host.substr(0, slash);
  std::string out = "did:web:";
  for (char ch : host) {
    if (ch == ':') out += "%3A";
    else out += ch;
  }
  return out;
}

namespace {

/// The two hashes eddsa-jcs-2022 signs: of the proof's options, then of the document.
Result<std::string> HashData(const json& options, const json& document) {
  DZONG_ASSIGN_OR_RETURN(std::string canonical_options, Canonical(options));
  DZONG_ASSIGN_OR_RETURN(std::string canonical_document, Canonical(document));
  return Sha256(canonical_options) + Sha256(canonical_document);
}

}  // namespace

Result<json> AddProof(json document, Signer& signer, const std::string& did, const std::string& created) {
  DZONG_ASSIGN_OR_RETURN(std::string kid, signer.ActiveKeyId());
  json proof = {{"type", "DataIntegrityProof"},
                {"cryptosuite", "eddsa-jcs-2022"},
                {"created", created},
                {"verificationMethod", did + "#" + kid},
                {"proofPurpose", "assertionMethod"}};
  if (document.contains("@context")) proof["@context"] = document["@context"];
  document.erase("proof");
  DZONG_ASSIGN_OR_RETURN(std::string data, HashData(proof, document));
  DZONG_ASSIGN_OR_RETURN(Signature signature, signer.Sign(data));
  if (signature.kid != kid) {
    // A rotation between the two calls: name the key that signed.
    proof["verificationMethod"] = did + "#" + signature.kid;
    DZONG_ASSIGN_OR_RETURN(data, HashData(proof, document));
    DZONG_ASSIGN_OR_RETURN(signature, signer.Sign(data));
  }
  proof["proofValue"] = "z" + Base58BtcEncode(signature.bytes);
  document["proof"] = std::move(proof);
  return document;
}

bool CheckProof(const json& document, const std::vector<PublicKey>& keys) {
  if (!document.is_object() || !document.contains("proof") || !document["proof"].is_object()) return false;
  json proof = document["proof"];
  if (proof.value("type", "") != "DataIntegrityProof" || proof.value("cryptosuite", "") != "eddsa-jcs-2022") {
    return false;
  }
  const std::string value = proof.value("proofValue", "");
  if (!value.starts_with('z')) return false;
  auto signature = Base58BtcDecode(std::string_view(value).substr(1));
  if (!signature || signature->size() != 64) return false;
  proof.erase("proofValue");
  json unsecured = document;
  unsecured.erase("proof");
  if (proof.contains("@context") && unsecured.value("@context", json()) != proof["@context"]) return false;
  const std::string method = proof.value("verificationMethod", "");
  const auto hash = method.find('#');
  if (hash == std::string::npos) return false;
  auto data = HashData(proof, unsecured);
  if (!data.ok()) return false;
  return CheckSignature(keys, {method.substr(hash + 1), *signature}, *data, proof.value("created", "")) ==
         SignatureCheck::kValid;
}

// --- the status list's bitstring (W3C Bitstring Status List v1.0) -----------

std::string EncodeBits(const std::string& bits) {
  // GZIP (RFC 1952) then multibase base64url ("u").
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, bits.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bits.data()));
  z.avail_in = static_cast<uInt>(bits.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return "u" + Base64UrlEncode(out);
}

std::optional<std::string> DecodeBits(const std::string& encoded) {
  if (!encoded.starts_with('u')) return std::nullopt;
  auto gz = Base64UrlDecode(std::string_view(encoded).substr(1));
  if (!gz) return std::nullopt;
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return std::nullopt;
  std::string out(kListBits / 8, '\0');
  z.next_in = reinterpret_cast<Bytef*>(gz->data());
  z.avail_in = static_cast<uInt>(gz->size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const bool whole = rc == Z_STREAM_END && z.total_out == out.size();
  inflateEnd(&z);
  if (!whole) return std::nullopt;
  return out;
}

bool BitAt(const std::string& bits, std::int64_t index) {
  // Index 0 is the first byte's most significant bit.
  if (index < 0 || static_cast<std::size_t>(index / 8) >= bits.size()) return false;
  return (static_cast<unsigned char>(bits[static_cast<std::size_t>(index / 8)]) >> (7 - index % 8)) & 1;
}

void SetBit(std::string& bits, std::int64_t index) {
  if (index < 0 || static_cast<std::size_t>(index / 8) >= bits.size()) return;
  bits[static_cast<std::size_t>(index / 8)] =
      static_cast<char>(static_cast<unsigned char>(bits[static_cast<std::size_t>(index / 8)]) | (0x80 >> (index % 8)));
}

std::int64_t ListNumber(const std::string& list_url) {
  const auto slash = list_url.rfind('/');
  if (slash == std::string::npos) return 0;
  try {
    return std::stoll(list_url.substr(slash + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace dzong::certificates
