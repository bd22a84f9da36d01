#pragma once
// A prepared statement that finalizes itself. Values are always bound, never spliced into SQL.
// Bind errors are remembered and reported by the next step(), so call sites stay linear:
//   st.bind(1, id).bind(2, now);  int rc = st.step();
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sealhook::sqlite {

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based. Text and blobs are copied by SQLite (SQLITE_TRANSIENT), so
  // temporaries are safe to bind.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);
  // Binds each argument to the next parameter, starting at 1.
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // SQLITE_ROW, SQLITE_DONE or an error code (a failed bind is reported here).
  int step();
  // Back to the start with every parameter cleared; the statement is ready for reuse.
  void reset();

  // Columns are 0-based. NULL reads as "" or 0.
  std::string text(int col) const;
  std::string blob(int col) const;
  // The text of a column without a copy: valid until the next step() or reset().
  std::string_view text_view(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string_view();
  }
  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  int int32(int col) const { return sqlite3_column_int(stmt_, col); }

  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = SQLITE_OK;
};

// A cached statement lent out by Connection::cached(); it is reset (not finalized) when the
// borrower is done with it, so no read transaction is left open by a half-read cursor.
struct ResetStatement {
  void operator()(Statement* st) const { st->reset(); }
};
using BorrowedStatement = std::unique_ptr<Statement, ResetStatement>;

}  // namespace sealhook::sqlite
