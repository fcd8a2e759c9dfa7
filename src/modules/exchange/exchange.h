#pragma once
// The exchange between agencies: data-sharing agreements that the
// custodian decides, and signed reads of registry records under them. Data
// stays with its custodian; every read names its purpose and its person,
// and is recorded in the audit log, so the citizen sees it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_set>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/embedded.h"
#include "base/result.h"
#include "base/signing.h"
#include "db/database.h"
#include "modules/audit/audit.h"

namespace dzong::http {
class Router;
}
namespace dzong::registries {
class RegistryService;
}
namespace dzong::organisations {
class OrganisationService;
}
namespace dzong::web {
class Web;
}

namespace dzong::exchange {

namespace errc {
inline constexpr char kAgreementNotFound[] = "exchange.agreement_not_found";
inline constexpr char kNoAgreement[] = "exchange.no_agreement";
inline constexpr char kAgreementExpired[] = "exchange.agreement_expired";
inline constexpr char kAgreementRevoked[] = "exchange.agreement_revoked";
inline constexpr char kWrongPurpose[] = "exchange.wrong_purpose";
inline constexpr char kNotSigned[] = "exchange.not_signed";
inline constexpr char kReplayed[] = "exchange.replayed";
inline constexpr char kNotCustodian[] = "exchange.not_custodian";
inline constexpr char kNotConsumer[] = "exchange.not_consumer";
inline constexpr char kAlreadyDecided[] = "exchange.already_decided";
inline constexpr char kNoConsent[] = "exchange.no_consent";
inline constexpr char kConsentNotFound[] = "exchange.consent_not_found";
}  // namespace errc

struct Agreement {
  std::int64_t id = 0;
  std::string consumer;   ///< organisation code
  std::string subsystem;  ///< the consumer's system, BT/GOV/<ORG>/<SUBSYSTEM>
  std::string registry;
  std::vector<std::string> fields;
  std::string purpose_code;
  std::string purpose_text;
  std::string legal_basis;  ///< law, consent, public_task
  std::string legal_reference;
  std::string valid_from;  ///< UTC
  std::string valid_to;    ///< UTC, exclusive
  std::string status;      ///< requested, approved, refused, revoked
  std::string requested_by;
  std::string requested_at;
  std::optional<std::string> decided_by;
  std::optional<std::string> decided_at;
  std::optional<std::string> decision_note;
  std::string custodian;  ///< the registry's custodian
  bool log_bodies = false;  ///< the message log keeps each answer's body, not only its metadata
};

/// A citizen's consent, as given: the artefact is the signed JSON text.
struct Consent {
  std::int64_t id = 0;
  std::string subject;  ///< the citizen's CID
  std::string consumer;
  std::string registry;
  std::string purpose_code;
  std::vector<std::string> fields;
  std::string valid_from;
  std::string valid_to;
  std::string artefact;   ///< canonical JSON of the above, as signed
  std::string kid;
  std::string signature;  ///< base64url Ed25519 over the artefact
  std::string given_at;
  std::optional<std::string> revoked_at;
  std::string Status(const std::string& now) const {
    if (revoked_at) return "revoked";
    return now >= valid_to ? "expired" : "active";
  }
};

/// One answered exchange read, as the message log keeps it.
struct Message {
  std::int64_t seq = 0;
  std::string at;
  std::string client;  ///< the consumer's subsystem
  std::string consumer;
  std::string registry;
  std::string record_key;
  std::string purpose;  ///< with the case number, when the request named one
  std::int64_t agreement_id = 0;
  std::string request_id;
  std::string nonce;
  std::string request_signature;  ///< the request's Signature header
  std::string response_digest;    ///< Content-Digest of the answer
  std::string response_signature;
  int status = 200;
  std::optional<std::string> body;  ///< when the agreement asks for bodies
  std::string prev_hash;
  std::string hash;
};

/// The bytes a message's hash covers.
std::string MessageCanonical(const Message& m);
/// In the caller's transaction: appends the message to the chain.
Status RecordMessage(db::Connection& c, Message m, const Clock& clock);

/// The nonces of the signed requests answered within a signature's
/// lifetime (a signature's `created` may be five minutes either side of
/// now, so a nonce can come back at most ten minutes after it was first
/// seen). Kept in memory and rebuilt from the message log at start.
class NonceRegister {
 public:
  /// False when `client` already used `nonce`.
  bool Claim(const std::string& client, const std::string& nonce, std::chrono::system_clock::time_point now);
  void Release(const std::string& client, const std::string& nonce);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_set<std::string> seen_;
  std::deque<std::pair<std::chrono::system_clock::time_point, std::string>> order_;
};

struct MessageFilter {
  std::string client;  ///< one system's messages; all when empty
  std::int64_t limit = 100;
};
/// The newest messages first.
Result<std::vector<Message>> Messages(db::Database& db, const MessageFilter& filter);

struct MessageLogReport {
  std::int64_t messages = 0;
  std::optional<std::int64_t> broken_at;
  std::string detail;
};
/// Recomputes the message chain: the first message that does not hold.
Result<MessageLogReport> VerifyMessageLog(db::Database& db);

class ExchangeService {
 public:
  ExchangeService(db::Database& db, const Clock& clock, registries::RegistryService& registries, Signer& signer);

  /// A consumer organisation asks for access. Errors: request.invalid (each
  /// field and rule), registries.not_found.
  Result<Agreement> Request(Agreement input, const audit::Actor& actor);
  /// The custodian approves, refuses or revokes. Errors:
  /// exchange.agreement_not_found, exchange.not_custodian, exchange.already_decided.
  Result<Agreement> Decide(std::int64_t id, const std::string& decision, const std::string& note,
                           const audit::Actor& actor);
  /// The agreements where `organisation` is the consumer or the custodian.
  Result<std::vector<Agreement>> ForOrganisation(const std::string& organisation);
  Result<Agreement> Get(std::int64_t id);

  /// The agreement that lets `subsystem` read `registry` for `purpose` now.
  /// Errors: exchange.no_agreement, exchange.agreement_expired,
  /// exchange.agreement_revoked, exchange.wrong_purpose.
  Result<Agreement> Authorise(const std::string& subsystem, const std::string& registry, const std::string& purpose);

  /// Records an answered read in the caller's transaction (RecordMessage),
  /// once its nonce is claimed. Errors: exchange.replayed when the client
  /// used the nonce before, and nothing is written.
  Status LogMessage(db::Connection& c, const Message& m);

  /// A citizen gives consent: a new artefact, signed by the platform.
  /// Errors: request.invalid (each field and rule).
  Result<Consent> GiveConsent(Consent input, const audit::Actor& actor);
  /// The citizen's consents, newest first.
  Result<std::vector<Consent>> Consents(const std::string& subject);
  /// Revokes one of the citizen's own consents; it stops the next request.
  /// Errors: exchange.consent_not_found.
  Result<Consent> RevokeConsent(const std::string& subject, std::int64_t id, const audit::Actor& actor);
  /// An active consent of `subject` covering this agreement's fields and
  /// purpose now. Errors: exchange.no_consent.
  Status RequireConsent(const Agreement& agreement, const std::string& subject);

 private:
  db::Database& db_;
  const Clock& clock_;
  registries::RegistryService& registries_;
  Signer& signer_;
  NonceRegister nonces_;
  std::once_flag nonces_loaded_;
  Status nonces_load_;
};

/// /api/v1/agreements (request, list, decide) and
/// GET /exchange/v1/registries/{code}/records/{key}, answered with a
/// response signed by the platform and bound to the request's signature.
Status AddRoutes(http::Router& router, ExchangeService& exchange, registries::RegistryService& registries,
                 Signer& signer);

/// The citizen's pages: /my/records and /my/consents.
Status AddPages(http::Router& router, ExchangeService& exchange, registries::RegistryService& registries,
                organisations::OrganisationService& organisations, web::Web& web);

/// The agency administrators' pages: /agreements, /agreements/new and
/// /agreements/{id} (the custodian decides there).
Status AddAgreementPages(http::Router& router, ExchangeService& exchange, registries::RegistryService& registries,
                         organisations::OrganisationService& organisations, web::Web& web);

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::exchange
