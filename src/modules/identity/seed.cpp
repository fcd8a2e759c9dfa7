#include <sstream>

#include <fmt/format.h>

#include "base/csv.h"
#include "modules/identity/identity.h"
#include "modules/identity/store.h"

namespace dzong {
std::span<const EmbeddedFile> IdentityMigrationFiles();
std::span<const EmbeddedFile> IdentityRoleFiles();
}  // namespace dzong

namespace dzong::identity {

std::span<const EmbeddedFile> Migrations() { return IdentityMigrationFiles(); }

namespace {

/// The demo people listed in the README for `make run`.
struct DemoAccount {
  AccountKind kind;
  const char* username;
  const char* display_name;
  const char* organisation;
  const char* password;
  const char* role;
};

constexpr DemoAccount kDemo[] = {
    {AccountKind::kCitizen, "11410012345", "Sonam Choden", nullptr, "Tashi-Delek-2026", "citizen"},
    {AccountKind::kOfficial, "pema.wangmo", "Pema Wangmo", "DCRC", "Census-Officer-2026", "officer"},
    {AccountKind::kOfficial, "karma.dorji", "Karma Dorji", "DCRC", "Agency-Admin-2026", "agency_administrator"},
    {AccountKind::kOfficial, "tashi.penjor", "Tashi Penjor", "DCRC", "Service-Designer-2026", "service_designer"},
    {AccountKind::kOfficial, "dechen.wangmo", "Dechen Wangmo", "DCRC", "Registry-Steward-2026", "registry_steward"},
    {AccountKind::kOfficial, "kinley.wangchuk", "Kinley Wangchuk", "MOH", "Agency-Admin-MOH-2026",
     "agency_administrator"},
    {AccountKind::kOfficial, "tshering.yangzom", "Tshering Yangzom", "GOVTECH", "Platform-Admin-2026",
     "platform_administrator"},
    {AccountKind::kOfficial, "ugyen.tenzin", "Ugyen Tenzin", "GOVTECH", "Platform-Admin2-2026",
     "platform_administrator"},
    {AccountKind::kOfficial, "sonam.tobgay", "Sonam Tobgay", "RBP", "Police-Officer-2026", "officer"},
    {AccountKind::kOfficial, "deki.choden", "Deki Choden", "DZ-THIMPHU", "Community-Centre-2026",
     "community_centre_operator"},
};

}  // namespace

Result<std::string> IdentityService::Seed(bool demo) {
  int roles = 0;
  for (const EmbeddedFile& file : IdentityRoleFiles()) {
    for (const auto& f : CsvRecords(file.content)) {
      if (f.size() != 5) return Error("identity.bad_seed", fmt::format("{}: expected 5 fields per role", file.name));
      std::vector<std::string> permissions;
      std::istringstream words(f[4]);
      for (std::string p; words >> p;) permissions.push_back(p);
      DZONG_TRY(db_.Write([&](db::Connection& c) {
        return store::UpsertRole(c, f[0], f[1], f[2], f[3] == "1", permissions);
      }));
      ++roles;
    }
  }
  int added = 0;
  if (demo) {
    for (const DemoAccount& d : kDemo) {
      DZONG_ASSIGN_OR_RETURN(auto existing, db_.ReadValue<std::optional<store::AccountRow>>([&](db::Connection& c) {
                               return store::FindAccountByUsername(c, d.username);
                             }));
      if (existing) continue;
      NewAccount input;
      input.kind = d.kind;
      input.username = d.username;
      input.display_name = d.display_name;
      if (d.organisation) input.organisation = d.organisation;
      input.password = d.password;
      DZONG_ASSIGN_OR_RETURN(Account account, CreateAccount(input, "seed"));
      // Seeded grants are active at once: there is no second administrator yet
      // to approve the first platform administrators.
      DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
        Grant g;
        g.account_id = account.id;
        g.role = d.role;
        g.organisation = account.organisation;
        g.status = "active";
        g.granted_by = "seed";
        DZONG_TRY(store::InsertGrant(c, g, FormatUtc(clock_.Now())));
        return {};
      }));
      ++added;
    }
  }
  return fmt::format("identity: {} roles, {} demo accounts added", roles, added);
}

}  // namespace dzong::identity
