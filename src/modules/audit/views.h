#pragma once
// What people see of the audit log: the citizen's data tracker (who looked
// at my data, when and why) and the auditors' search, as pages and as JSON.

#include "base/result.h"

namespace dzong::db {
class Database;
}
namespace dzong::http {
class Router;
}
namespace dzong::web {
class Web;
}
namespace dzong::organisations {
class OrganisationService;
}

namespace dzong::audit {

struct ViewPolicy {
  /// The data tracker names the officer who looked, not only their role.
  bool show_officer_names = false;
};

/// /my/data-access (+ .csv), /api/v1/me/data-access, /audit and
/// /api/v1/audit/events.
Status AddRoutes(http::Router& router, db::Database& db, web::Web& web,
                 organisations::OrganisationService& organisations, ViewPolicy policy);

}  // namespace dzong::audit
