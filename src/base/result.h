#pragma once
// Errors are values. Every expected failure travels up as an Error with a
// stable, module-namespaced code ("organisations.not_found"); the HTTP layer
// maps codes to statuses in one table (src/http/error_status.cpp).

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dzong {

/// One problem with one input field: which field, which rule, and a message
/// a person can act on.
struct FieldError {
  std::string field;    ///< JSON pointer-ish path, e.g. "name_en" or "parent"
  std::string rule;     ///< stable rule id, e.g. "required", "max_length"
  std::string message;  ///< sentence for the user
};

/// An expected failure. `code` is stable and documented; `message` is for
/// people and may change.
struct Error {
  std::string code;
  std::string message;
  std::vector<FieldError> fields;

  Error() = default;
  Error(std::string c, std::string m, std::vector<FieldError> f = {})
      : code(std::move(c)), message(std::move(m)), fields(std::move(f)) {}
};

/// Either a value or an Error. `Get…` functions return Result; `Find…`
/// functions return Result<std::optional<T>>.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

/// Codes shared by every module. Module codes live in the module's header.
namespace errc {
inline constexpr char kInternal[] = "internal";
inline constexpr char kValidation[] = "request.invalid";
inline constexpr char kMalformedJson[] = "request.malformed_json";
inline constexpr char kMalformedHttp[] = "request.malformed_http";
inline constexpr char kBodyTooLarge[] = "request.body_too_large";
inline constexpr char kHeadersTooLarge[] = "request.headers_too_large";
inline constexpr char kUnsupportedMediaType[] = "request.unsupported_media_type";
inline constexpr char kNotFound[] = "request.unknown_route";
inline constexpr char kMethodNotAllowed[] = "request.method_not_allowed";
inline constexpr char kUnauthenticated[] = "auth.unauthenticated";
inline constexpr char kForbidden[] = "auth.forbidden";
inline constexpr char kConflict[] = "request.version_conflict";
inline constexpr char kPreconditionRequired[] = "request.precondition_required";
inline constexpr char kDbUnavailable[] = "db.unavailable";
inline constexpr char kDbConstraint[] = "db.constraint";
inline constexpr char kShuttingDown[] = "server.shutting_down";
}  // namespace errc

/// request.invalid naming every field and rule; the message is the only
/// problem's own, or a summary when there are several.
inline Error Invalid(std::vector<FieldError> errors) {
  std::string message = errors.size() == 1 ? errors[0].message : "Some fields need attention";
  return Error(errc::kValidation, std::move(message), std::move(errors));
}

}  // namespace dzong

#define DZONG_CONCAT_INNER(a, b) a##b
#define DZONG_CONCAT(a, b) DZONG_CONCAT_INNER(a, b)

/// Propagates an error from an expression returning Result<…>.
#define DZONG_TRY(expr) DZONG_TRY_IMPL(DZONG_CONCAT(dzong_try_, __COUNTER__), expr)
#define DZONG_TRY_IMPL(tmp, expr)                  \
  do {                                             \
    auto tmp = (expr);                             \
    if (!tmp.ok()) return std::move(tmp).error();  \
  } while (false)

/// `DZONG_ASSIGN_OR_RETURN(auto x, Compute());`
#define DZONG_ASSIGN_OR_RETURN(lhs, expr) \
  DZONG_ASSIGN_OR_RETURN_IMPL(DZONG_CONCAT(dzong_result_, __COUNTER__), lhs, expr)
#define DZONG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).error();     \
  lhs = std::move(tmp).value()
