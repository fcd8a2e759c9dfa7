#pragma once
// Services as data: an agency's service designer defines a service (what
// it is and who it is for, its form, documents, fee, SLA, workflow and
// certificate) as a JSON definition, checked against the JSON Schema in
// docs/schemas/service-definition.schema.json and by the once-only lint;
// the platform runs it. A published version is immutable; every
// application keeps the version it was made against.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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
namespace dzong::registries {
class RegistryService;
}
namespace dzong::organisations {
class OrganisationService;
}

namespace dzong::services {

namespace errc {
inline constexpr char kNotFound[] = "services.not_found";
inline constexpr char kVersionNotFound[] = "services.version_not_found";
inline constexpr char kNotOwner[] = "services.not_owner";
inline constexpr char kNotDraft[] = "services.not_draft";
inline constexpr char kLintBlocked[] = "services.lint_blocked";
inline constexpr char kRetired[] = "services.retired";
inline constexpr char kJustificationNotFound[] = "services.justification_not_found";
}  // namespace errc

/// The JSON Schema every definition is checked against.
std::string_view DefinitionSchema();

/// A definition's text in a language: its Dzongkha when asked and present,
/// else its English. `text` is an object {"en": …, "dz": …}.
std::string TextIn(const nlohmann::json& text, std::string_view language);

/// One version of a service: its definition and where it stands.
struct Version {
  std::string service;
  std::int64_t version = 0;
  std::string status;  ///< draft, published, superseded
  nlohmann::json definition;
  std::string created_by;
  std::string created_at;  ///< UTC
  std::string updated_at;  ///< UTC
  std::optional<std::string> published_by;
  std::optional<std::string> published_at;
};

/// A service of the catalogue: its current definition (the published one,
/// else its latest draft) and its versions' numbers.
struct Service {
  std::string code;
  std::string owner;
  std::string status;  ///< draft (never published), published, retired
  std::optional<std::int64_t> published_version;
  std::int64_t latest_version = 0;
  nlohmann::json definition;
  std::string updated_at;
};

/// One problem the lint found in a definition. `blocking` findings stop
/// publication; a once-only finding stops it until it is justified.
struct LintFinding {
  std::string rule;    ///< once_only, unreachable_page, later_answer, unknown_answer, unreachable_state, missing_dzongkha, unused_justification (not blocking)
  std::string path;    ///< where in the definition: form.pages[2].fields[0]
  std::string field;   ///< the form field, when the finding is about one
  std::string registry_field;  ///< once_only: registry.field that already holds the data
  std::string message;
  bool blocking = true;
  std::optional<std::string> justification;  ///< once_only: the recorded reason
};

/// A recorded reason for asking the applicant for data a registry holds,
/// as the ministry reviews it.
struct Justification {
  std::int64_t id = 0;
  std::string service;
  std::int64_t version = 0;
  std::string owner;
  std::string field;
  std::string registry_field;
  std::string reason;
  std::string recorded_by;
  std::string recorded_at;
  std::string review;  ///< pending, accepted, questioned
  std::optional<std::string> reviewed_by;
  std::optional<std::string> reviewed_at;
  std::optional<std::string> review_note;
};

/// Catalogue filters; every one that is set must match.
struct CatalogueQuery {
  std::string text;        ///< words in English or Dzongkha (syllables split at the tsheg)
  std::string life_event;
  std::string owner;
  std::string category;
};

class ServiceCatalogue {
 public:
  ServiceCatalogue(db::Database& db, const Clock& clock, registries::RegistryService& registries,
                   organisations::OrganisationService& organisations);
  ~ServiceCatalogue();

  /// Checks a definition against the JSON Schema, then its meaning: ids
  /// unique, conditions, pre-fill and documents pointing at what exists,
  /// workflow states and transitions that join up, organisations and
  /// registries that exist. Each problem is named by its path and rule.
  std::vector<FieldError> Validate(const nlohmann::json& definition) const;
  /// The publication lint of a valid definition: once-only, unreachable
  /// pages, conditions on later answers, answers no option gives, missing
  /// Dzongkha text.
  std::vector<LintFinding> Lint(const nlohmann::json& definition) const;

  /// Saves a definition as the draft of its service: a new service, a new
  /// draft after the published version, or a change to the draft. Only the
  /// owner's designers (`actor.organisation`). Errors: request.invalid
  /// (each path and rule), services.not_owner, services.retired.
  Result<Version> SaveDraft(const nlohmann::json& definition, const audit::Actor& actor);
  /// Publishes the draft: validation and lint must pass; the version
  /// becomes immutable and the service's current one, the one before it is
  /// superseded, and the justifications are recorded for review. Errors:
  /// services.not_found, services.version_not_found, services.not_owner,
  /// services.not_draft, request.invalid, services.lint_blocked (each
  /// finding as a field error: path, rule, message).
  Result<Version> Publish(const std::string& code, std::int64_t version, const audit::Actor& actor);
  /// Takes a service out of the catalogue. Errors: services.not_found,
  /// services.not_owner.
  Result<Service> Retire(const std::string& code, const audit::Actor& actor);

  /// Published services that match, by title.
  Result<std::vector<Service>> Catalogue(const CatalogueQuery& query) const;
  /// Any service, as its owner sees it. Errors: services.not_found.
  Result<Service> Get(const std::string& code) const;
  /// A published service. Errors: services.not_found (also when retired or never published).
  Result<Service> GetPublished(const std::string& code) const;
  /// Errors: services.version_not_found.
  Result<Version> GetVersion(const std::string& code, std::int64_t version) const;
  /// Every version, newest first.
  Result<std::vector<Version>> Versions(const std::string& code) const;
  /// The services an organisation owns, any status.
  Result<std::vector<Service>> OwnedBy(const std::string& organisation) const;

  /// The justifications recorded at publication, newest first; `review`
  /// filters (pending, accepted, questioned) when not empty.
  Result<std::vector<Justification>> Justifications(const std::string& review) const;
  /// The ministry accepts or questions a justification, with a note.
  /// Errors: request.invalid, services.justification_not_found.
  Result<Justification> Review(std::int64_t id, const std::string& decision, const std::string& note,
                               const audit::Actor& actor);

  /// Imports and publishes the services shipped with the platform that
  /// are missing. Returns how many were added.
  Result<int> SeedDefinitions(const audit::Actor& actor);

  /// Changes each time the published catalogue changes (a publication, a
  /// retirement): what is built from the catalogue can be kept until then.
  std::uint64_t Generation() const;

 private:
  struct Snapshot;
  std::shared_ptr<const Snapshot> Published() const;
  void Invalidate();

  db::Database& db_;
  const Clock& clock_;
  registries::RegistryService& registries_;
  organisations::OrganisationService& organisations_;
  mutable std::mutex snapshot_mutex_;
  mutable std::shared_ptr<const Snapshot> snapshot_;
  /// Parsed definitions of versions read, by service and version, with the
  /// text they were parsed from: a version is read from the database each
  /// time, its definition parsed again only when its text changed.
  struct ParsedDefinition {
    std::string text;
    nlohmann::json definition;
  };
  mutable std::mutex definitions_mutex_;
  mutable std::map<std::pair<std::string, std::int64_t>, ParsedDefinition> definitions_;
  std::atomic<std::uint64_t> generation_{1};
};

/// The definitions shipped with the platform (src/modules/services/seed).
std::span<const EmbeddedFile> SeedFiles();

/// The JSON API: GET /api/v1/services (the catalogue), GET
/// /api/v1/services/{code}, GET /api/v1/services/{code}/versions/{version};
/// for designers POST /api/v1/services (save a draft), POST
/// /api/v1/services/lint, POST …/versions/{version}/publish, POST …/retire.
Status AddRoutes(http::Router& router, ServiceCatalogue& catalogue);

/// The citizen's catalogue pages, open to all without signing in: GET
/// /services (browse by life event, agency and category; search in English
/// and Dzongkha) and GET /services/{code} (who can apply, what you need, the
/// fee, the time it takes, how to apply, the agency, and the way to start).
Status AddCataloguePages(http::Router& router, ServiceCatalogue& catalogue, registries::RegistryService& registries,
                         organisations::OrganisationService& organisations, web::Web& web);

/// The service designer's pages under /design (services.design): the
/// organisation's services, a new service, a draft edited part by part
/// (details, form pages and fields, documents, fee rules, workflow,
/// certificate, justifications), its lint, preview, publication,
/// retirement, and its definition as JSON out and in; and the ministry's
/// review of justifications under /review/justifications (services.review).
Status AddDesignerPages(http::Router& router, ServiceCatalogue& catalogue, registries::RegistryService& registries,
                        organisations::OrganisationService& organisations, web::Web& web);

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::services
