#pragma once
// multipart/form-data (RFC 7578), as browsers send a form with a file: a
// strict reader that refuses what it does not understand instead of
// guessing, so that a malformed body never becomes a half-read form.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace dzong::http {

inline constexpr char kMalformedMultipart[] = "request.malformed_multipart";

/// One part of the body: a field, or a file when it has a filename.
struct Part {
  std::string name;
  std::optional<std::string> filename;  ///< as the browser sent it; never trusted for the type
  std::string content_type;             ///< as the browser sent it; never trusted
  std::string body;
};

/// The boundary of a `multipart/form-data; boundary=…` Content-Type, or
/// nullopt when the type is not multipart/form-data or names no boundary.
std::optional<std::string> MultipartBoundary(std::string_view content_type);

/// Splits a multipart/form-data body into its parts. Strict: CRLF line
/// ends, each part with a `Content-Disposition: form-data; name="…"`
/// header, no nested multiparts, at most `max_parts` parts, and the closing
/// boundary at the end. Errors: request.unsupported_media_type (not
/// multipart/form-data), request.malformed_multipart (saying what is wrong).
Result<std::vector<Part>> ParseMultipart(std::string_view content_type, std::string_view body,
                                         std::size_t max_parts = 500);

}  // namespace dzong::http
