#pragma once
// The organisations of government: the first module, and the pattern the
// others follow (public header → service → store → routes).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/embedded.h"
#include "base/result.h"
#include "db/database.h"
#include "modules/audit/audit.h"

namespace dzong::http {
class Router;
}

namespace dzong::organisations {

/// Error codes of this module (listed with their HTTP status in http/errors.cpp).
namespace errc {
inline constexpr char kNotFound[] = "organisations.not_found";
inline constexpr char kAlreadyExists[] = "organisations.already_exists";
inline constexpr char kParentNotFound[] = "organisations.parent_not_found";
inline constexpr char kParentCycle[] = "organisations.parent_cycle";
}  // namespace errc

/// Kinds, as stored and as sent on the wire.
inline constexpr std::string_view kKinds[] = {"ministry",   "department", "agency",   "dzongkhag_administration",
                                              "commission", "cirt",       "committee"};
inline constexpr std::string_view kStatuses[] = {"active", "dissolved"};

struct Organisation {
  std::string code;  ///< "DCRC"; upper case letters, digits and '-'
  std::string name_en;
  std::optional<std::string> name_dz;  ///< Dzongkha, Tibetan script
  std::string kind;
  std::optional<std::string> parent;  ///< code of the parent organisation
  std::string status;
  std::int64_t version = 1;
  std::string created_at;
  std::string updated_at;

  /// The organisation's identity on the exchange: "BT/GOV/DCRC".
  std::string ExchangeId() const { return "BT/GOV/" + code; }
};

struct NewOrganisation {
  std::string code;
  std::string name_en;
  std::optional<std::string> name_dz;
  std::string kind;
  std::optional<std::string> parent;
  std::string status = "active";
};

/// A partial update: only the fields that are set change. For the nullable
/// fields, an engaged outer optional holding nullopt clears the value.
struct OrganisationChange {
  std::optional<std::string> name_en;
  std::optional<std::optional<std::string>> name_dz;
  std::optional<std::string> kind;
  std::optional<std::optional<std::string>> parent;
  std::optional<std::string> status;
};

struct ListQuery {
  std::optional<std::string> kind;
  std::optional<std::string> parent;
  std::optional<std::string> status;
  std::optional<std::string> after;  ///< the last code of the previous page
  int limit = 50;
};

struct Page {
  std::vector<Organisation> items;
  std::optional<std::string> next_after;  ///< set when there may be more
};

struct HistoryEntry {
  std::int64_t version;
  std::string changed_at;
  std::string changed_by;
  std::string change;  ///< JSON object of the fields that version set
};

struct SeedReport {
  int inserted = 0;
  int already_present = 0;
};

/// Domain rules for organisations. Every change writes its history row in
/// the same transaction.
class OrganisationService {
 public:
  OrganisationService(db::Database& db, const Clock& clock);

  Result<Page> List(const ListQuery& query);
  /// Errors: organisations.not_found.
  Result<Organisation> Get(const std::string& code);
  Result<std::vector<HistoryEntry>> History(const std::string& code);
  /// Errors: request.invalid, organisations.already_exists, organisations.parent_not_found.
  Result<Organisation> Create(const NewOrganisation& input, const audit::Actor& actor);
  /// Errors: request.invalid, organisations.not_found, organisations.parent_not_found,
  /// organisations.parent_cycle, request.version_conflict (when expected_version differs).
  Result<Organisation> Update(const std::string& code, const OrganisationChange& change,
                              std::optional<std::int64_t> expected_version, const audit::Actor& actor);
  /// Inserts the organisations that are missing, parents first; leaves existing ones alone.
  Result<SeedReport> Seed(std::span<const NewOrganisation> organisations, const audit::Actor& actor);

 private:
  db::Database& db_;
  const Clock& clock_;
};

/// Field-level checks shared by create and update; empty when all is well.
std::vector<FieldError> ValidateCode(const std::string& code);
std::vector<FieldError> ValidateDzongkha(const std::string& field, const std::string& text);

/// The seed shipped with the platform: the structure of government the
/// e-Governance Policy names, with today's bodies (seed/organisations.csv).
Result<std::vector<NewOrganisation>> DefaultSeed();

/// This module's migrations, compiled into the binary.
std::span<const EmbeddedFile> Migrations();

/// Adds the module's JSON routes to the router.
Status AddRoutes(http::Router& router, OrganisationService& service);

}  // namespace dzong::organisations
