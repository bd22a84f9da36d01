#pragma once
// Errors as values: every fallible operation on the data path returns Result<T>.
// An Error carries a kind (mapped onto an HTTP status by the API), a snake_case code
// and a human sentence, exactly what the API's error body needs.
#include <string>
#include <utility>
#include <variant>

namespace sealhook {

enum class ErrorKind {
  kBadRequest,            // 400 malformed JSON or field
  kUnauthorized,          // 401 missing or bad token
  kForbidden,             // 403 wrong tenant
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kConflict,              // 409
  kTooLarge,              // 413 over a size bound
  kUnsupportedMediaType,  // 415 a body that is not JSON where JSON is expected
  kUnprocessable,         // 422 semantically invalid (bad key, weak key, bad URL)
  kTooMany,               // 429
  kUnavailable,           // 503 backpressure or a dependency down
  kInternal,              // 500 a bug or an environment failure, never bad input
};

int http_status(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string code;
  std::string message;
};

inline Error make_error(ErrorKind kind, std::string code, std::string message) {
  return Error{kind, std::move(code), std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT implicit
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace sealhook
