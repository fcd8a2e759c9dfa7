#pragma once
// The form runner: a citizen applies for a published service one page at a
// time, with answers pre-filled from the registers (with their consent and
// under the owner's data-sharing agreement), saves and resumes drafts that
// expire, uploads documents checked by their content and stored by their
// SHA-256, checks the answers and submits an application. A draft and its
// application keep the service version the draft was started on.

#include <chrono>
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
#include "db/database.h"
#include "http/message.h"
#include "modules/audit/audit.h"

namespace dzong::http {
class Router;
}
namespace dzong::web {
class Web;
}
namespace dzong::services {
class ServiceCatalogue;
struct Version;
}  // namespace dzong::services
namespace dzong::registries {
class RegistryService;
}
namespace dzong::exchange {
class ExchangeService;
}
namespace dzong::organisations {
class OrganisationService;
}
namespace dzong::identity {
class IdentityService;
}

namespace dzong::forms {

namespace errc {
inline constexpr char kDraftNotFound[] = "forms.draft_not_found";
inline constexpr char kDraftExpired[] = "forms.draft_expired";
inline constexpr char kPageNotFound[] = "forms.page_not_found";
inline constexpr char kIncomplete[] = "forms.incomplete";
inline constexpr char kFileNotFound[] = "forms.file_not_found";
inline constexpr char kIdempotencyConflict[] = "forms.idempotency_conflict";
inline constexpr char kCitizenNotFound[] = "forms.citizen_not_found";
inline constexpr char kCodeNotFound[] = "forms.consent_code_not_found";
inline constexpr char kCodeExpired[] = "forms.consent_code_expired";
inline constexpr char kCodeUsed[] = "forms.consent_code_used";
}  // namespace errc

/// Who works on a draft: the citizen applying for themselves, or the
/// community-centre operator who started it on a citizen's behalf. Only
/// that operator may open an assisted draft; the citizen's own pages never
/// show it while it is unfinished.
struct Holder {
  std::string id;          ///< the citizen's CID, or the operator's username
  bool assisting = false;  ///< an operator working on a citizen's behalf
  /// A CID alone is the citizen themselves, as the citizen's pages ask.
  Holder(std::string cid) : id(std::move(cid)) {}  // NOLINT(google-explicit-constructor)
  static Holder Operator(std::string username) {
    Holder h(std::move(username));
    h.assisting = true;
    return h;
  }
};

/// A person as an operator finds them in the population register.
struct Citizen {
  std::string cid;
  std::string given_name;
  std::string surname;
  std::string dzongkhag;
  std::string gewog;
};

/// The purpose an operator's steps are recorded with: "assisted:service:<code>",
/// or "assisted" before a service is chosen.
std::string AssistedPurpose(const std::string& service);

/// How a community-centre operator recorded a citizen's consent to
/// pre-fill, with its evidence.
struct Assistance {
  std::string assisted_by;  ///< the operator's username
  std::string centre;       ///< the operator's organisation
  std::string method;       ///< paper, sms, refused
  std::string evidence;     ///< paper: the scan's SHA-256; sms: "code <id> to <mobile>"; refused: empty
};

/// Where a pre-filled answer came from.
struct Source {
  std::string registry;
  std::string field;
  std::string key;         ///< the record's key
  std::string subject;     ///< the person the record is about
  std::string valid_from;  ///< when the register last changed the record (UTC)
  std::string custodian;
};

/// An application in the making.
struct Draft {
  std::int64_t id = 0;
  std::string service;
  std::int64_t version = 0;  ///< the service version it was started on, for good
  std::string applicant;     ///< CID
  bool consent = false;      ///< the applicant agreed to pre-fill from their records
  nlohmann::json answers = nlohmann::json::object();    ///< field id → answer
  nlohmann::json prefilled = nlohmann::json::object();  ///< field id → {value, registry, field, key, subject, valid_from, custodian}
  std::vector<std::string> pages_done;                  ///< pages answered and saved
  std::string created_at;
  std::string updated_at;
  std::string expires_at;  ///< UTC
  /// Set when an operator started it for the applicant (assisted digital).
  std::optional<Assistance> assisted;
};

struct Application {
  std::int64_t id = 0;
  std::string reference;  ///< OWNER-YEAR-SEQUENCE, e.g. DCRC-2026-000001
  std::string service;
  std::int64_t version = 0;
  std::string owner;
  std::string applicant;
  std::string channel;  ///< web, community_centre
  nlohmann::json answers;
  std::string state;  ///< the workflow's state; the initial one on submission
  std::string submitted_at;
  std::int64_t draft_id = 0;
  /// Who sent it when not the applicant: the community-centre operator's
  /// username, and their organisation (the centre).
  std::optional<std::string> submitted_by;
  std::optional<std::string> submitted_centre;
  std::optional<std::string> consent_method;  ///< assisted: paper, sms, refused
};

/// A stored upload's row: the bytes live at <data_dir>/uploads/<aa>/<sha256>.
struct StoredFile {
  std::string sha256;
  std::int64_t size = 0;
  std::string media_type;  ///< sniffed from the bytes
  std::string original_name;
  std::string uploaded_by;
  std::string uploaded_at;
};

/// A stored file as a download: its sniffed type (PDF, JPEG or PNG, never
/// one a browser runs), its name as given, sandboxed, never cached.
http::Response FileDownload(const StoredFile& file, std::string bytes);

/// A field the start page asks consent for: the register it reads, and
/// whether it can be read (the owner keeps the register, or has an
/// approved agreement covering the field now).
struct PrefillSource {
  std::string field;  ///< the form field
  std::string registry;
  std::string registry_field;
  std::string custodian;
  bool allowed = false;
  std::optional<std::int64_t> agreement;  ///< when the owner is not the custodian
};

class FormService {
 public:
  FormService(db::Database& db, const Clock& clock, services::ServiceCatalogue& catalogue,
              registries::RegistryService& registries, exchange::ExchangeService& exchange, std::string data_dir,
              std::chrono::seconds draft_lifetime);

  /// The fields of a version that are pre-filled, and whether each may be.
  Result<std::vector<PrefillSource>> PrefillSources(const nlohmann::json& definition);
  /// Starts a draft on the service's current published version; with
  /// `consent`, pre-fills what can be, recording each read and, where an
  /// agreement is involved, a consent artefact. Errors: services.not_found.
  /// With `assisted`, an operator starts it on the applicant's behalf
  /// (consent as the assistance records it; a scan in `scan` is stored with
  /// the draft; a one-time code `code_id` is used up by it).
  Result<Draft> Start(const std::string& code, const std::string& applicant, bool consent, const audit::Actor& actor,
                      const std::optional<Assistance>& assisted = std::nullopt,
                      const std::optional<std::pair<StoredFile, std::string>>& scan = std::nullopt,
                      std::optional<std::int64_t> code_id = std::nullopt);
  /// The holder's draft. Errors: forms.draft_not_found (someone else's
  /// too), forms.draft_expired (and it is removed).
  Result<Draft> Get(std::int64_t id, const Holder& holder);
  /// The applicant's drafts that have not expired (the expired are removed).
  Result<std::vector<Draft>> Drafts(const std::string& applicant);
  /// The version a draft keeps.
  Result<services::Version> VersionOf(const Draft& draft);
  /// Saves a page's answers (already checked), with its new files: the
  /// answers of fields that no longer show are dropped, and pre-fills that
  /// depend on the new answers are read. Errors: forms.draft_not_found,
  /// forms.draft_expired, forms.page_not_found.
  Result<Draft> SavePage(std::int64_t id, const Holder& holder, const std::string& page,
                         const nlohmann::json& answers, const std::vector<StoredFile>& files,
                         const std::vector<std::string>& bodies, const audit::Actor& actor);
  /// Submits: the application on the draft's version, in the workflow's
  /// initial state, and the draft removed, in one transaction. A draft
  /// already submitted gives its application. Errors: forms.draft_not_found,
  /// forms.draft_expired, forms.incomplete (a page still to answer).
  /// An operator's draft is sent with channel community_centre, names them
  /// as its sender, and tells the applicant in the notification outbox.
  Result<Application> Submit(std::int64_t id, const Holder& holder, const audit::Actor& actor);
  /// The application made from a draft (for an operator: one they sent).
  /// Errors: forms.draft_not_found.
  Result<Application> SubmittedFrom(std::int64_t draft_id, const Holder& holder);
  /// A file `uploaded_by` uploaded, with its bytes. Errors: forms.file_not_found.
  Result<std::pair<StoredFile, std::string>> ReadFile(const std::string& sha256, const std::string& uploaded_by);

  /// The applications a citizen made, or that were made for them, newest first.
  Result<std::vector<Application>> ApplicationsOf(const std::string& applicant);
  /// The applications an operator sent on citizens' behalf, newest first.
  Result<std::vector<Application>> SubmittedByOperator(const std::string& username);
  /// The operator's unfinished drafts for citizens, newest first.
  Result<std::vector<Draft>> AssistedDrafts(const std::string& username);

  /// A person in the population register, for an operator about to apply
  /// on their behalf; the read is recorded with them as its subject and the
  /// assisted application as its purpose. Errors: request.invalid (cid:
  /// its shape), forms.citizen_not_found.
  /// `action` names the step (assist.citizen_search, assist.citizen_read)
  /// and `status` the answer its call is recorded with.
  Result<Citizen> FindCitizen(const std::string& cid, const audit::Actor& actor, const std::string& action, int status);
  /// Stores an operator's scan of the consent the citizen signed on paper
  /// and starts the draft with it. Errors: request.invalid (scan: missing,
  /// too large, not a PDF, JPEG or PNG), services.not_found.
  Result<Draft> StartWithScan(const std::string& citizen, const std::string& service, const std::string& filename,
                              std::string bytes, const audit::Actor& actor);
  /// Sends a citizen a one-time code by SMS (through the notification
  /// outbox) for consent to an assisted application of `service`. Returns
  /// the code's id. Errors: request.invalid (mobile), services.not_found.
  Result<std::int64_t> SendConsentCode(const std::string& citizen, const std::string& service, const std::string& mobile,
                                       const audit::Actor& actor);
  /// Checks the code the citizen read out; the right one starts the draft
  /// with consent by SMS. A wrong code counts an attempt and records
  /// nothing else. Errors: request.invalid (code: wrong, format,
  /// too_many_attempts), forms.consent_code_not_found,
  /// forms.consent_code_expired, forms.consent_code_used.
  Result<Draft> CheckConsentCode(std::int64_t code_id, const std::string& code, const audit::Actor& actor);
  /// The code's citizen, service and the mobile it went to (masked is the
  /// caller's business), if the operator sent it.
  struct ConsentCode {
    std::int64_t id = 0;
    std::string citizen, service, mobile, expires_at;
    std::int64_t attempts = 0;
    bool used = false;
  };
  Result<ConsentCode> GetConsentCode(std::int64_t code_id, const std::string& operator_username);
    /// Applies in one call (the API channel): starts a draft on the current
  /// version, checks and saves each page that shows with `answers` (field
  /// id → answer, as the form stores them), and submits. The same
  /// `idempotency_key` and request again give the application the first
  /// made; the key with another request is refused. Bad answers are named
  /// as answers.<field> with their rule, and the draft is removed. Files
  /// cannot be sent this way. Errors: request.invalid, services.not_found.
  Result<Application> SubmitAnswers(const std::string& code, const std::string& applicant, bool consent,
                                    const nlohmann::json& answers, const std::string& idempotency_key,
                                    const audit::Actor& actor);
  /// A stored file by its hash, whoever uploaded it: for the officers of an
  /// application that names it (the caller checks that it does).
  /// Errors: forms.file_not_found.
  Result<std::pair<StoredFile, std::string>> ReadAttachment(const std::string& sha256);
  /// The fields of `registry` that `owner` may read about `subject` now for
  /// `purpose` ("service:<code>"): every field when it keeps the register,
  /// else those of its approved agreements in force for that purpose (on
  /// the subject's consent, while the consent holds). Errors: registries.not_found.
  Result<std::vector<std::string>> ReadableFields(const std::string& owner, const std::string& registry,
                                                  const std::string& purpose, const std::string& subject);

  /// The pages of a draft that still need an answer, in order.
  std::vector<std::string> PagesToDo(const Draft& draft, const nlohmann::json& definition) const;
  std::chrono::seconds draft_lifetime() const { return draft_lifetime_; }

  /// Runs inside the transaction that creates an application (the
  /// workflow's start: fee, SLA clock, first actions, notices); an error
  /// rolls the submission back.
  using OnSubmit = std::function<Status(db::Connection&, const Application&, const nlohmann::json& definition,
                                        const audit::Actor&)>;
  void SetOnSubmit(OnSubmit hook) { on_submit_ = std::move(hook); }

 private:
  /// The operator's record of the citizen's consent, in the draft's
  /// transaction: the scan's upload row, the code used up, the audit event.
  Status RecordAssistedConsent(db::Connection& c, const Draft& d, const Assistance& a,
                               const std::optional<std::pair<StoredFile, std::string>>& scan,
                               std::optional<std::int64_t> code_id, const audit::Actor& actor);
  /// Tells the applicant that an operator sent an application for them.
  Status NotifySubmittedForYou(db::Connection& c, const Application& a, const nlohmann::json& definition);
  Result<std::vector<Application>> ApplicationsWhere(const std::string& condition, const std::string& value);
  Result<std::vector<Draft>> DraftsWhere(const std::string& condition, const std::string& value);
  Status Prefill(Draft& draft, const services::Version& version, std::vector<audit::Event>& reads,
                 const audit::Actor& actor);
  Status StoreBytes(const std::string& sha256, const std::string& bytes);
  /// A new draft of the service's published version (`version`), not yet
  /// stored: with consent, the consents given and the answers prefilled,
  /// the registry reads to record added to `reads`.
  Result<Draft> NewDraft(const std::string& code, const std::string& applicant, bool consent, const audit::Actor& actor,
                         const std::optional<Assistance>& assisted, services::Version& version,
                         std::vector<audit::Event>& reads);
  /// A page's answers put into the draft (not stored): the pages done
  /// follow what now shows and is answered.
  Status ApplyPage(Draft& d, const services::Version& version, const nlohmann::json& page,
                   const nlohmann::json& page_answers, std::vector<audit::Event>& reads, const audit::Actor& actor);
  struct Channel;
  /// The application a complete draft makes, before it has a reference.
  Application ApplicationFrom(const Draft& d, const services::Version& version, const Holder& holder,
                              const Channel& channel, std::chrono::system_clock::time_point now) const;
  /// Writes the application in the caller's transaction: its reference,
  /// row, audit event, the workflow's start and the idempotency key.
  Status RecordApplication(db::Connection& c, Application& a, const Draft& d, const services::Version& version,
                           const Channel& channel, const audit::Actor& actor,
                           std::chrono::system_clock::time_point now);
  struct Channel {
    std::string name = "web";
    std::string idempotency_key;
    std::string request_hash;
  };
  Result<Application> SubmitVia(std::int64_t id, const Holder& holder, const audit::Actor& actor,
                                const Channel& channel);
  /// The application an earlier request with this key made; an error when
  /// the key came with another request.
  Result<std::optional<Application>> Replayed(const std::string& applicant, const std::string& key,
                                              const std::string& hash);
  Result<std::pair<StoredFile, std::string>> ReadStored(const std::string& sha256,
                                                        const std::optional<std::string>& uploader);

  db::Database& db_;
  const Clock& clock_;
  services::ServiceCatalogue& catalogue_;
  registries::RegistryService& registries_;
  exchange::ExchangeService& exchange_;
  std::string data_dir_;
  std::chrono::seconds draft_lifetime_;
  OnSubmit on_submit_;
};

/// The citizen's pages: /services/{code}/apply, /my/drafts and each
/// draft's pages, check answers, submission and files.
Status AddPages(http::Router& router, FormService& forms, services::ServiceCatalogue& catalogue,
                registries::RegistryService& registries, organisations::OrganisationService& organisations,
                web::Web& web);

/// POST /api/v1/services/{code}/applications: a citizen applies in one call.
Status AddRoutes(http::Router& router, FormService& forms);
/// The community-centre operator's pages (assisted digital): /assist to
/// find a citizen, choose a service and record consent, the form runner's
/// pages under /assist/drafts, and /assist/applications.
Status AddAssistPages(http::Router& router, FormService& forms, services::ServiceCatalogue& catalogue,
                      registries::RegistryService& registries, organisations::OrganisationService& organisations,
                      identity::IdentityService& identity, web::Web& web);

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::forms
