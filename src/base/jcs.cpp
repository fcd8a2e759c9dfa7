#include "base/jcs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

namespace dzong {
namespace {

using nlohmann::json;

/// The UTF-16 code units of a UTF-8 name, for ordering; false when it is not UTF-8.
bool Utf16Units(const std::string& s, std::u16string& out) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    int extra = 0;
    if (b < 0x80) cp = b;
    else if ((b & 0xE0) == 0xC0) cp = b & 0x1F, extra = 1;
    else if ((b & 0xF0) == 0xE0) cp = b & 0x0F, extra = 2;
    else if ((b & 0xF8) == 0xF0) cp = b & 0x07, extra = 3;
    else return false;
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= s.size()) return false;
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    i += 1 + extra;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return true;
}

/// ECMAScript's Number::toString for a finite double (RFC 8785 section 3.2.2.3).
void AppendNumber(double d, std::string& out) {
  if (d == 0) {
    out += '0';
    return;
  }
  // The shortest digits that read back as d, and their decimal exponent.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, end);  // e.g. "-1.2345e+21"
  std::string digits;
  bool negative = false;
  std::size_t i = 0;
  if (sci[0] == '-') negative = true, i = 1;
  const std::size_t e_at = sci.find('e');
  for (; i < e_at; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exponent = std::stoi(sci.substr(e_at + 1));
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // the decimal point's place after the first digit
  if (negative) out += '-';
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<std::size_t>(n));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
}

Status Append(const json& v, std::string& out) {
  switch (v.type()) {
    case json::value_t::null: out += "null"; return {};
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return {};
    case json::value_t::number_integer: {
      const auto i = v.get<std::int64_t>();
      if (i > (std::int64_t{1} << 53) || i < -(std::int64_t{1} << 53)) AppendNumber(static_cast<double>(i), out);
      else out += std::to_string(i);
      return {};
    }
    case json::value_t::number_unsigned: {
      const auto u = v.get<std::uint64_t>();
      if (u > (std::uint64_t{1} << 53)) AppendNumber(static_cast<double>(u), out);
      else out += std::to_string(u);
      return {};
    }
    case json::value_t::number_float: {
      const double d = v.get<double>();
      if (!std::isfinite(d)) return Error("jcs.invalid", "JSON has no form for a number that is not finite");
      AppendNumber(d, out);
      return {};
    }
    case json::value_t::string: {
      std::u16string units;
      if (!Utf16Units(v.get_ref<const std::string&>(), units)) return Error("jcs.invalid", "a string is not UTF-8");
      AppendJsonString(out, v.get_ref<const std::string&>());
      return {};
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ',';
        first = false;
        DZONG_TRY(Append(item, out));
      }
      out += ']';
      return {};
    }
    case json::value_t::object: {
      struct Member {
        std::u16string key;
        const std::string* name;
        const json* value;
      };
      std::vector<Member> members;
      for (auto it = v.begin(); it != v.end(); ++it) {
        Member m{{}, &it.key(), &it.value()};
        if (!Utf16Units(it.key(), m.key)) return Error("jcs.invalid", "a member's name is not UTF-8");
        members.push_back(std::move(m));
      }
      std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.key < b.key; });
      out += '{';
      bool first = true;
      for (const Member& m : members) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, *m.name);
        out += ':';
        DZONG_TRY(Append(*m.value, out));
      }
      out += '}';
      return {};
    }
    case json::value_t::binary:
    case json::value_t::discarded: break;
  }
  return Error("jcs.invalid", "the value has no JSON form");
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // the start of the characters copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

Result<std::string> Canonical(const json& value) {
  std::string out;
  DZONG_TRY(Append(value, out));
  return out;
}

}  // namespace dzong
