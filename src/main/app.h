#pragma once
// Wiring: the only place that constructs modules and hands each its
// dependencies. `dzong serve` and the integration tests both build an App.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "db/migrate.h"
#include "main/config.h"

namespace spdlog {
class logger;
}

namespace dzong {
namespace identity {
class IdentityService;
}
namespace web {
class Web;
}
namespace keys {
class KeyRing;
}
namespace registries {
class RegistryService;
class CorrectionService;
}
namespace exchange {
class ExchangeService;
}
namespace services {
class ServiceCatalogue;
}
namespace forms {
class FormService;
}
namespace workflow {
class WorkflowService;
}
namespace notify {
class NotifyService;
}
namespace certificates {
class CertificateService;
}
namespace payments {
class PaymentService;
}
class Clock;

/// Every module's migrations, in the order they apply.
std::vector<db::ModuleMigrations> AllMigrations();

/// The JSON API description served at /api/v1/openapi.json.
std::string_view ApiDescription();

class App {
 public:
  /// Opens the database and builds every module and route. Does not listen.
  static Result<std::unique_ptr<App>> Create(const Config& config, std::shared_ptr<spdlog::logger> log);
  ~App();

  Result<db::MigrationReport> Migrate();
  /// Migrates, then inserts the reference data that is missing; with `demo`,
  /// also the demo accounts the README lists; with `population`, that many
  /// synthetic people in the population register, the same for the same seed.
  Result<std::string> Seed(bool demo, std::int64_t population = 0, std::uint64_t population_seed = 1);
  identity::IdentityService& Identity();
  db::Database& Database();
  web::Web& Web();
  keys::KeyRing& Keys();
  registries::RegistryService& Registries();
  exchange::ExchangeService& Exchange();
  registries::CorrectionService& Corrections();
  services::ServiceCatalogue& Services();
  forms::FormService& Forms();
  workflow::WorkflowService& Workflow();
  /// Reads the public holidays into the workflow's working calendar
  /// (Listen does it; tools that work without listening call it).
  Status LoadWorkingCalendar();
  notify::NotifyService& Notifications();
  payments::PaymentService& Payments();
  certificates::CertificateService& Certificates();
  const Config& Settings() const;
  const Clock& Time() const;

  /// Binds the listening socket, starts signing audit checkpoints and, when
  /// a mail server or SMS gateway is configured, sending notices; returns
  /// the port. Needs the key-encryption key.
  Result<std::uint16_t> Listen();
  /// Serves until Shutdown() or a signal (when `signals` is set).
  void Serve(bool signals);
  void Shutdown();

  /// The route table, for the tests that walk it.
  struct RouteInfo {
    std::string method, pattern, permission, audit_event;
  };
  std::vector<RouteInfo> Routes() const;

 private:
  struct Parts;
  Status SeedDemoAgreements();
  explicit App(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace dzong
