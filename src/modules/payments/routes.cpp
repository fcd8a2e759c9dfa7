// The payment routes: the citizen's pages (what is owed, the return from
// the gateway, the receipt), the officials' day of payments with refunds
// and the reconciliation CSV, the JSON API and the gateways' callback.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/organisations/organisations.h"
#include "modules/payments/payments.h"
#include "modules/services/services.h"
#include "web/web.h"

namespace dzong::payments {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

/// Today in Bhutan (UTC+6), "2026-11-30".
std::string BhutanDay() {
  const auto now = std::chrono::system_clock::now() + std::chrono::hours(6);
  return FormatUtc(now).substr(0, 10);
}

json PaymentJson(const Payment& p) {
  const auto opt = [](const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); };
  return json{{"reference", p.reference},
              {"application_reference", p.application_reference},
              {"organisation", p.owner},
              {"payer", p.payer},
              {"amount_chhertum", p.amount},
              {"amount", FormatNu(p.amount)},
              {"status", p.status},
              {"gateway", p.gateway},
              {"gateway_transaction", opt(p.gateway_transaction)},
              {"created_at", p.created_at},
              {"updated_at", p.updated_at},
              {"settled_at", opt(p.settled_at)},
              {"refunded_at", opt(p.refunded_at)},
              {"refund_reason", opt(p.refund_reason)}};
}

/// The payer sees their payment; officials who reconcile see their
/// organisation's.
bool MaySee(const Request& r, const Payment& p) {
  if (r.principal.kind == "citizen") return r.principal.id == p.payer;
  return r.principal.May("payments.reconcile") && r.principal.organisation && *r.principal.organisation == p.owner;
}

class Routes {
 public:
  Routes(PaymentService& payments, organisations::OrganisationService& organisations, web::Web& web)
      : payments_(payments), organisations_(organisations), web_(web) {}

  std::string OrganisationName(const Request& r, const std::string& code) {
    auto o = organisations_.Get(code);
    if (!o.ok()) return code;
    return web_.Language(r) == "dz" && o->name_dz ? *o->name_dz : o->name_en;
  }

  std::string StatusText(const Request& r, const std::string& status) { return web_.Text(r, "pay_status_" + status); }

  json PaymentRow(const Request& r, const Payment& p) {
    return json{{"reference", p.reference},
                {"application", p.application_reference},
                {"payer", p.payer},
                {"amount", FormatNu(p.amount)},
                {"status", StatusText(r, p.status)},
                {"status_code", p.status},
                {"succeeded", p.status == kSucceeded},
                {"paid", p.status == kSucceeded || p.status == kRefunded},
                {"started", web::BhutanTime(p.created_at)},
                {"settled", p.settled_at ? web::BhutanTime(*p.settled_at) : ""},
                {"refund_reason", p.refund_reason.value_or("")}};
  }

  // --- the citizen -------------------------------------------------------

  Response Owed(const Request& r, const std::string& ref) {
    auto owing = payments_.Owed(ref, r.principal.id);
    if (!owing.ok()) return web_.ErrorPage(r, owing.error(), 404);
    json payments = json::array();
    for (const Payment& p : owing->payments) payments.push_back(PaymentRow(r, p));
    const bool owes = owing->fee > 0 && !owing->settled;
    json context{{"reference", owing->application_reference},
                 {"service", services::TextIn(owing->service_title, web_.Language(r))},
                 {"organisation", OrganisationName(r, owing->owner)},
                 {"fee", FormatNu(owing->fee)},
                 {"no_fee", owing->fee <= 0},
                 {"owes", owes},
                 {"settled", owing->fee > 0 && owing->settled},
                 {"pay_label", fmt::format("{} {}", web_.Text(r, "pay_button"), FormatNu(owing->fee))},
                 {"payments", payments},
                 {"has_payments", !payments.empty()}};
    return web_.Page(r, "pay_owed", "pay_owed_title", context);
  }

  Response StartPayment(const Request& r, const std::string& ref) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), http::StatusFor(form.error().code));
    auto started = payments_.Start(ref, r.principal.id, audit::ActorOf(r));
    if (!started.ok()) {
      const std::string& code = started.error().code;
      if (code == errc::kNothingOwed || code == errc::kAlreadyPaid) {
        return web::Web::Redirect("/my/applications/" + http::PercentEncode(ref) + "/pay");
      }
      return web_.ErrorPage(r, started.error(), http::StatusFor(code));
    }
    return web::Web::Redirect(started->redirect_url.value_or("/my/payments/" + started->reference));
  }

  /// The page the gateway sends the citizen back to.
  Response Returned(const Request& r, const std::string& reference) {
    auto p = payments_.Get(reference);
    if (!p.ok() || p->payer != r.principal.id) return web_.ErrorPage(r, Error(errc::kNotFound, "no such payment"), 404);
    if (p->Open()) {
      // The callback may not have come yet: ask the gateway.
      auto asked = payments_.Refresh(reference, audit::ActorOf(r));
      if (asked.ok()) p = std::move(asked);
    }
    json context = PaymentRow(r, *p);
    context["organisation"] = OrganisationName(r, p->owner);
    context["is_" + p->status] = true;
    context["retry"] = p->status == kFailed || p->status == kCancelled;
    context["open"] = p->Open();
    context["title_key"] = "pay_outcome_" + p->status;
    context["heading"] = web_.Text(r, "pay_outcome_" + p->status);
    return web_.Page(r, "pay_return", "pay_outcome_" + p->status, context);
  }

  Response Check(const Request& r, const std::string& reference) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), http::StatusFor(form.error().code));
    auto p = payments_.Get(reference);
    if (!p.ok() || p->payer != r.principal.id) return web_.ErrorPage(r, Error(errc::kNotFound, "no such payment"), 404);
    auto asked = payments_.Refresh(reference, audit::ActorOf(r));
    if (!asked.ok()) return web_.ErrorPage(r, asked.error(), http::StatusFor(asked.error().code));
    return web::Web::Redirect("/my/payments/" + http::PercentEncode(reference));
  }

  Response Receipt(const Request& r, const std::string& reference) {
    auto p = payments_.Get(reference);
    if (!p.ok() || !MaySee(r, *p)) return web_.ErrorPage(r, Error(errc::kNotFound, "no such payment"), 404);
    http::Request english, dzongkha;
    english.headers.push_back({"Cookie", std::string(web::kLanguageCookie) + "=en"});
    dzongkha.headers.push_back({"Cookie", std::string(web::kLanguageCookie) + "=dz"});
    auto pdf = payments_.ReceiptPdf(*p, [&](const std::string& key, bool dz) {
      return web_.Text(dz ? dzongkha : english, key);
    });
    if (!pdf.ok()) return web_.ErrorPage(r, pdf.error(), http::StatusFor(pdf.error().code));
    Response out;
    out.content_type = "application/pdf";
    out.body = std::move(*pdf);
    out.SetHeader("Content-Disposition", fmt::format("inline; filename=\"receipt-{}.pdf\"", p->reference));
    out.audit_subjects.push_back(p->payer);
    return out;
  }

  // --- officials ---------------------------------------------------------

  json DayContext(const Request& r, const std::string& day, const std::vector<Payment>& list) {
    json rows = json::array();
    std::int64_t received = 0;
    for (const Payment& p : list) {
      json row = PaymentRow(r, p);
      row["may_refund"] = p.status == kSucceeded && r.principal.May("payments.refund");
      rows.push_back(std::move(row));
      if (p.status == kSucceeded) received += p.amount;
    }
    return json{{"date", day},
                {"organisation", OrganisationName(r, r.principal.organisation.value_or(""))},
                {"payments", rows},
                {"none", rows.empty()},
                {"received", FormatNu(received)},
                {"csv", "/payments/reconciliation.csv?date=" + day}};
  }

  /// The date asked for, or today in Bhutan; nullopt when malformed.
  static std::optional<std::string> DayOf(const Request& r) {
    const auto asked = r.QueryParam("date");
    if (!asked || asked->empty()) return BhutanDay();
    if (!ParseDate(*asked)) return std::nullopt;
    return *asked;
  }

  Response Day(const Request& r) {
    if (!r.principal.organisation) return web_.ErrorPage(r, Error(errc::kForbidden, "not an official"), 403);
    const auto day = DayOf(r);
    if (!day) {
      return web_.ShowProblems(r, "pay_day", "pay_day_title", DayContext(r, BhutanDay(), {}),
                               {{"date", "date", web_.Text(r, "pay_problem_date")}});
    }
    auto list = payments_.ForDay(*r.principal.organisation, *day);
    if (!list.ok()) return web_.ErrorPage(r, list.error(), http::StatusFor(list.error().code));
    return web_.Page(r, "pay_day", "pay_day_title", DayContext(r, *day, *list));
  }

  Response Csv(const Request& r) {
    if (!r.principal.organisation) return http::ErrorResponse(Error(errc::kForbidden, "not an official"), r.request_id);
    const auto day = DayOf(r);
    if (!day) {
      return http::ErrorResponse(Invalid({{"date", "date", "date must be a day written YYYY-MM-DD"}}), r.request_id);
    }
    auto csv = payments_.ReconciliationCsv(*r.principal.organisation, *day);
    if (!csv.ok()) return http::ErrorResponse(csv.error(), r.request_id);
    Response out;
    out.content_type = "text/csv; charset=utf-8";
    out.body = std::move(*csv);
    out.SetHeader("Content-Disposition",
                  fmt::format("attachment; filename=\"payments-{}-{}.csv\"", *r.principal.organisation, *day));
    return out;
  }

  Response RefundForm(const Request& r, const std::string& reference) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), http::StatusFor(form.error().code));
    const auto reason = form->find("reason");
    auto p = payments_.Get(reference);
    if (!p.ok()) return web_.ErrorPage(r, p.error(), 404);
    const std::string day = web::BhutanTime(p->created_at);  // "30-11-2026 21:58"
    const std::string iso = day.size() >= 10 ? day.substr(6, 4) + "-" + day.substr(3, 2) + "-" + day.substr(0, 2)
                                             : BhutanDay();
    auto refunded = payments_.Refund(reference, reason == form->end() ? "" : reason->second, audit::ActorOf(r));
    if (!refunded.ok()) {
      const Error& e = refunded.error();
      if (e.code == dzong::errc::kValidation) {
        auto list = payments_.ForDay(p->owner, iso);
        json context = DayContext(r, iso, list.ok() ? *list : std::vector<Payment>{});
        context["refund_error_for"] = reference;
        for (auto& row : context["payments"]) row["refund_error"] = row["reference"] == reference;
        return web_.ShowProblems(r, "pay_day", "pay_day_title", context,
                                 {{"reason-" + reference, "required", web_.Text(r, "pay_problem_reason")}});
      }
      return web_.ErrorPage(r, e, http::StatusFor(e.code));
    }
    return web::Web::Redirect("/payments?date=" + iso);
  }

  // --- JSON --------------------------------------------------------------

  Response ApiGet(const Request& r, const std::string& reference) {
    auto p = payments_.Get(reference);
    if (!p.ok() || !MaySee(r, *p)) return http::ErrorResponse(Error(errc::kNotFound, "no such payment"), r.request_id);
    Response out = http::JsonResponse(200, PaymentJson(*p));
    out.audit_subjects.push_back(p->payer);
    return out;
  }

  Response ApiRefund(const Request& r, const std::string& reference) {
    auto body = http::ParseJsonObject(r);
    if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
    http::ObjectReader reader(*body, {"reason"});
    auto reason = reader.RequiredString("reason", 1, 1000);
    if (Status s = reader.Finish(); !s.ok()) return http::ErrorResponse(s.error(), r.request_id);
    auto refunded = payments_.Refund(reference, *reason, audit::ActorOf(r));
    if (!refunded.ok()) return http::ErrorResponse(refunded.error(), r.request_id);
    return http::JsonResponse(200, PaymentJson(*refunded));
  }

  Response ApiCallback(const Request& r, const std::string& gateway) {
    auto applied = payments_.Callback(gateway, r, audit::ActorOf(r));
    if (!applied.ok()) return http::ErrorResponse(applied.error(), r.request_id);
    return http::JsonResponse(200, {{"reference", applied->reference}, {"status", applied->status}});
  }

 private:
  PaymentService& payments_;
  organisations::OrganisationService& organisations_;
  web::Web& web_;
};

}  // namespace

Status AddRoutes(http::Router& router, PaymentService& payments, organisations::OrganisationService& organisations,
                 web::Web& web) {
  auto routes = std::make_shared<Routes>(payments, organisations, web);
  using P = http::PathParams;
  DZONG_TRY(router.Add({"GET", "/my/applications/{reference}/pay", "consent.self", "payments.owed_read",
                        [routes](const Request& r, const P& p) { return routes->Owed(r, p.at("reference")); },
                        "what an application of mine owes, with the button to pay it"}));
  DZONG_TRY(router.Add({"POST", "/my/applications/{reference}/pay", "consent.self", "payments.start",
                        [routes](const Request& r, const P& p) { return routes->StartPayment(r, p.at("reference")); },
                        "start paying an application's fee: to the payment gateway"}));
  DZONG_TRY(router.Add({"GET", "/my/payments/{reference}", "consent.self", "payments.read",
                        [routes](const Request& r, const P& p) { return routes->Returned(r, p.at("reference")); },
                        "a payment of mine and its outcome (where the gateway sends me back)"}));
  DZONG_TRY(router.Add({"POST", "/my/payments/{reference}/check", "consent.self", "payments.status_query",
                        [routes](const Request& r, const P& p) { return routes->Check(r, p.at("reference")); },
                        "ask the gateway again about a pending payment of mine"}));
  DZONG_TRY(router.Add({"GET", "/my/payments/{reference}/receipt.pdf", "account.self", "payments.receipt_read",
                        [routes](const Request& r, const P& p) { return routes->Receipt(r, p.at("reference")); },
                        "the receipt of a payment, as PDF: for the payer and the organisation's officials"}));
  DZONG_TRY(router.Add({"GET", "/payments", "payments.reconcile", "payments.day_read",
                        [routes](const Request& r, const P&) { return routes->Day(r); },
                        "my organisation's payments of a day, with refunds"}));
  DZONG_TRY(router.Add({"GET", "/payments/reconciliation.csv", "payments.reconcile", "payments.reconciliation_read",
                        [routes](const Request& r, const P&) { return routes->Csv(r); },
                        "my organisation's reconciliation report of a day (Bhutan time), as CSV"}));
  DZONG_TRY(router.Add({"POST", "/payments/{reference}/refund", "payments.refund", "payments.refund",
                        [routes](const Request& r, const P& p) { return routes->RefundForm(r, p.at("reference")); },
                        "refund a payment to my organisation, with the reason"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/payments/{reference}", "account.self", "payments.read",
                        [routes](const Request& r, const P& p) { return routes->ApiGet(r, p.at("reference")); },
                        "a payment: for the payer and the organisation's officials"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/payments/{reference}/refund", "payments.refund", "payments.refund",
                        [routes](const Request& r, const P& p) { return routes->ApiRefund(r, p.at("reference")); },
                        "refund a payment to my organisation, with the reason"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/payment-callbacks/{gateway}", http::kPublic, "payments.callback",
                        [routes](const Request& r, const P& p) { return routes->ApiCallback(r, p.at("gateway")); },
                        "a payment gateway's signed notice of a payment's outcome"}));
  return {};
}

}  // namespace dzong::payments
