// Error and Result<T>: how every sockit call reports failure.
//
// A call that can fail returns Result<T>: either a T or an Error. Nothing in the library
// throws or aborts on a failure a caller could cause. An Error carries a std::error_code
// (errno values in std::system_category(), getaddrinfo's EAI_* in gai_category(), input
// mistakes in parse_category()) and the context: the operation and its operand, e.g.
// "connect 127.0.0.1:9". `message()` joins them the way the CLI prints them:
// "connect 127.0.0.1:9: Connection refused".
//
// Result is spelled like C++23's std::expected (has_value, value, error, *, ->) so that the
// move to std::expected is a rename. Unlike std::expected it converts implicitly from Error,
// which keeps `return Error{...};` short.
#pragma once

#include <cerrno>
#include <new>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace sockit {

// Mistakes in text a user gave us (addresses, ports, port ranges, options).
enum class ParseErrc {
  empty = 1,
  bad_ipv4,
  bad_ipv6,
  bad_scope,
  bad_port,
  port_out_of_range,
  missing_port,
  missing_bracket,
  path_too_long,
  trailing_garbage,
  bad_family,
  not_numeric,
  needs_brackets,
  bad_number,
  bad_range,
  unknown_name,
  unsupported,
};

const std::error_category& parse_category() noexcept;
// getaddrinfo/getnameinfo results (EAI_*); EAI_SYSTEM is reported as the errno instead.
const std::error_category& gai_category() noexcept;

std::error_code make_error_code(ParseErrc e) noexcept;

class Error {
 public:
  Error() = default;
  Error(std::error_code code, std::string context) : code_(code), context_(std::move(context)) {}

  // From errno as left by the failed call.
  static Error from_errno(std::string context) {
    return Error(std::error_code(errno, std::system_category()), std::move(context));
  }
  static Error from_errno(int err, std::string context) {
    return Error(std::error_code(err, std::system_category()), std::move(context));
  }

  const std::error_code& code() const noexcept { return code_; }
  const std::string& context() const noexcept { return context_; }
  // "context: reason", or just the reason when there is no context.
  std::string message() const;

  // True for the system error `e` (e.g. is(std::errc::connection_refused)).
  bool is(std::errc e) const noexcept { return code_ == std::make_error_condition(e); }

 private:
  std::error_code code_;
  std::string context_;
};

namespace detail {
// value() on a Result that holds an error is a bug in the caller (std::expected throws
// bad_expected_access there); sockit doesn't throw, so it prints the error and aborts.
[[noreturn]] void bad_result_access(const Error& error) noexcept;
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  using value_type = T;

  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, Result> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, Error>>>
  Result(U&& value) : ok_(true) {  // NOLINT: implicit, like std::expected
    new (&value_) T(std::forward<U>(value));
  }
  Result(Error error) : ok_(false) { new (&error_) Error(std::move(error)); }  // NOLINT

  Result(const Result& other) : ok_(other.ok_) {
    if (ok_)
      new (&value_) T(other.value_);
    else
      new (&error_) Error(other.error_);
  }
  Result(Result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(other.ok_) {
    if (ok_)
      new (&value_) T(std::move(other.value_));
    else
      new (&error_) Error(std::move(other.error_));
  }
  Result& operator=(Result other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) {
      destroy();
      ok_ = other.ok_;
      if (ok_)
        new (&value_) T(std::move(other.value_));
      else
        new (&error_) Error(std::move(other.error_));
    }
    return *this;
  }
  ~Result() { destroy(); }

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }

  // Checked: aborts with the error's message if there is no value (see bad_result_access).
  T& value() & {
    if (!ok_) detail::bad_result_access(error_);
    return value_;
  }
  const T& value() const& {
    if (!ok_) detail::bad_result_access(error_);
    return value_;
  }
  T&& value() && {
    if (!ok_) detail::bad_result_access(error_);
    return std::move(value_);
  }
  // Unchecked, like std::expected's.
  T& operator*() & { return value_; }
  const T& operator*() const& { return value_; }
  T&& operator*() && { return std::move(value_); }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void destroy() noexcept {
    if (ok_)
      value_.~T();
    else
      error_.~Error();
  }

  bool ok_;
  union {
    T value_;
    Error error_;
  };
};

// Success carries nothing; failure an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Error error) : ok_(false), error_(std::move(error)) {}  // NOLINT

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const noexcept {
    if (!ok_) detail::bad_result_access(error_);
  }
  void operator*() const noexcept {}

  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  bool ok_ = true;
  Error error_;
};

}  // namespace sockit

template <>
struct std::is_error_code_enum<sockit::ParseErrc> : std::true_type {};
