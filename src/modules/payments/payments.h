#pragma once
// Paying the fee of an application. The citizen is sent to a payment
// gateway, pays (or declines, cancels, or leaves the payment pending), and
// comes back; the gateway tells the platform the outcome by a signed
// callback, and the platform can ask it at any time (a signed status query).
// A payment's change of status, its history row and its audit event commit
// together; the workflow hears of a settled fee through the OnPaid hook, in
// the same transaction, exactly once per payment.
//
// Gateways. `Gateway` is the platform's side of a hosted-payment-page flow:
//   Start   – register a payment with the gateway and get the URL the
//             citizen's browser is sent to;
//   Verify  – check a callback's signature and read its outcome;
//   Query   – ask the gateway for a payment's status (a signed request of
//             the platform's own, for payments whose callback never came);
//   Refund  – give the money back.
// The built-in SimulatedGateway implements it inside this server (its pages
// are under /payment-gateway/sim/) and is what the embedded default uses.
// An adapter for Bhutan's RMA payment gateway fits the same interface: Start
// builds the signed authorisation request (merchant id, order number =
// payment reference, amount, currency BTN, return URL) and returns the
// gateway's URL the browser is posted to; Verify checks the signed
// authorisation confirmation the gateway sends back (its checksum with the
// merchant's key); Query sends the signed status enquiry for the order
// number; Refund calls the gateway's refund request. Such an adapter is
// constructed in src/main/ with its keys from the configuration, and passed
// to PaymentService in place of the simulated one.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/embedded.h"
#include "base/result.h"
#include "db/database.h"
#include "http/message.h"
#include "modules/audit/audit.h"

namespace dzong::http {
class Router;
}
namespace dzong::web {
class Web;
}
namespace dzong::services {
class ServiceCatalogue;
}
namespace dzong::organisations {
class OrganisationService;
}

namespace dzong::payments {

namespace errc {
inline constexpr char kNotFound[] = "payments.not_found";
inline constexpr char kApplicationNotFound[] = "payments.application_not_found";
inline constexpr char kNothingOwed[] = "payments.nothing_owed";
inline constexpr char kAlreadyPaid[] = "payments.already_paid";
inline constexpr char kBadSignature[] = "payments.bad_signature";
inline constexpr char kUnknownGateway[] = "payments.unknown_gateway";
inline constexpr char kNotRefundable[] = "payments.not_refundable";
inline constexpr char kForbidden[] = "payments.forbidden";
inline constexpr char kGatewayFailed[] = "payments.gateway_failed";
inline constexpr char kAmountMismatch[] = "payments.amount_mismatch";
inline constexpr char kNotPaid[] = "payments.not_paid";
}  // namespace errc

/// "Nu. 5,100.00" for 510000 chhertum.
std::string FormatNu(std::int64_t chhertum);

/// Statuses of a payment. Final: succeeded, failed, cancelled, refunded.
inline constexpr char kInitiated[] = "initiated";
inline constexpr char kPending[] = "pending";
inline constexpr char kSucceeded[] = "succeeded";
inline constexpr char kFailed[] = "failed";
inline constexpr char kCancelled[] = "cancelled";
inline constexpr char kRefunded[] = "refunded";

struct Payment {
  std::int64_t id = 0;
  std::string reference;  ///< PAY-OWNER-YEAR-SEQUENCE, e.g. PAY-MOICE-2026-000001
  std::int64_t application_id = 0;
  std::string application_reference;
  std::string owner;   ///< the organisation the fee is paid to
  std::string payer;   ///< the applicant's CID
  std::int64_t amount = 0;  ///< chhertum
  std::string status;
  std::string gateway;
  std::optional<std::string> gateway_transaction;
  std::optional<std::string> redirect_url;
  std::string created_at;  ///< UTC
  std::string updated_at;
  std::optional<std::string> settled_at;  ///< when it succeeded, failed or was cancelled
  std::optional<std::string> refunded_at;
  std::optional<std::string> refunded_by;
  std::optional<std::string> refund_reason;

  bool Open() const { return status == kInitiated || status == kPending; }
};

/// A payment's history row.
struct PaymentEvent {
  std::string at;
  std::optional<std::string> from;
  std::string to;
  std::string source;  ///< start, callback, status_query, refund
  std::string actor;
};

/// What a gateway is asked to collect.
struct GatewayRequest {
  std::string payment_reference;
  std::int64_t amount = 0;  ///< chhertum
  std::string merchant_code;
  std::string merchant_name;
  std::string description;
  std::string callback_url;  ///< absolute: where the gateway posts the outcome
  std::string return_url;    ///< where the gateway sends the citizen's browser back
};

struct GatewayStart {
  std::string transaction_id;
  std::string redirect_url;
};

/// An outcome as the gateway states it.
struct GatewayOutcome {
  std::string payment_reference;
  std::string transaction_id;
  std::string status;  ///< pending, succeeded, failed, cancelled (open: nothing decided yet)
  std::int64_t amount = 0;
};

class Gateway {
 public:
  virtual ~Gateway() = default;
  /// The name in callback paths and payment rows: "sim".
  virtual std::string Name() const = 0;
  /// Errors: payments.gateway_failed.
  virtual Result<GatewayStart> Start(const GatewayRequest& request) = 0;
  /// Checks the callback's signature over its body. Errors:
  /// payments.bad_signature (missing, wrong, or a body that does not parse).
  virtual Result<GatewayOutcome> Verify(const http::Request& callback) = 0;
  /// Errors: payments.gateway_failed, payments.not_found.
  virtual Result<GatewayOutcome> Query(const std::string& transaction_id) = 0;
  /// Gives the whole amount back. Errors: payments.gateway_failed.
  virtual Status Refund(const std::string& transaction_id, std::int64_t amount, const std::string& reason) = 0;
};

/// The gateway built into the server, for the embedded default and the
/// tests: its payment page is /payment-gateway/sim/{token} (merchant, amount
/// and the buttons Pay, Decline, Cancel and Leave pending); it signs its
/// callbacks with HMAC-SHA256 under `secret` over the exact body sent (a
/// compact JSON object), in the header X-Payment-Signature as lower-case hex,
/// and posts them from a thread of its own to the callback URL, retrying a
/// few times. With `send_callbacks` false it only sends the browser back, and
/// the platform learns the outcome by status query.
class SimulatedGateway final : public Gateway {
 public:
  SimulatedGateway(db::Database& db, const Clock& clock, std::string secret, bool send_callbacks);
  ~SimulatedGateway() override;

  std::string Name() const override { return "sim"; }
  Result<GatewayStart> Start(const GatewayRequest& request) override;
  Result<GatewayOutcome> Verify(const http::Request& callback) override;
  Result<GatewayOutcome> Query(const std::string& transaction_id) override;
  Status Refund(const std::string& transaction_id, std::int64_t amount, const std::string& reason) override;

  /// A transaction as the gateway's page shows it.
  struct Transaction {
    std::string token, transaction_id, payment_reference, merchant_code, merchant_name, description, callback_url,
        return_url, status;
    std::int64_t amount = 0;
  };
  /// Errors: payments.not_found.
  Result<Transaction> Find(const std::string& token);
  /// The citizen's choice on the page: pay, decline, cancel or pending.
  /// Records it, sends the signed callback, and returns the return URL.
  /// An open or pending transaction may be decided; a decided one is not
  /// changed again. Errors: payments.not_found, request.invalid.
  Result<std::string> Decide(const std::string& token, const std::string& choice);
  /// The canonical body and its signature, as the callback carries them.
  std::pair<std::string, std::string> SignedCallback(const Transaction& t) const;

 private:
  struct Delivery;
  db::Database& db_;
  const Clock& clock_;
  std::string secret_;
  bool send_callbacks_;
  std::unique_ptr<Delivery> delivery_;
};

/// The simulated gateway's pages.
Status AddSimulatedGatewayPages(http::Router& router, SimulatedGateway& gateway, web::Web& web);

class PaymentService {
 public:
  /// Called inside the transaction that records a payment's success,
  /// exactly once per payment. An error rolls the success back.
  using OnPaid = std::function<Status(db::Connection&, std::int64_t application_id, const std::string& payment_reference)>;

  /// `callback_origin`: the absolute origin gateways post callbacks to
  /// ("http://127.0.0.1:8080"); may be set later with SetCallbackOrigin.
  PaymentService(db::Database& db, const Clock& clock, services::ServiceCatalogue& catalogue,
                 organisations::OrganisationService& organisations, Gateway& gateway);

  void SetOnPaid(OnPaid hook);
  void SetCallbackOrigin(std::string origin);

  /// True when the application owes nothing: fee 0, or a succeeded payment
  /// of the full fee that has not been refunded.
  Result<bool> Settled(db::Connection& c, std::int64_t application_id);

  /// What an application owes its applicant's view of it.
  struct Owing {
    std::int64_t application_id = 0;
    std::string application_reference;
    std::string service;
    std::int64_t version = 0;
    std::string owner;
    std::string applicant;
    nlohmann::json service_title;  ///< {en, dz}
    std::int64_t fee = 0;          ///< chhertum
    bool settled = false;
    std::vector<Payment> payments;  ///< newest first
  };
  /// Errors: payments.application_not_found (also someone else's).
  Result<Owing> Owed(const std::string& application_reference, const std::string& applicant);

  /// Starts a payment of the whole fee and registers it with the gateway;
  /// the citizen's browser goes to its redirect_url. An open payment of
  /// the application is cancelled first (the citizen started again).
  /// Errors: payments.application_not_found, payments.nothing_owed,
  /// payments.already_paid, payments.gateway_failed.
  Result<Payment> Start(const std::string& application_reference, const std::string& applicant,
                        const audit::Actor& actor);

  /// A gateway's callback: verified, then applied. A repeated callback
  /// changes nothing. Errors: payments.unknown_gateway,
  /// payments.bad_signature, payments.not_found, payments.amount_mismatch.
  Result<Payment> Callback(const std::string& gateway, const http::Request& request, const audit::Actor& actor);
  /// Asks the gateway about an open payment and applies its answer.
  Result<Payment> Refresh(const std::string& reference, const audit::Actor& actor);
  /// Refunds a succeeded payment. The actor must be of the owner.
  /// Errors: request.invalid (reason), payments.forbidden,
  /// payments.not_refundable, payments.gateway_failed.
  Result<Payment> Refund(const std::string& reference, const std::string& reason, const audit::Actor& actor);

  /// Errors: payments.not_found.
  Result<Payment> Get(const std::string& reference);
  Result<std::vector<PaymentEvent>> History(std::int64_t payment_id);
  /// The owner's payments started on a day of Bhutan time ("2026-11-30").
  Result<std::vector<Payment>> ForDay(const std::string& owner, const std::string& day);
  /// The day's reconciliation report as CSV: one row per payment.
  Result<std::string> ReconciliationCsv(const std::string& owner, const std::string& day);
  /// A catalogue text in English (`dzongkha` false) or Dzongkha.
  using Labels = std::function<std::string(const std::string& key, bool dzongkha)>;
  /// The receipt of a succeeded (or refunded) payment as a bilingual A4 PDF.
  /// Errors: payments.not_paid, render.failed.
  Result<std::string> ReceiptPdf(const Payment& payment, const Labels& labels);
  /// Signs a receipt's claims as certificates are signed, and returns the
  /// compact payload ("DZ1.…") its QR code and metadata carry.
  using ReceiptSigner = std::function<Result<std::string>(const nlohmann::json& claims)>;
  void SetReceiptSigner(ReceiptSigner signer) { receipt_signer_ = std::move(signer); }

 private:
  Result<std::int64_t> FeeOf(const std::string& service, std::int64_t version, const nlohmann::json& answers);
  Result<Payment> Apply(const GatewayOutcome& outcome, const std::string& source, const audit::Actor& actor);

  db::Database& db_;
  const Clock& clock_;
  services::ServiceCatalogue& catalogue_;
  organisations::OrganisationService& organisations_;
  Gateway& gateway_;
  OnPaid on_paid_;
  ReceiptSigner receipt_signer_;
  std::string callback_origin_ = "http://127.0.0.1:8080";
};

/// The citizen's pages (/my/applications/{ref}/pay, /my/payments/…), the
/// officials' pages (/payments, the reconciliation CSV, refunds), the JSON
/// API (/api/v1/payments/…) and the gateways' callback route.
Status AddRoutes(http::Router& router, PaymentService& payments, organisations::OrganisationService& organisations,
                 web::Web& web);

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::payments
