#pragma once
// Registries: the single source of truth for each dataset. One custodian
// organisation keeps each registry; only its registry stewards change
// records, and every change is a new version with who, when and why,
// written with its audit event in one transaction.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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

namespace errc {
inline constexpr char kNotFound[] = "registries.not_found";
inline constexpr char kRecordNotFound[] = "registries.record_not_found";
inline constexpr char kNotCustodian[] = "registries.not_custodian";
inline constexpr char kCorrectionNotFound[] = "registries.correction_not_found";
inline constexpr char kCorrectionClosed[] = "registries.correction_closed";
}  // namespace errc

/// One field of a registry's schema.
struct FieldSpec {
  std::string name;
  std::string type;  ///< string, integer, decimal, date, enum, cid, reference
  bool required = false;
  bool pii = false;
  std::string description;
  std::string label_dz;
  std::vector<std::string> values;  ///< enum
  std::string reference;            ///< the registry a reference points into
  std::size_t max_length = 0;       ///< string; 0: the default of 1000
};

struct Registry {
  std::string code;
  std::string custodian;
  std::string title_en;
  std::string title_dz;
  std::string key_field;
  std::int64_t schema_version = 1;
  std::string status;
  std::vector<FieldSpec> fields;
};

/// One version of a record.
struct Record {
  std::string registry;
  std::string key;
  std::int64_t version = 0;
  std::string data;  ///< a JSON object of the schema's fields
  bool retired = false;
  std::string valid_from;
  std::optional<std::string> valid_to;
  std::string changed_by;
  std::string reason;
};

/// The people a record is about (CIDs): its key in a register kept by CID,
/// and any person it references. A steward's view of the record names them
/// in the audit log, so each sees it in their data tracker.
std::vector<std::string> PeopleIn(const Registry& registry, const Record& record);

/// A page of a register's current records, in key order. Paging is by key
/// (after or before the edge of the page seen), never by offset, so every
/// page is an index range read however large the register is.
struct RecordQuery {
  std::string key_prefix;  ///< only keys that start with this
  std::string after;       ///< the page after this key
  std::string before;      ///< the page before this key
  std::size_t limit = 25;
};

struct RecordPage {
  std::vector<Record> records;
  bool has_previous = false;
  bool has_next = false;
};

/// Checks `data` against the fields: unknown fields, missing required ones,
/// and each value's type and rule, every problem named by field and rule.
std::vector<FieldError> Validate(const Registry& registry, const nlohmann::json& data);

/// What a population seed made.
struct PopulationReport {
  std::int64_t people = 0;
  std::int64_t plots = 0;     ///< in the land register, owned by people of this seed
  std::int64_t licences = 0;  ///< in the business licence register
  std::int64_t households = 0;
  std::int64_t already_present = 0;
};

/// What an import did: rows read, committed, and refused (each refusal is a
/// line of the reject file).
struct ImportReport {
  std::int64_t rows = 0;
  std::int64_t imported = 0;   ///< new records and new versions
  std::int64_t unchanged = 0;  ///< rows the register already held as they are
  std::int64_t rejected = 0;
};

class RegistryService {
 public:
  RegistryService(db::Database& db, const Clock& clock);

  Result<std::vector<Registry>> List();
  /// Errors: registries.not_found.
  Result<Registry> Get(const std::string& code);
  /// The record as it is now, or as it was at `as_of` (UTC). Errors:
  /// registries.not_found, registries.record_not_found.
  Result<Record> GetRecord(const std::string& code, const std::string& key, const std::optional<std::string>& as_of);
  /// What the registers hold about a person: their population record, and
  /// the current records that name them (a plot they own, a licence).
  Result<std::vector<std::pair<Registry, Record>>> RecordsAbout(const std::string& cid);
  /// The current records of `code` whose `field` (a reference to a person)
  /// is `cid`. Errors: registries.not_found, request.invalid (a field that
  /// does not name a person).
  Result<std::vector<Record>> FindBySubject(const std::string& code, const std::string& field, const std::string& cid,
                                            std::int64_t limit);
  /// The current records of a page. Errors: registries.not_found.
  Result<RecordPage> Records(const std::string& code, const RecordQuery& query);
  /// Every version, oldest first.
  Result<std::vector<Record>> History(const std::string& code, const std::string& key);
  /// Creates or changes a record as a new version. Only stewards of the
  /// custodian (`steward_of` is the actor's organisation). Errors:
  /// request.invalid, registries.not_found, registries.not_custodian,
  /// request.version_conflict (when `expected_version` differs).
  Result<Record> Put(const std::string& code, const std::string& key, const nlohmann::json& data,
                     const std::string& reason, std::optional<std::int64_t> expected_version,
                     const audit::Actor& actor);

  /// Adds the registries shipped with the platform that are missing.
  Result<int> SeedDefinitions(const audit::Actor& actor);
  /// Generates `people` persons in families across the 20 dzongkhags and
  /// their gewogs, the same for the same `seed`. With `demo`, the demo
  /// citizen's own record is among them.
  Result<PopulationReport> SeedPopulation(std::int64_t people, std::uint64_t seed, bool demo,
                                          const audit::Actor& actor);

  /// Imports CSV text whose header names the registry's fields. Every row is
  /// checked against the schema (and references against the register and
  /// the file itself); refused rows go to `rejects` as CSV (line, field,
  /// rule, message); the valid rows commit together, as new versions, with
  /// one audit event. `progress` is called with the rows read so far.
  /// Errors: registries.not_found, request.invalid (a header that is not the schema's).
  Result<ImportReport> Import(const std::string& code, std::string_view csv, std::string& rejects,
                              const audit::Actor& actor, const std::function<void(std::int64_t)>& progress = {});
  /// Writes the current records as CSV (the schema's fields as columns) or
  /// as newline-delimited JSON. Returns the number of records.
  Result<std::int64_t> Export(const std::string& code, const std::string& format, std::FILE* out);

 private:
  db::Database& db_;
  const Clock& clock_;
};

/// A person's request to the custodian to correct a field of their record.
struct Correction {
  std::int64_t id = 0;
  std::string registry;
  std::string record_key;
  std::string subject;  ///< the CID of the person who asked
  std::string field;
  std::string description;            ///< what is wrong
  std::optional<std::string> proposed_value;
  std::string status;                 ///< open, done, declined
  std::string asked_at;               ///< UTC
  std::optional<std::string> answered_by;
  std::optional<std::string> answered_at;
  std::optional<std::string> answer;  ///< the steward's note to the person
  std::optional<std::int64_t> record_version;  ///< the record's version when it was marked done
  std::string custodian;              ///< the registry's custodian
};

struct CorrectionRequest {
  std::string registry;
  std::string field;
  std::string description;
  std::string proposed_value;  ///< empty: none given
  std::string record_key;      ///< for a register not kept by CID: the record (a plot, a licence) that names the person
};

/// Correction requests: asked by the person a record is about, answered by
/// the stewards of the register's custodian. Asking and answering each
/// commit with their audit event.
class CorrectionService {
 public:
  CorrectionService(db::Database& db, const Clock& clock, RegistryService& registries);

  /// `subject` (a CID) asks for a correction of their record in a register
  /// kept by CID. Errors: request.invalid (field, description,
  /// proposed_value: each named with its rule), registries.not_found,
  /// registries.record_not_found.
  Result<Correction> Ask(const std::string& subject, const CorrectionRequest& request, const audit::Actor& actor);
  /// The person's own requests, newest first.
  Result<std::vector<Correction>> ForSubject(const std::string& subject);
  /// Open requests on the registers `organisation` keeps, oldest first.
  Result<std::vector<Correction>> OpenFor(const std::string& organisation);
  /// One request, for the stewards of its custodian; anyone else is told
  /// it does not exist. Errors: registries.correction_not_found.
  Result<Correction> GetForCustodian(std::int64_t id, const std::string& organisation);
  /// A steward marks the request done (the record was changed) or declines
  /// it; a refusal needs a reason for the person. Errors: request.invalid,
  /// registries.correction_not_found, registries.correction_closed.
  Result<Correction> Answer(std::int64_t id, const std::string& outcome, const std::string& answer,
                            const audit::Actor& actor);

 private:
  db::Database& db_;
  const Clock& clock_;
  RegistryService& registries_;
};

/// GET /api/v1/registries[/{code}], and for the custodian's stewards the
/// records with their history: GET and PUT /api/v1/registries/{code}/records/{key}.
Status AddRoutes(http::Router& router, RegistryService& registries);

/// The stewards' pages (/steward/registries…, /steward/corrections…) and
/// the person's correction requests (/my/corrections…).
Status AddPages(http::Router& router, RegistryService& registries, CorrectionService& corrections, web::Web& web);

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::registries
