#include "http/multipart.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace dzong::http {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

Error Malformed(std::string message) { return Error(kMalformedMultipart, std::move(message)); }

/// `; name=value` parameters after a header's first token. Values are
/// tokens or quoted strings; browsers escape '"' inside a quoted name as
/// %22, so a backslash is taken as it is.
Result<std::vector<std::pair<std::string, std::string>>> Parameters(std::string_view rest) {
  std::vector<std::pair<std::string, std::string>> out;
  while (true) {
    rest = Trim(rest);
    if (rest.empty()) return out;
    if (rest.front() != ';') return Malformed("a header parameter must follow ';'");
    rest = Trim(rest.substr(1));
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos || eq == 0) return Malformed("a header parameter has no name=value");
    std::string name = Lower(Trim(rest.substr(0, eq)));
    rest = rest.substr(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      const auto close = rest.find('"', 1);
      if (close == std::string_view::npos) return Malformed("a quoted header parameter is not closed");
      value = std::string(rest.substr(1, close - 1));
      rest = rest.substr(close + 1);
    } else {
      const auto end = rest.find(';');
      value = std::string(Trim(rest.substr(0, end)));
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
      if (value.empty()) return Malformed(fmt::format("header parameter {} has no value", name));
    }
    out.emplace_back(std::move(name), std::move(value));
  }
}

}  // namespace

std::optional<std::string> MultipartBoundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  if (Lower(Trim(content_type.substr(0, semi))) != "multipart/form-data" || semi == std::string_view::npos) {
    return std::nullopt;
  }
  auto params = Parameters(content_type.substr(semi));
  if (!params.ok()) return std::nullopt;
  for (const auto& [name, value] : *params) {
    // RFC 2046: 1 to 70 characters, not ending in a space.
    if (name == "boundary" && !value.empty() && value.size() <= 70 && value.back() != ' ') return value;
  }
  return std::nullopt;
}

Result<std::vector<Part>> ParseMultipart(std::string_view content_type, std::string_view body, std::size_t max_parts) {
  const auto boundary = MultipartBoundary(content_type);
  if (!boundary) {
    return Error(errc::kUnsupportedMediaType, "Send the form as multipart/form-data with a boundary");
  }
  const std::string first = "--" + *boundary + "\r\n";
  const std::string delimiter = "\r\n--" + *boundary;
  if (!body.starts_with(first)) return Malformed("the body does not begin with its boundary");
  std::vector<Part> parts;
  std::size_t at = first.size();
  while (true) {
    if (parts.size() >= max_parts) return Malformed(fmt::format("the form has more than {} parts", max_parts));
    const auto headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos) return Malformed("a part's headers do not end");
    Part part;
    bool disposition = false;
    std::string_view headers = body.substr(at, headers_end - at);
    while (!headers.empty()) {
      const auto eol = headers.find("\r\n");
      const std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return Malformed("a part's header has no name");
      const std::string name = Lower(Trim(line.substr(0, colon)));
      const std::string_view value = Trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        if (disposition) return Malformed("a part has two Content-Disposition headers");
        disposition = true;
        const auto semi = value.find(';');
        if (Lower(Trim(value.substr(0, semi))) != "form-data") return Malformed("a part is not form-data");
        if (semi == std::string_view::npos) return Malformed("a part has no name");
        DZONG_ASSIGN_OR_RETURN(auto params, Parameters(value.substr(semi)));
        bool named = false;
        for (auto& [key, v] : params) {
          if (key == "name") {
            part.name = std::move(v);
            named = true;
          } else if (key == "filename") {
            part.filename = std::move(v);
          }
        }
        if (!named || part.name.empty()) return Malformed("a part has no name");
      } else if (name == "content-type") {
        part.content_type = Lower(value);
        if (part.content_type.starts_with("multipart/")) return Malformed("nested multipart bodies are not accepted");
      } else if (name == "content-transfer-encoding") {
        return Malformed("Content-Transfer-Encoding is not accepted in form data");
      }
    }
    if (!disposition) return Malformed("a part has no Content-Disposition");
    const std::size_t content = headers_end + 4;
    const auto end = body.find(delimiter, content);
    if (end == std::string_view::npos) return Malformed("a part does not end with the boundary");
    part.body = std::string(body.substr(content, end - content));
    parts.push_back(std::move(part));
    at = end + delimiter.size();
    const std::string_view after = body.substr(at);
    if (after.starts_with("--")) {
      const std::string_view tail = after.substr(2);
      if (!tail.empty() && tail != "\r\n") return Malformed("there is text after the closing boundary");
      return parts;
    }
    if (!after.starts_with("\r\n")) return Malformed("a boundary is not followed by a line end");
    at += 2;
  }
}

}  // namespace dzong::http
