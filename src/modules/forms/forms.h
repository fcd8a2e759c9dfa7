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

namespace dzong::forms {

namespace errc {
inline constexpr char kDraftNotFound[] = "forms.draft_not_found";
inline constexpr char kDraftExpired[] = "forms.draft_expired";
inline constexpr char kPageNotFound[] = "forms.page_not_found";
inline constexpr char kIncomplete[] = "forms.incomplete";
inline constexpr char kFileNotFound[] = "forms.file_not_found";
inline constexpr char kIdempotencyConflict[] = "forms.idempotency_conflict";
}  // namespace errc

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
};

struct Application {
  std::int64_t id = 0;
  std::string reference;  ///< OWNER-YEAR-SEQUENCE, e.g. DCRC-2026-000001
  std::string service;
  std::int64_t version = 0;
  std::string owner;
  std::string applicant;
  std::string channel;  ///< web
  nlohmann::json answers;
  std::string state;  ///< the workflow's state; the initial one on submission
  std::string submitted_at;
  std::int64_t draft_id = 0;
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
  Result<Draft> Start(const std::string& code, const std::string& applicant, bool consent, const audit::Actor& actor);
  /// The applicant's draft. Errors: forms.draft_not_found (someone else's
  /// too), forms.draft_expired (and it is removed).
  Result<Draft> Get(std::int64_t id, const std::string& applicant);
  /// The applicant's drafts that have not expired (the expired are removed).
  Result<std::vector<Draft>> Drafts(const std::string& applicant);
  /// The version a draft keeps.
  Result<services::Version> VersionOf(const Draft& draft);
  /// Saves a page's answers (already checked), with its new files: the
  /// answers of fields that no longer show are dropped, and pre-fills that
  /// depend on the new answers are read. Errors: forms.draft_not_found,
  /// forms.draft_expired, forms.page_not_found.
  Result<Draft> SavePage(std::int64_t id, const std::string& applicant, const std::string& page,
                         const nlohmann::json& answers, const std::vector<StoredFile>& files,
                         const std::vector<std::string>& bodies, const audit::Actor& actor);
  /// Submits: the application on the draft's version, in the workflow's
  /// initial state, and the draft removed, in one transaction. A draft
  /// already submitted gives its application. Errors: forms.draft_not_found,
  /// forms.draft_expired, forms.incomplete (a page still to answer).
  Result<Application> Submit(std::int64_t id, const std::string& applicant, const audit::Actor& actor);
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
  /// The application made from a draft. Errors: forms.draft_not_found.
  Result<Application> SubmittedFrom(std::int64_t draft_id, const std::string& applicant);
  /// A file the applicant uploaded, with its bytes. Errors: forms.file_not_found.
  Result<std::pair<StoredFile, std::string>> ReadFile(const std::string& sha256, const std::string& applicant);
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
  Status Prefill(Draft& draft, const services::Version& version, std::vector<audit::Event>& reads,
                 const audit::Actor& actor);
  Status StoreBytes(const std::string& sha256, const std::string& bytes);
  struct Channel {
    std::string name = "web";
    std::string idempotency_key;
    std::string request_hash;
  };
  Result<Application> SubmitVia(std::int64_t id, const std::string& applicant, const audit::Actor& actor,
                                const Channel& channel);
  /// The application an earlier request with this key made; an error when
  /// the key came with another request.
  Result<std::optional<Application>> Replayed(const std::string& applicant, const std::string& key,
                                              const std::string& hash);
  Status Discard(std::int64_t id, const std::string& applicant);
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

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::forms
