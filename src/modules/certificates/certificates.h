#pragma once
// Certificates: what an approved application gives its holder, signed so
// that anyone can check it without paper and, with a saved copy of the
// published keys, without the network.
//
// What is signed is the certificate's payload in RFC 8785 canonical JSON
// (the issuer, the template and its version, the holder, the dates and the
// fields the template shows), with Ed25519 under the platform's key. The
// same signature travels in the QR code of the PDF as a compact payload
// ("DZ1.<payload>.<kid>.<signature>", base64url), is checked by the public
// verification page, by GET /verify/{id} and by `dzong verify`. A W3C
// Verifiable Credential (Data Model 2.0, eddsa-jcs-2022) of the same
// certificate is signed when it is downloaded; revocation is published as
// a signed W3C Bitstring Status List.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/embedded.h"
#include "base/result.h"
#include "base/signing.h"
#include "db/database.h"
#include "modules/audit/audit.h"
#include "render/pdf.h"

namespace dzong::http {
class Router;
}
namespace dzong::web {
class Web;
}
namespace dzong::keys {
class KeyRing;
}
namespace dzong::organisations {
class OrganisationService;
}
namespace dzong::services {
class ServiceCatalogue;
}

namespace dzong::certificates {

namespace errc {
inline constexpr char kNotFound[] = "certificates.not_found";
inline constexpr char kNoTemplate[] = "certificates.no_template";
inline constexpr char kAlreadyRevoked[] = "certificates.already_revoked";
inline constexpr char kNotAllowed[] = "certificates.not_allowed";
/// A compact payload or PDF that carries no certificate.
inline constexpr char kMalformed[] = "certificates.malformed";
}  // namespace errc

/// What a verifier learns. kForged: the signature does not hold, or the
/// certificate's text differs from what was issued; kUnknownKey: no
/// published key has this id (or it was not valid when the certificate
/// was issued); kNotFound: no certificate has this id.
enum class Verdict { kValid, kRevoked, kExpired, kForged, kUnknownKey, kNotFound };
std::string_view VerdictName(Verdict verdict);

/// One field as the template shows it.
struct Field {
  std::string id;
  std::string label_en;
  std::string label_dz;
  std::string value;
  bool is_public = false;
  std::string block = "main";  ///< main or details
};

struct Certificate {
  std::string id;
  std::int64_t application_id = 0;
  std::string application_reference;
  std::string service;
  std::int64_t service_version = 0;
  std::string template_id;
  std::string issuer;
  std::string holder;
  std::string payload;  ///< canonical JSON, as signed
  std::string issued_at;
  std::optional<std::string> expires_at;
  Signature signature;
  std::int64_t status_list = 1;
  std::int64_t status_index = 0;
  std::string status;  ///< valid or revoked (expiry is read from expires_at)
  std::optional<std::string> revoked_at;
  std::optional<std::string> revoked_by;
  std::optional<std::string> revocation_reason;

  /// valid, revoked or expired at `now` (UTC text).
  std::string StatusAt(const std::string& now) const;
  /// The payload's "f": field id to the value shown.
  nlohmann::json Fields() const;
};

/// The certificate's signed payload with its signature, as the QR code and
/// `dzong verify` carry it: "DZ1." base64url(payload) "." kid "." base64url(signature).
std::string CompactPayload(const Certificate& certificate);

/// Signs claims (an object with at least "id" and "iat", the time of
/// signing) the way certificates are signed, and returns the compact
/// payload. Used for payment receipts, which `dzong verify` checks alike.
Result<std::string> SignClaims(Signer& signer, const nlohmann::json& claims);

/// What an offline check of a compact payload found.
struct OfflineCheck {
  Verdict verdict = Verdict::kForged;
  nlohmann::json payload;  ///< the claims, when they could be read
  std::string kid;
  std::string detail;      ///< a sentence for the person checking
};

/// Checks a compact payload (or a verification URL ending in "#DZ1.…")
/// against published keys, at `now`; with a status list (a saved copy of
/// /status/{n}, whose own proof is checked), revocation too.
/// Errors: certificates.malformed.
Result<OfflineCheck> VerifyOffline(std::string_view text, const std::vector<PublicKey>& keys, const std::string& now,
                                   const nlohmann::json* status_list = nullptr);

/// Finds the compact payload a Dzong certificate PDF carries in its
/// metadata. Errors: certificates.malformed.
Result<std::string> PayloadFromPdf(std::string_view pdf);

/// The platform's did:web identifier for `site_url` ("https://host:port" →
/// "did:web:host%3Aport").
std::string DidFor(const std::string& site_url);

/// Data Integrity proof (cryptosuite eddsa-jcs-2022) over `document`, which
/// is returned with the proof added; `method` is the verification method.
Result<nlohmann::json> AddProof(nlohmann::json document, Signer& signer, const std::string& did,
                                const std::string& created);
/// Checks a document's eddsa-jcs-2022 proof against `keys` (the method's
/// fragment is the key id). True when it holds.
bool CheckProof(const nlohmann::json& document, const std::vector<PublicKey>& keys);

/// A catalogue text in English (`dzongkha` false) or Dzongkha.
using Labels = std::function<std::string(const std::string& key, bool dzongkha)>;

/// The certificate's A4 page: the agency and the template's title, the
/// template's statement and fields by block, and the QR code with the
/// certificate's number and dates beside it. `tmpl` is the service
/// definition's "certificate" block; the PDF's metadata carry the title,
/// the agency, the language and the compact payload.
render::Document Layout(const Certificate& certificate, const nlohmann::json& tmpl, const std::string& issuer_en,
                        const std::string& issuer_dz, const std::vector<Field>& fields, const std::string& site_url,
                        const Labels& labels);

struct Settings {
  std::string site_url;  ///< "https://services.gov.bt": verification links, the did:web
};

class CertificateService {
 public:
  CertificateService(db::Database& db, const Clock& clock, keys::KeyRing& keys, services::ServiceCatalogue& services,
                     organisations::OrganisationService& organisations, Settings settings);

  /// Issues the certificate of an application inside the workflow's
  /// transaction: the fields the service's template names, signed, stored,
  /// audited, and the holder notified. Returns the certificate's id.
  /// Errors: certificates.no_template (the service has no certificate block).
  Result<std::string> Issue(db::Connection& c, std::int64_t application_id, const std::string& now);

  Result<Certificate> Get(const std::string& id);
  /// The holder's certificates, newest first.
  Result<std::vector<Certificate>> ForHolder(const std::string& cid);
  /// The certificates an organisation issued, newest first (at most 200).
  Result<std::vector<Certificate>> IssuedBy(const std::string& organisation);

  /// The template's title and the issuing agency's name, in both languages.
  struct Names {
    std::string title_en, title_dz, issuer_en, issuer_dz;
  };
  Names NamesOf(const Certificate& certificate);
  /// The fields of the certificate as its template shows them.
  Result<std::vector<Field>> FieldsOf(const Certificate& certificate);

  /// What anyone checking the certificate online learns. A certificate
  /// whose stored signature no longer holds is forged.
  struct Check {
    Verdict verdict = Verdict::kNotFound;
    std::optional<Certificate> certificate;
  };
  Result<Check> Verify(const std::string& id);
  /// A compact payload (e.g. scanned from the QR code) checked against the
  /// published keys and against the record: any difference is forged.
  Result<Check> VerifyPayload(std::string_view text);

  /// Revokes with a reason, by an officer of the issuing organisation; the
  /// holder is told. Errors: certificates.not_found, certificates.not_allowed,
  /// certificates.already_revoked, validation (reason: required, max_length).
  Result<Certificate> Revoke(const std::string& id, const std::string& reason, const audit::Actor& actor);

  using Labels = certificates::Labels;
  /// The bilingual A4 PDF with its QR code (the verification link and the
  /// compact payload) and the compact payload in its metadata.
  Result<std::string> Pdf(const Certificate& certificate, const Labels& labels);
  /// The certificate as a W3C Verifiable Credential with a fresh proof.
  Result<nlohmann::json> Credential(const Certificate& certificate);
  /// The signed Bitstring Status List credential of list `n`.
  Result<nlohmann::json> StatusList(std::int64_t n);
  /// The platform's DID document: every published key as a Multikey.
  Result<nlohmann::json> DidDocument();

  const Settings& settings() const { return settings_; }
  /// Once the server listens: its own address, when no site URL was configured.
  void SetSiteUrl(std::string site_url) { settings_.site_url = std::move(site_url); }
  std::string Did() const { return DidFor(settings_.site_url); }
  std::string VerifyUrl(const std::string& id) const;

 private:
  db::Database& db_;
  const Clock& clock_;
  keys::KeyRing& keys_;
  services::ServiceCatalogue& services_;
  organisations::OrganisationService& organisations_;
  Settings settings_;
};

/// The public verification pages and JSON, the holder's documents, the
/// officers' revocation, the DID document and the status lists.
Status AddRoutes(http::Router& router, CertificateService& certificates, web::Web& web);

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::certificates
