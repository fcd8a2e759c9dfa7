#include "http/errors.h"

#include <nlohmann/json.hpp>

namespace dzong::http {
namespace {

// Module codes are listed here too, so that one place says what each means
// on the wire. A test checks that every code a module declares is present.
constexpr ErrorStatus kTable[] = {
    {errc::kInternal, 500},
    {errc::kValidation, 422},
    {errc::kMalformedJson, 400},
    {errc::kMalformedHttp, 400},
    {errc::kBodyTooLarge, 413},
    {errc::kHeadersTooLarge, 431},
    {errc::kUnsupportedMediaType, 415},
    {errc::kNotFound, 404},
    {errc::kMethodNotAllowed, 405},
    {errc::kUnauthenticated, 401},
    {errc::kForbidden, 403},
    {errc::kConflict, 412},
    {errc::kPreconditionRequired, 428},
    {errc::kDbUnavailable, 503},
    {errc::kDbConstraint, 409},
    {errc::kShuttingDown, 503},
    {"organisations.not_found", 404},
    {"organisations.already_exists", 409},
    {"organisations.parent_not_found", 422},
    {"organisations.parent_cycle", 422},
    {"identity.invalid_credentials", 401},
    {"identity.account_locked", 423},
    {"identity.too_many_attempts", 429},
    {"identity.totp_invalid", 422},
    {"identity.totp_replayed", 422},
    {"identity.session_invalid", 401},
    {"identity.token_invalid", 401},
    {"identity.reset_token_invalid", 422},
    {"identity.not_found", 404},
    {"identity.already_exists", 409},
    {"identity.outside_organisation", 403},
    {"identity.second_approver_required", 403},
    {"identity.csrf_failed", 422},
    {"notify.unknown_template", 422},
    {"notify.invalid_notice", 422},
    {"notify.not_found", 404},
    {"notify.not_failed", 409},
    {"keys.no_key_encryption_key", 503},
    {"keys.wrong_key_encryption_key", 503},
    {"keys.not_found", 404},
    {"keys.active", 409},
    {"keys.invalid_jwks", 422},
    {"audit.invalid_export", 422},
    {"audit.empty", 404},
    {"registries.not_found", 404},
    {"registries.record_not_found", 404},
    {"registries.not_custodian", 403},
    {"registries.correction_not_found", 404},
    {"registries.correction_closed", 409},
    {"exchange.agreement_not_found", 404},
    {"exchange.no_agreement", 403},
    {"exchange.agreement_expired", 403},
    {"exchange.agreement_revoked", 403},
    {"exchange.wrong_purpose", 403},
    {"exchange.not_signed", 403},
    {"exchange.replayed", 401},
    {"exchange.not_custodian", 403},
    {"exchange.already_decided", 409},
    {"exchange.no_consent", 403},
    {"exchange.consent_not_found", 404},
    {"services.not_found", 404},
    {"services.version_not_found", 404},
    {"services.not_owner", 403},
    {"services.not_draft", 409},
    {"services.lint_blocked", 422},
    {"services.retired", 409},
    {"services.justification_not_found", 404},
    {"forms.draft_not_found", 404},
    {"forms.draft_expired", 410},
    {"forms.page_not_found", 404},
    {"forms.incomplete", 409},
    {"forms.file_not_found", 404},
    {"forms.idempotency_conflict", 409},
    {"workflow.application_not_found", 404},
    {"workflow.not_allowed", 403},
    {"workflow.someone_else_acted", 409},
    {"workflow.transition_not_available", 409},
    {"workflow.payment_due", 409},
    {"workflow.no_open_request", 409},
    {"workflow.request_open", 409},
    {"workflow.already_approved", 409},
    {"workflow.bad_assignee", 422},
    {"workflow.task_not_found", 404},
    {"certificates.not_found", 404},
    {"certificates.no_template", 409},
    {"certificates.already_revoked", 409},
    {"certificates.not_allowed", 403},
    {"certificates.malformed", 422},
    {"workflow.task_closed", 409},
    {"payments.not_found", 404},
    {"payments.application_not_found", 404},
    {"payments.nothing_owed", 409},
    {"payments.already_paid", 409},
    {"payments.bad_signature", 403},
    {"payments.unknown_gateway", 404},
    {"payments.not_refundable", 409},
    {"payments.forbidden", 403},
    {"payments.gateway_failed", 502},
    {"payments.amount_mismatch", 422},
    {"payments.not_paid", 409},
    {"render.failed", 500},
    {"request.malformed_multipart", 400},
    {"schema.invalid", 500},
};

}  // namespace

std::span<const ErrorStatus> ErrorTable() { return kTable; }

int StatusFor(std::string_view code) {
  for (const ErrorStatus& entry : kTable) {
    if (entry.code == code) return entry.status;
  }
  return 500;
}

Response ErrorResponse(const Error& error, std::string_view request_id) {
  nlohmann::json fields = nlohmann::json::array();
  for (const FieldError& f : error.fields) {
    fields.push_back({{"field", f.field}, {"rule", f.rule}, {"message", f.message}});
  }
  const int status = StatusFor(error.code);
  // Internal details stay in the log; the caller gets the request id to quote.
  const std::string message =
      status == 500 ? "Something went wrong on our side. Quote the request id when you report it." : error.message;
  nlohmann::json body = {
      {"code", status == 500 ? std::string(errc::kInternal) : error.code},
      {"message", message},
      {"fields", std::move(fields)},
      {"request_id", request_id},
  };
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = body.dump();
  return response;
}

}  // namespace dzong::http
