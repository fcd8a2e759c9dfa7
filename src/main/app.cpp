#include "main/app.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "db/database.h"
#include "http/auth.h"
#include "http/dispatcher.h"
#include "http/errors.h"
#include "http/json_input.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "modules/audit/audit.h"
#include "modules/audit/views.h"
#include "modules/certificates/certificates.h"
#include "modules/exchange/exchange.h"
#include "modules/forms/forms.h"
#include "modules/identity/authenticator.h"
#include "modules/identity/identity.h"
#include "modules/keys/keys.h"
#include "modules/notify/service.h"
#include "modules/organisations/organisations.h"
#include "modules/payments/payments.h"
#include "modules/registries/registries.h"
#include "modules/services/services.h"
#include "modules/workflow/workflow.h"
#include "web/web.h"

namespace dzong {

std::span<const EmbeddedFile> ApiDescriptionFiles();

std::vector<db::ModuleMigrations> AllMigrations() {
  return {{"audit", audit::Migrations()},       {"organisations", organisations::Migrations()},
          {"identity", identity::Migrations()}, {"keys", keys::Migrations()},
          {"registries", registries::Migrations()}, {"exchange", exchange::Migrations()},
          {"services", services::Migrations()}, {"forms", forms::Migrations()},
          {"workflow", workflow::Migrations()},
          {"notify", notify::Migrations()},
          {"payments", payments::Migrations()},
          {"certificates", certificates::Migrations()}};
}

std::string_view ApiDescription() { return ApiDescriptionFiles().front().content; }

namespace {

Status AddOperationsRoutes(http::Router& router, db::Database& db, const http::Metrics& metrics) {
  DZONG_TRY(router.Add({"GET", "/healthz", http::kPublic, http::kNoAuditEvent,
                        [](const http::Request&, const http::PathParams&) { return http::JsonResponse(200, {{"status", "ok"}}); },
                        "the process is alive"}));
  DZONG_TRY(router.Add({"GET", "/readyz", http::kPublic, http::kNoAuditEvent,
                        [&db](const http::Request& r, const http::PathParams&) {
                          Status ping = db.Ping();
                          if (!ping.ok()) return http::ErrorResponse(ping.error(), r.request_id);
                          return http::JsonResponse(200, {{"status", "ready"}, {"database", "ok"}});
                        },
                        "the server can answer: the database is reachable"}));
  DZONG_TRY(router.Add({"GET", "/metrics", http::kPublic, http::kNoAuditEvent,
                        [&db, &metrics](const http::Request&, const http::PathParams&) {
                          http::Response r;
                          r.content_type = "text/plain; version=0.0.4";
                          r.body = metrics.Render(db.Stats());
                          return r;
                        },
                        "Prometheus metrics"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/openapi.json", http::kPublic, http::kNoAuditEvent,
                        [](const http::Request&, const http::PathParams&) {
                          http::Response r;
                          r.body = std::string(ApiDescription());
                          return r;
                        },
                        "this API's OpenAPI description"}));
  return {};
}

std::vector<std::string> RouteLabels(const http::Router& router) {
  std::vector<std::string> labels;
  for (const auto& route : router.routes()) labels.push_back(route.method + " " + route.pattern);
  return labels;
}

}  // namespace

struct App::Parts {
  Config config;
  std::shared_ptr<spdlog::logger> log;
  SystemClock clock;
  std::unique_ptr<db::Database> db;
  std::unique_ptr<organisations::OrganisationService> organisations;
  std::unique_ptr<identity::IdentityService> identity;
  std::unique_ptr<keys::KeyRing> keys;
  std::unique_ptr<registries::RegistryService> registries;
  std::unique_ptr<exchange::ExchangeService> exchange;
  std::unique_ptr<registries::CorrectionService> corrections;
  std::unique_ptr<services::ServiceCatalogue> services;
  std::unique_ptr<forms::FormService> forms;
  std::unique_ptr<workflow::WorkflowService> workflow;
  std::unique_ptr<workflow::Escalator> escalator;
  std::unique_ptr<notify::NotifyService> notify;
  std::unique_ptr<payments::SimulatedGateway> payment_gateway;
  std::unique_ptr<payments::PaymentService> payments;
  std::unique_ptr<certificates::CertificateService> certificates;
  std::unique_ptr<audit::Checkpointer> checkpointer;
  std::unique_ptr<notify::Sender> sender;
  std::unique_ptr<audit::Appender> appender;
  std::unique_ptr<web::Web> web;
  http::Router router;
  http::Metrics metrics;
  std::unique_ptr<http::Authenticator> authenticator;
  std::unique_ptr<http::Dispatcher> dispatcher;
  std::unique_ptr<http::Server> server;
};

App::App(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
App::~App() = default;

Result<std::unique_ptr<App>> App::Create(const Config& config, std::shared_ptr<spdlog::logger> log) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  p->log = std::move(log);
  db::Options options;
  options.url = config.database_url;
  options.pool_size = config.database_pool_size;
  DZONG_ASSIGN_OR_RETURN(p->db, db::Open(options));
  p->organisations = std::make_unique<organisations::OrganisationService>(*p->db, p->clock);
  identity::Policy policy;
  policy.fast_hashing = config.fast_password_hashing;
  p->identity = std::make_unique<identity::IdentityService>(*p->db, p->clock, policy);
  p->keys = std::make_unique<keys::KeyRing>(*p->db, p->clock, config.key_encryption_key);
  if (!config.pkcs11.module.empty()) {
    DZONG_ASSIGN_OR_RETURN(auto token,
                           keys::Token::Open({config.pkcs11.module, config.pkcs11.token, config.pkcs11.pin}));
    p->keys->UseToken(std::move(token), config.pkcs11.token);
  }
  p->registries = std::make_unique<registries::RegistryService>(*p->db, p->clock);
  p->exchange = std::make_unique<exchange::ExchangeService>(*p->db, p->clock, *p->registries, *p->keys);
  p->corrections = std::make_unique<registries::CorrectionService>(*p->db, p->clock, *p->registries);
  p->services = std::make_unique<services::ServiceCatalogue>(*p->db, p->clock, *p->registries, *p->organisations);
  p->forms = std::make_unique<forms::FormService>(*p->db, p->clock, *p->services, *p->registries, *p->exchange,
                                                  config.data_dir, config.forms.draft_lifetime);
  p->workflow = std::make_unique<workflow::WorkflowService>(*p->db, p->clock, *p->services, workflow::Calendar());
  workflow::WorkflowService* engine = p->workflow.get();
  p->forms->SetOnSubmit([engine](db::Connection& c, const forms::Application& a, const nlohmann::json& definition,
                                 const audit::Actor& actor) { return engine->OnSubmitted(c, a, definition, actor); });
  notify::Settings notify_settings;
  notify_settings.smtp_host = config.notify.smtp_host;
  notify_settings.smtp_port = static_cast<std::uint16_t>(config.notify.smtp_port);
  notify_settings.mail_from = config.notify.mail_from;
  notify_settings.sms_url = config.notify.sms_url;
  notify_settings.sms_token = config.notify.sms_token;
  notify_settings.site_url = config.notify.site_url.empty()
                                 ? fmt::format("http://{}:{}", config.server.address, config.server.port)
                                 : config.notify.site_url;
  notify_settings.poll_interval = std::chrono::seconds(config.notify.poll_seconds);
  notify_settings.timeout = std::chrono::seconds(config.notify.timeout_seconds);
  certificates::Settings certificate_settings;
  certificate_settings.site_url = notify_settings.site_url;
  p->notify = std::make_unique<notify::NotifyService>(*p->db, p->clock, std::move(notify_settings));
  p->certificates = std::make_unique<certificates::CertificateService>(
      *p->db, p->clock, *p->keys, *p->services, *p->organisations, std::move(certificate_settings));
  certificates::CertificateService* issuer = p->certificates.get();
  p->workflow->SetCertificateIssuer([issuer](db::Connection& c, std::int64_t application_id, const std::string& now) {
    return issuer->Issue(c, application_id, now);
  });
  if (p->config.payments.sim_secret.empty()) p->config.payments.sim_secret = RandomHex(32);
  p->payment_gateway = std::make_unique<payments::SimulatedGateway>(*p->db, p->clock, p->config.payments.sim_secret,
                                                                    config.payments.sim_callbacks);
  p->payments = std::make_unique<payments::PaymentService>(*p->db, p->clock, *p->services, *p->organisations,
                                                           *p->payment_gateway);
  if (!config.payments.callback_origin.empty()) p->payments->SetCallbackOrigin(config.payments.callback_origin);
  keys::KeyRing* signer = p->keys.get();
  p->payments->SetReceiptSigner(
      [signer](const nlohmann::json& claims) { return certificates::SignClaims(*signer, claims); });
  p->payments->SetOnPaid([engine](db::Connection& c, std::int64_t application_id, const std::string& payment) {
    return engine->OnPaid(c, application_id, payment);
  });
  DZONG_ASSIGN_OR_RETURN(p->web, web::Web::Create(config.assets_dir, config.behind_tls));

  DZONG_TRY(AddOperationsRoutes(p->router, *p->db, p->metrics));
  DZONG_TRY(organisations::AddRoutes(p->router, *p->organisations));
  DZONG_TRY(identity::AddRoutes(p->router, *p->identity));
  DZONG_TRY(p->web->AddRoutes(p->router));
  DZONG_TRY(identity::AddPages(p->router, *p->identity, *p->web));
  DZONG_TRY(keys::AddRoutes(p->router, *p->keys));
  DZONG_TRY(registries::AddRoutes(p->router, *p->registries));
  DZONG_TRY(exchange::AddRoutes(p->router, *p->exchange, *p->registries, *p->keys));
  DZONG_TRY(exchange::AddPages(p->router, *p->exchange, *p->registries, *p->organisations, *p->web));
  DZONG_TRY(exchange::AddAgreementPages(p->router, *p->exchange, *p->registries, *p->organisations, *p->web));
  DZONG_TRY(registries::AddPages(p->router, *p->registries, *p->corrections, *p->web));
  DZONG_TRY(services::AddRoutes(p->router, *p->services));
  DZONG_TRY(services::AddCataloguePages(p->router, *p->services, *p->registries, *p->organisations, *p->web));
  DZONG_TRY(services::AddDesignerPages(p->router, *p->services, *p->registries, *p->organisations, *p->web));
  DZONG_TRY(forms::AddPages(p->router, *p->forms, *p->services, *p->registries, *p->organisations, *p->web));
  DZONG_TRY(forms::AddRoutes(p->router, *p->forms));
  DZONG_TRY(workflow::AddRoutes(p->router, *p->workflow));
  // workflow pages
  DZONG_TRY(workflow::AddTaskPages(p->router, *p->workflow, *p->web));
  DZONG_TRY(workflow::AddPages(p->router, *p->workflow, *p->forms, *p->registries, *p->web));
  DZONG_TRY(notify::AddPages(p->router, *p->notify, *p->web));
  DZONG_TRY(forms::AddAssistPages(p->router, *p->forms, *p->services, *p->registries, *p->organisations,
                                  *p->identity, *p->web));
  DZONG_TRY(payments::AddRoutes(p->router, *p->payments, *p->organisations, *p->web));
  DZONG_TRY(payments::AddSimulatedGatewayPages(p->router, *p->payment_gateway, *p->web));
  DZONG_TRY(certificates::AddRoutes(p->router, *p->certificates, *p->web));
  audit::ViewPolicy view_policy;
  view_policy.show_officer_names = config.audit.show_officer_names;
  DZONG_TRY(audit::AddRoutes(p->router, *p->db, *p->web, *p->organisations, view_policy));

  p->metrics.SetRoutes(RouteLabels(p->router));
  p->authenticator = std::make_unique<identity::Authenticator>(*p->identity, p->clock, config.operator_token);
  p->dispatcher = std::make_unique<http::Dispatcher>(p->router, p->metrics, *p->authenticator,
                                                     config.access_log ? p->log : nullptr);
  p->dispatcher->TrustProxies(config.trusted_proxies);
  p->appender = std::make_unique<audit::Appender>(*p->db, p->clock);
  audit::Appender* appender = p->appender.get();
  p->dispatcher->SetAudit([appender](const http::Request& r, const http::Route& route, bool denied,
                                     const http::Response& response) {
    audit::Event event = audit::CallEvent(
        audit::ActorOf(r), denied && route.audit_event == http::kNoAuditEvent ? "access.denied" : route.audit_event,
        route.method + " " + route.pattern, r.path, r.query, response.status, denied);
    std::vector<audit::Event> events;
    if (response.audit_subjects.empty()) {
      events.push_back(std::move(event));
    } else {
      // One event for each person whose data the answer showed.
      for (const std::string& subject : response.audit_subjects) {
        events.push_back(event);
        events.back().subject = subject;
      }
    }
    return appender->Record(std::move(events), denied ? nullptr : response.commit_with);
  });
  web::Web* shell = p->web.get();
  p->dispatcher->SetPageErrors(
      [shell](const http::Request& r, const Error& e, int status) { return shell->ErrorPage(r, e, status); },
      config.behind_tls);
  http::Dispatcher* dispatcher = p->dispatcher.get();
  // A page of a draft may carry files up to the largest document a service
  // may ask for (20 MiB), with room for the form around them.
  http::ServerOptions server_options = config.server;
  server_options.upload_prefixes = {"/my/drafts/", "/assist/"};
  server_options.upload_body_limit = std::max<std::size_t>(config.server.body_limit, 21 * 1024 * 1024);
  p->server = std::make_unique<http::Server>(
      server_options, [dispatcher](http::Request& r) { return dispatcher->Handle(r); },
      [dispatcher](http::Request& r, const Error& e) { return dispatcher->Reject(r, e); });
  p->server->OnShutdown([dispatcher] { dispatcher->BeginShutdown(); });
  return std::unique_ptr<App>(new App(std::move(p)));
}

Result<db::MigrationReport> App::Migrate() {
  const auto modules = AllMigrations();
  return db::Migrate(*parts_->db, modules, parts_->clock);
}

Result<std::string> App::Seed(bool demo, std::int64_t population, std::uint64_t population_seed) {
  DZONG_TRY(Migrate());
  DZONG_ASSIGN_OR_RETURN(auto seed, organisations::DefaultSeed());
  audit::Actor seeder;
  seeder.id = "seed";
  DZONG_ASSIGN_OR_RETURN(auto report, parts_->organisations->Seed(seed, seeder));
  DZONG_ASSIGN_OR_RETURN(std::string identity, parts_->identity->Seed(demo));
  DZONG_ASSIGN_OR_RETURN(int registries, parts_->registries->SeedDefinitions(seeder));
  DZONG_ASSIGN_OR_RETURN(int services, parts_->services->SeedDefinitions(seeder));
  DZONG_ASSIGN_OR_RETURN(int holidays, workflow::SeedHolidays(*parts_->db));
  if (demo) DZONG_TRY(SeedDemoAgreements());
  if (demo) DZONG_TRY(parts_->notify->SeedDemoContacts());
  std::string people;
  if (population > 0) {
    DZONG_ASSIGN_OR_RETURN(auto made, parts_->registries->SeedPopulation(population, population_seed, demo, seeder));
    people = fmt::format("; population: {} people added, {} already present; land: {} plots; business licences: {}",
                         made.people, made.already_present, made.plots, made.licences);
  }
  return fmt::format(
      "organisations: {} added, {} already present; {}; registries: {} added; services: {} added; public holidays: {} "
      "added{}",
      report.inserted, report.already_present, identity, registries, services, holidays, people);
}

Status App::SeedDemoAgreements() {
  // The seeded services of agencies other than DCRC fill in their forms
  // from the population register: each agency holds an approved agreement
  // with DCRC, on the applicant's consent, for the fields its form shows.
  struct Demo {
    const char* consumer;
    const char* service;
    std::vector<std::string> fields;
  };
  const Demo demos[] = {
      {"RBP", "security-clearance",
       {"given_name", "surname", "date_of_birth", "dzongkhag", "gewog", "village", "household_number"}},
      {"MOICE", "business-licence", {"given_name", "surname"}},
      {"NLCS", "land-transfer", {"given_name", "surname"}},
  };
  DZONG_ASSIGN_OR_RETURN(auto existing, parts_->exchange->ForOrganisation("DCRC"));
  const std::string today = FormatUtc(parts_->clock.Now()).substr(0, 10);
  for (const Demo& d : demos) {
    const std::string purpose = std::string("service:") + d.service;
    if (std::any_of(existing.begin(), existing.end(), [&](const exchange::Agreement& a) {
          return a.consumer == d.consumer && a.purpose_code == purpose;
        })) {
      continue;
    }
    exchange::Agreement a;
    a.consumer = d.consumer;
    a.subsystem = fmt::format("BT/GOV/{}/SERVICES", d.consumer);
    a.registry = "population";
    a.fields = d.fields;
    a.purpose_code = purpose;
    a.purpose_text = fmt::format("Filling in the {} form from the applicant's census record, with their consent",
                                 d.service);
    a.legal_basis = "consent";
    a.legal_reference = "The applicant's consent, asked on the service's start page and recorded as a signed artefact";
    a.valid_from = today;
    a.valid_to = std::to_string(std::stoi(today.substr(0, 4)) + 5) + today.substr(4);
    audit::Actor consumer;
    consumer.id = "seed";
    consumer.organisation = d.consumer;
    DZONG_ASSIGN_OR_RETURN(exchange::Agreement asked, parts_->exchange->Request(a, consumer));
    audit::Actor custodian;
    custodian.id = "seed";
    custodian.organisation = "DCRC";
    DZONG_TRY(parts_->exchange->Decide(asked.id, "approve", "Demo agreement for the seeded service", custodian));
  }
  return {};
}

identity::IdentityService& App::Identity() { return *parts_->identity; }
web::Web& App::Web() { return *parts_->web; }
db::Database& App::Database() { return *parts_->db; }

Result<std::uint16_t> App::Listen() {
  Parts& p = *parts_;
  if (p.config.key_encryption_key.empty() && !p.keys->HasToken()) {
    return Error("config.invalid",
                 "keys.encryption_key (or DZONG_KEY_ENCRYPTION_KEY) must be set: the audit log's checkpoints are "
                 "signed with a key sealed under it");
  }
  if (auto probe = p.keys->Sign("dzong: the signing key is usable"); !probe.ok()) return probe.error();
  DZONG_TRY(LoadWorkingCalendar());
  std::shared_ptr<spdlog::logger> log = p.log;
  p.escalator = std::make_unique<workflow::Escalator>(*p.workflow, p.config.workflow.escalation_interval,
                                                      [log](const Error& e) {
                                                        if (log) log->error(R"({{"type":"event","event":"workflow.escalation_failed","message":{}}})",
                                                                            nlohmann::json(e.message).dump());
                                                      });
  p.checkpointer = std::make_unique<audit::Checkpointer>(
      *p.db, *p.keys, p.clock, p.config.audit.checkpoint_every, p.config.audit.checkpoint_interval,
      [log](const Error& e) {
        if (log) log->error(R"({{"type":"event","event":"audit.checkpoint_failed","message":{}}})",
                            nlohmann::json(e.message).dump());
      });
  const notify::Settings& notices = p.notify->settings();
  if ((notices.Mail() || notices.Sms()) && notices.poll_interval.count() > 0) {
    p.sender = std::make_unique<notify::Sender>(*p.notify, p.clock, notices.poll_interval, [log](const Error& e) {
      if (log) log->error(R"({{"type":"event","event":"notify.send_failed","message":{}}})",
                          nlohmann::json(e.message).dump());
    });
  }
  DZONG_ASSIGN_OR_RETURN(std::uint16_t port, p.server->Listen());
  // This server's own address, for what the configuration did not name.
  const std::string& address = p.config.server.address;
  const bool any = address.empty() || address == "0.0.0.0" || address == "::";
  const std::string host = any ? "127.0.0.1" : address.find(':') != std::string::npos ? "[" + address + "]" : address;
  const std::string own_origin = fmt::format("http://{}:{}", host, port);
  // Gateways inside this server post their callbacks to it over loopback.
  if (p.config.payments.callback_origin.empty()) p.payments->SetCallbackOrigin(own_origin);
  // Verification links and the did:web name the port the server really got.
  if (p.config.notify.site_url.empty()) p.certificates->SetSiteUrl(own_origin);
  return port;
}

void App::Serve(bool signals) {
  if (signals) parts_->server->StopOnSignals();
  parts_->server->Run();
}

void App::Shutdown() { parts_->server->Shutdown(); }

keys::KeyRing& App::Keys() { return *parts_->keys; }
registries::RegistryService& App::Registries() { return *parts_->registries; }
exchange::ExchangeService& App::Exchange() { return *parts_->exchange; }
registries::CorrectionService& App::Corrections() { return *parts_->corrections; }
services::ServiceCatalogue& App::Services() { return *parts_->services; }
forms::FormService& App::Forms() { return *parts_->forms; }
workflow::WorkflowService& App::Workflow() { return *parts_->workflow; }

Status App::LoadWorkingCalendar() {
  DZONG_ASSIGN_OR_RETURN(auto weekend, workflow::ParseWeekend(parts_->config.workflow.weekend));
  DZONG_ASSIGN_OR_RETURN(workflow::Calendar calendar, workflow::LoadCalendar(*parts_->db, weekend));
  parts_->workflow->SetCalendar(std::move(calendar));
  return {};
}
notify::NotifyService& App::Notifications() { return *parts_->notify; }
payments::PaymentService& App::Payments() { return *parts_->payments; }
certificates::CertificateService& App::Certificates() { return *parts_->certificates; }
const Config& App::Settings() const { return parts_->config; }
const Clock& App::Time() const { return parts_->clock; }

std::vector<App::RouteInfo> App::Routes() const {
  std::vector<RouteInfo> out;
  for (const auto& r : parts_->router.routes()) out.push_back({r.method, r.pattern, r.permission, r.audit_event});
  return out;
}

}  // namespace dzong
