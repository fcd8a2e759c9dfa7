#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "modules/organisations/organisations.h"
#include "modules/organisations/store.h"

namespace dzong::organisations {
namespace {

bool OneOf(std::string_view value, std::span<const std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

void CheckEnum(std::vector<FieldError>& errors, const std::string& field, const std::string& value,
               std::span<const std::string_view> allowed) {
  if (!OneOf(value, allowed)) {
    errors.push_back({field, "one_of", fmt::format("{} must be one of: {}", field, fmt::join(allowed, ", "))});
  }
}

void CheckName(std::vector<FieldError>& errors, const std::string& field, const std::string& value) {
  if (std::any_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    errors.push_back({field, "no_control_characters", fmt::format("{} must not contain line breaks or tabs", field)});
  }
  if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) {
    errors.push_back({field, "trimmed", fmt::format("{} must not start or end with a space", field)});
  }
}

std::vector<FieldError> ValidateNew(const NewOrganisation& o) {
  std::vector<FieldError> errors = ValidateCode(o.code);
  CheckName(errors, "name_en", o.name_en);
  if (o.name_dz) {
    auto dz = ValidateDzongkha("name_dz", *o.name_dz);
    errors.insert(errors.end(), dz.begin(), dz.end());
  }
  CheckEnum(errors, "kind", o.kind, kKinds);
  CheckEnum(errors, "status", o.status, kStatuses);
  if (o.parent && *o.parent == o.code) {
    errors.push_back({"parent", "not_self", "an organisation cannot be its own parent"});
  }
  return errors;
}

Status ParentExists(db::Connection& c, const std::optional<std::string>& parent) {
  if (!parent) return {};
  DZONG_ASSIGN_OR_RETURN(auto found, store::Find(c, *parent));
  if (!found) {
    return Error(errc::kParentNotFound, fmt::format("there is no organisation with code {} to be the parent", *parent),
                 {{"parent", "not_found", fmt::format("there is no organisation with code {}", *parent)}});
  }
  return {};
}

nlohmann::json Nullable(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

std::vector<FieldError> ValidateCode(const std::string& code) {
  const bool shape = code.size() >= 2 && code.size() <= 32 && code[0] >= 'A' && code[0] <= 'Z' &&
                     std::all_of(code.begin(), code.end(), [](char c) {
                       return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
                     });
  if (shape) return {};
  return {{"code", "pattern",
           "code must be 2 to 32 characters: capital letters A-Z, digits and '-', starting with a letter (e.g. DCRC)"}};
}

std::vector<FieldError> ValidateDzongkha(const std::string& field, const std::string& text) {
  // Dzongkha is written in the Tibetan block (U+0F00–U+0FFF); spaces, digits
  // and common punctuation may sit between words.
  bool has_tibetan = false;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (!(c == ' ' || (c >= '0' && c <= '9') || c == '-' || c == '(' || c == ')' || c == ',' || c == '.' ||
            c == '/')) {
        return {{field, "script", fmt::format("{} must be written in Dzongkha (Tibetan script)", field)}};
      }
      ++i;
      continue;
    }
    // Three-byte UTF-8: U+0800..U+FFFF. The caller has checked it is UTF-8.
    if ((c >> 4) == 0xe && i + 2 < text.size()) {
      const unsigned cp = ((c & 0x0fu) << 12) | ((static_cast<unsigned char>(text[i + 1]) & 0x3fu) << 6) |
                          (static_cast<unsigned char>(text[i + 2]) & 0x3fu);
      if (cp >= 0x0f00 && cp <= 0x0fff) {
        has_tibetan = true;
        i += 3;
        continue;
      }
    }
    return {{field, "script", fmt::format("{} must be written in Dzongkha (Tibetan script)", field)}};
  }
  if (!has_tibetan) return {{field, "script", fmt::format("{} must be written in Dzongkha (Tibetan script)", field)}};
  return {};
}

OrganisationService::OrganisationService(db::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

Result<Page> OrganisationService::List(const ListQuery& query) {
  return db_.ReadValue<Page>([&](db::Connection& c) { return store::List(c, query); });
}

Result<Organisation> OrganisationService::Get(const std::string& code) {
  DZONG_ASSIGN_OR_RETURN(auto found,
                         db_.ReadValue<std::optional<Organisation>>([&](db::Connection& c) { return store::Find(c, code); }));
  if (!found) return Error(errc::kNotFound, fmt::format("there is no organisation with code {}", code));
  return std::move(*found);
}

Result<std::vector<HistoryEntry>> OrganisationService::History(const std::string& code) {
  return db_.ReadValue<std::vector<HistoryEntry>>([&](db::Connection& c) -> Result<std::vector<HistoryEntry>> {
    DZONG_ASSIGN_OR_RETURN(auto found, store::Find(c, code));
    if (!found) return Error(errc::kNotFound, fmt::format("there is no organisation with code {}", code));
    return store::History(c, code);
  });
}

Result<Organisation> OrganisationService::Create(const NewOrganisation& input, const audit::Actor& actor) {
  if (auto errors = ValidateNew(input); !errors.empty()) {
    return Invalid(std::move(errors));
  }
  return db_.WriteValue<Organisation>([&](db::Connection& c) -> Result<Organisation> {
    DZONG_ASSIGN_OR_RETURN(auto existing, store::Find(c, input.code));
    if (existing) {
      return Error(errc::kAlreadyExists, fmt::format("an organisation with code {} already exists", input.code),
                   {{"code", "unique", fmt::format("{} is already taken", input.code)}});
    }
    DZONG_TRY(ParentExists(c, input.parent));
    const std::string now = FormatUtc(clock_.Now());
    Organisation o{input.code, input.name_en, input.name_dz, input.kind, input.parent, input.status, 1, now, now};
    DZONG_TRY(store::Insert(c, o));
    const nlohmann::json change = {{"code", o.code},           {"name_en", o.name_en}, {"name_dz", Nullable(o.name_dz)},
                                   {"kind", o.kind},           {"parent", Nullable(o.parent)},
                                   {"status", o.status}};
    DZONG_TRY(store::InsertHistory(c, o.code, 1, now, actor.id, change.dump()));
    DZONG_TRY(audit::AppendWithCall(c, audit::For(actor, "organisations.create", "organisation", o.code, change.dump()),
                                    actor, 201, clock_));
    return o;
  });
}

Result<Organisation> OrganisationService::Update(const std::string& code, const OrganisationChange& change,
                                                 std::optional<std::int64_t> expected_version,
                                                 const audit::Actor& actor) {
  std::vector<FieldError> errors;
  if (change.name_en) CheckName(errors, "name_en", *change.name_en);
  if (change.name_dz && *change.name_dz) {
    auto dz = ValidateDzongkha("name_dz", **change.name_dz);
    errors.insert(errors.end(), dz.begin(), dz.end());
  }
  if (change.kind) CheckEnum(errors, "kind", *change.kind, kKinds);
  if (change.status) CheckEnum(errors, "status", *change.status, kStatuses);
  if (change.parent && *change.parent && **change.parent == code) {
    errors.push_back({"parent", "not_self", "an organisation cannot be its own parent"});
  }
  if (!errors.empty()) {
    return Invalid(std::move(errors));
  }
  return db_.WriteValue<Organisation>([&](db::Connection& c) -> Result<Organisation> {
    DZONG_ASSIGN_OR_RETURN(auto found, store::Find(c, code));
    if (!found) return Error(errc::kNotFound, fmt::format("there is no organisation with code {}", code));
    Organisation o = std::move(*found);
    if (expected_version && *expected_version != o.version) {
      return Error(dzong::errc::kConflict,
                   fmt::format("organisation {} has changed since you read it (now version {}, you sent {}); read "
                               "it again and reapply your change",
                               code, o.version, *expected_version));
    }
    nlohmann::json diff = nlohmann::json::object();
    if (change.name_en && *change.name_en != o.name_en) diff["name_en"] = o.name_en = *change.name_en;
    if (change.name_dz && *change.name_dz != o.name_dz) diff["name_dz"] = Nullable(o.name_dz = *change.name_dz);
    if (change.kind && *change.kind != o.kind) diff["kind"] = o.kind = *change.kind;
    if (change.status && *change.status != o.status) diff["status"] = o.status = *change.status;
    if (change.parent && *change.parent != o.parent) {
      DZONG_TRY(ParentExists(c, *change.parent));
      // Walk up from the new parent: reaching this organisation would make a loop.
      std::optional<std::string> cursor = *change.parent;
      for (int depth = 0; cursor && depth < 64; ++depth) {
        if (*cursor == code) {
          return Error(errc::kParentCycle,
                       fmt::format("{} is below {} already, so it cannot be its parent", **change.parent, code),
                       {{"parent", "no_cycle", "the parent cannot be one of this organisation's own units"}});
        }
        DZONG_ASSIGN_OR_RETURN(auto up, store::Find(c, *cursor));
        cursor = up ? up->parent : std::nullopt;
      }
      diff["parent"] = Nullable(o.parent = *change.parent);
    }
    if (diff.empty()) return o;  // nothing differs: no new version
    o.version += 1;
    o.updated_at = FormatUtc(clock_.Now());
    DZONG_ASSIGN_OR_RETURN(const bool written, store::Update(c, o));
    if (!written) {
      return Error(dzong::errc::kConflict, fmt::format("organisation {} was changed at the same time; try again", code));
    }
    DZONG_TRY(store::InsertHistory(c, code, o.version, o.updated_at, actor.id, diff.dump()));
    DZONG_TRY(audit::AppendWithCall(c, audit::For(actor, "organisations.update", "organisation", code, diff.dump()),
                                    actor, 200, clock_));
    return o;
  });
}

Result<SeedReport> OrganisationService::Seed(std::span<const NewOrganisation> organisations,
                                            const audit::Actor& actor) {
  // Parents first: repeat passes until every organisation whose parent is in place is in.
  SeedReport report;
  std::vector<const NewOrganisation*> pending;
  for (const auto& o : organisations) pending.push_back(&o);
  while (!pending.empty()) {
    std::vector<const NewOrganisation*> next;
    for (const NewOrganisation* o : pending) {
      Result<Organisation> created = Create(*o, actor);
      if (created.ok()) {
        ++report.inserted;
      } else if (created.error().code == errc::kAlreadyExists) {
        ++report.already_present;
      } else if (created.error().code == errc::kParentNotFound) {
        next.push_back(o);
      } else {
        return Error(created.error().code, fmt::format("seed organisation {}: {}", o->code, created.error().message),
                     created.error().fields);
      }
    }
    if (next.size() == pending.size()) {
      return Error(errc::kParentNotFound,
                   fmt::format("seed organisation {} names a parent that is neither stored nor in the seed",
                               next.front()->code));
    }
    pending = std::move(next);
  }
  return report;
}

}  // namespace dzong::organisations
