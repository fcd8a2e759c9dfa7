#include "modules/notify/contact.h"

#include <cctype>
#include <cstring>

namespace dzong::notify {
namespace {

bool IsAtext(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || (c != '\0' && std::strchr("!#$%&'*+/=?^_`{|}~-", c) != nullptr);
}

bool IsLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-') return false;
  }
  return true;
}

bool IsTopLevel(std::string_view label) {
  if (label.size() > 4 && (label.starts_with("xn--") || label.starts_with("XN--"))) return true;
  if (label.size() < 2) return false;
  for (char c : label) {
    if (std::isalpha(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

}  // namespace

std::string Trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

bool IsEmailAddress(std::string_view text) {
  if (text.size() > 254) return false;
  const auto at = text.rfind('@');
  if (at == std::string_view::npos || text.find('@') != at) return false;
  const std::string_view local = text.substr(0, at);
  const std::string_view domain = text.substr(at + 1);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  for (char c : local) {
    if (c != '.' && !IsAtext(c)) return false;
  }
  if (domain.empty() || domain.size() > 253) return false;
  int labels = 0;
  std::string_view last;
  std::size_t start = 0;
  while (true) {
    const auto dot = domain.find('.', start);
    const std::string_view label = domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!IsLabel(label)) return false;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2 && IsTopLevel(last);
}

std::optional<std::string> NormaliseMobile(std::string_view text) {
  const std::string trimmed = Trim(text);
  std::string_view rest = trimmed;
  if (rest.starts_with("+975")) {
    rest.remove_prefix(4);
    if (!rest.empty() && (rest.front() == ' ' || rest.front() == '-')) rest.remove_prefix(1);
  }
  const auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  std::string digits;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (digit(c)) {
      digits += c;
    } else if (!((c == ' ' || c == '-') && i > 0 && i + 1 < rest.size() && digit(rest[i - 1]) && digit(rest[i + 1]))) {
      return std::nullopt;  // a separator only ever stands between two digits
    }
  }
  if (digits.size() != 8 || !(digits.starts_with("17") || digits.starts_with("77"))) return std::nullopt;
  return "+975" + digits;
}

}  // namespace dzong::notify
