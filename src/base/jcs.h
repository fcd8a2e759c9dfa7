#pragma once
// The JSON Canonicalization Scheme (RFC 8785): one byte sequence for a JSON
// value, whatever the order of its members or the spelling of its strings
// and numbers, so that a signature over it can be checked by anyone who
// canonicalises the same value.

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"

namespace dzong {

/// `value` in RFC 8785 form: members sorted by their names' UTF-16 code
/// units, no white space, strings escaped as ECMAScript's JSON.stringify
/// does, numbers in ECMAScript's shortest form. Errors: jcs.invalid (a
/// number that is not finite, a string that is not UTF-8).
Result<std::string> Canonical(const nlohmann::json& value);

/// Appends `s` (valid UTF-8) as a JSON string the way RFC 8785 and
/// ECMAScript write it: only '"', '\\' and control characters escaped, with
/// the short escapes where there are some and \u00xx (lower case) otherwise.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace dzong
