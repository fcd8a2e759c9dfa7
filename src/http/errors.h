#pragma once
// The one table from error code to HTTP status, and the one JSON error body:
//   {"code": …, "message": …, "fields": [{"field", "rule", "message"}], "request_id": …}

#include <span>
#include <string_view>

#include "base/result.h"
#include "http/message.h"

namespace dzong::http {

struct ErrorStatus {
  std::string_view code;
  int status;
};

/// Every error code the platform returns, with its HTTP status.
std::span<const ErrorStatus> ErrorTable();

/// The status for a code; codes missing from the table are 500.
int StatusFor(std::string_view code);

/// Renders `error` as the JSON error body with the status from the table.
Response ErrorResponse(const Error& error, std::string_view request_id);

}  // namespace dzong::http
