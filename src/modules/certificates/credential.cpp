// The W3C side of certificates: a certificate as a Verifiable Credential
// (Data Model 2.0), the status lists that say which are revoked, and the
// platform's did:web document that names the keys their proofs use.
#include <fmt/format.h>

#include "base/crypto.h"
#include "modules/certificates/certificates.h"
#include "modules/certificates/internal.h"
#include "modules/keys/keys.h"
#include "modules/organisations/organisations.h"
#include "modules/services/services.h"

namespace dzong::certificates {

using nlohmann::json;

namespace {

constexpr char kCredentialsContext[] = "https://www.w3.org/ns/credentials/v2";

/// Multikey form of an Ed25519 public key: multicodec 0xed01, base58btc.
std::string Multikey(const std::string& raw) {
  std::string prefixed("\xed\x01", 2);
  prefixed.append(raw);
  std::string out = "z";
  out.append(Base58BtcEncode(prefixed));
  return out;
}

}  // namespace

Result<json> CertificateService::Credential(const Certificate& certificate) {
  DZONG_ASSIGN_OR_RETURN(std::vector<Field> fields, FieldsOf(certificate));
  json issuer = {{"id", Did()}};
  if (auto o = organisations_.Get(certificate.issuer); o.ok()) issuer["name"] = o->name_en;
  json subject = {{"id", "urn:dzong:cid:" + certificate.holder},
                  {"certificate", certificate.id},
                  {"template", certificate.template_id},
                  {"templateVersion", certificate.service_version},
                  {"application", certificate.application_reference}};
  json shown = json::object();
  for (const Field& f : fields) shown[f.id] = f.value;
  subject["fields"] = std::move(shown);
  const std::string list_url = fmt::format("{}/status/{}", settings_.site_url, certificate.status_list);
  json vc = {{"@context", json::array({kCredentialsContext})},
             {"id", VerifyUrl(certificate.id)},
             {"type", json::array({"VerifiableCredential", "DzongCertificate"})},
             {"issuer", std::move(issuer)},
             {"validFrom", certificate.issued_at.substr(0, 19) + "Z"},
             {"credentialSubject", std::move(subject)},
             {"credentialStatus",
              {{"id", fmt::format("{}#{}", list_url, certificate.status_index)},
               {"type", "BitstringStatusListEntry"},
               {"statusPurpose", "revocation"},
               {"statusListIndex", std::to_string(certificate.status_index)},
               {"statusListCredential", list_url}}}};
  if (certificate.expires_at) vc["validUntil"] = certificate.expires_at->substr(0, 19) + "Z";
  DZONG_ASSIGN_OR_RETURN(services::Version version,
                         services_.GetVersion(certificate.service, certificate.service_version));
  const json title = version.definition.value("certificate", json::object()).value("title", json::object());
  if (title.contains("en")) vc["name"] = title["en"];
  return AddProof(std::move(vc), keys_, Did(), FormatUtc(clock_.Now()).substr(0, 19) + "Z");
}

Result<json> CertificateService::StatusList(std::int64_t n) {
  if (n < 1) return Error(errc::kNotFound, fmt::format("there is no status list {}", n));
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([n](db::Connection& c) {
    const db::Value key[] = {n};
    return c.Query("SELECT status_index FROM certificates WHERE status_list = ? AND status = 'revoked'", key);
  }));
  std::string bits(kListBits / 8, '\0');
  for (const auto& r : rows) SetBit(bits, r.Int(0));
  const std::string list_url = fmt::format("{}/status/{}", settings_.site_url, n);
  const auto now = clock_.Now();
  json list = {{"@context", json::array({kCredentialsContext})},
               {"id", list_url},
               {"type", json::array({"VerifiableCredential", "BitstringStatusListCredential"})},
               {"issuer", Did()},
               {"validFrom", FormatUtc(now).substr(0, 19) + "Z"},
               {"validUntil", FormatUtc(now + std::chrono::hours(24)).substr(0, 19) + "Z"},
               {"credentialSubject",
                {{"id", list_url + "#list"},
                 {"type", "BitstringStatusList"},
                 {"statusPurpose", "revocation"},
                 {"encodedList", EncodeBits(bits)}}}};
  return AddProof(std::move(list), keys_, Did(), FormatUtc(now).substr(0, 19) + "Z");
}

Result<json> CertificateService::DidDocument() {
  DZONG_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, keys_.Published());
  const std::string did = Did();
  json methods = json::array();
  json assertion = json::array();
  for (const PublicKey& key : keys) {
    // Retired keys stay listed: what they signed in their period still verifies.
    methods.push_back({{"id", did + "#" + key.kid},
                       {"type", "Multikey"},
                       {"controller", did},
                       {"publicKeyMultibase", Multikey(key.key)}});
    assertion.push_back(did + "#" + key.kid);
  }
  return json{{"@context", json::array({"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"})},
              {"id", did},
              {"verificationMethod", std::move(methods)},
              {"assertionMethod", std::move(assertion)}};
}

}  // namespace dzong::certificates
