#include "delivery/retry_policy.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>

namespace sealhook::delivery {

RetryPolicy::RetryPolicy(RetryOptions options, std::function<double()> uniform01)
    : options_(options), uniform01_(std::move(uniform01)) {}

int64_t RetryPolicy::delay_ms(int failed_attempts, std::optional<int64_t> retry_after_ms) const {
  int n = std::max(1, failed_attempts);
  int64_t d = options_.base_ms;
  for (int i = 1; i < n && d < options_.max_delay_ms; ++i) d *= 2;
  d = std::min(d, options_.max_delay_ms);
  double u = std::clamp(uniform01_(), 0.0, 1.0);
  auto jittered = static_cast<int64_t>(static_cast<double>(d) * (1.0 - options_.jitter * u));
  if (retry_after_ms)
    jittered = std::max(jittered, std::min(*retry_after_ms, options_.max_delay_ms));
  return std::max<int64_t>(jittered, 0);
}

namespace {

// A cursor over an HTTP-date (RFC 9110 §5.6.7), parsed by hand: strptime follows the locale and
// knows only one of the three forms.
struct DateReader {
  std::string_view rest;
  bool ok = true;

  bool lit(std::string_view s) {
    ok = ok && rest.substr(0, s.size()) == s;
    if (ok) rest.remove_prefix(s.size());
    return ok;
  }
  void spaces() {  // asctime pads a one-digit day with a space
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  }
  int digits(size_t min, size_t max) {
    size_t n = 0;
    int v = 0;
    while (ok && n < max && n < rest.size() && rest[n] >= '0' && rest[n] <= '9')
      v = v * 10 + (rest[n++] - '0');
    ok = ok && n >= min;
    if (ok) rest.remove_prefix(n);
    return v;
  }
  // One of `names` (case-insensitively), as its index; the rest of the letters are skipped.
  int name(const std::string_view* names, int count) {
    size_t n = 0;
    while (n < rest.size() && std::isalpha(static_cast<unsigned char>(rest[n]))) ++n;
    const std::string_view word = rest.substr(0, n);
    rest.remove_prefix(n);
    for (int i = 0; ok && i < count && word.size() >= 3; ++i) {
      const std::string_view full = names[i];
      if (word.size() != 3 && word.size() != full.size()) continue;
      if (std::equal(word.begin(), word.end(), full.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          }))
        return i;
    }
    ok = false;
    return 0;
  }
};

constexpr std::string_view kDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                      "Friday", "Saturday", "Sunday"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Seconds since the epoch of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), an RFC 850 date
// ("Sunday, 06-Nov-94 08:49:37 GMT", its year taken as the latest not over 50 years after now)
// or an asctime date ("Sun Nov  6 08:49:37 1994").
std::optional<int64_t> parse_http_date(std::string_view text, int64_t now_ms) {
  namespace chr = std::chrono;
  DateReader r{text};
  r.name(kDays, 7);
  int day = 0, month = 0, year = 0, hh = 0, mm = 0, ss = 0;
  auto clock = [&] {
    hh = r.digits(2, 2);
    r.lit(":");
    mm = r.digits(2, 2);
    r.lit(":");
    ss = r.digits(2, 2);
  };
  if (!r.rest.empty() && r.rest.front() == ',') {
    r.lit(", ");
    day = r.digits(2, 2);
    const bool rfc850 = !r.rest.empty() && r.rest.front() == '-';
    r.lit(rfc850 ? "-" : " ");
    month = r.name(kMonths, 12);
    r.lit(rfc850 ? "-" : " ");
    year = r.digits(rfc850 ? 2 : 4, rfc850 ? 2 : 4);
    r.lit(" ");
    clock();
    r.lit(" GMT");
    if (rfc850) {
      const int now_year = static_cast<int>(
          chr::year_month_day(
              chr::floor<chr::days>(chr::sys_time<chr::milliseconds>(chr::milliseconds(now_ms))))
              .year());
      year += now_year - now_year % 100;
      if (year > now_year + 50) year -= 100;
    }
  } else {
    r.lit(" ");
    month = r.name(kMonths, 12);
    r.lit(" ");
    r.spaces();
    day = r.digits(1, 2);
    r.lit(" ");
    clock();
    r.lit(" ");
    year = r.digits(4, 4);
  }
  const chr::year_month_day date{chr::year(year), chr::month(static_cast<unsigned>(month + 1)),
                                 chr::day(static_cast<unsigned>(day))};
  if (!r.ok || !r.rest.empty() || !date.ok() || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  const auto days = chr::sys_days(date).time_since_epoch().count();
  return int64_t{days} * 86'400 + hh * 3'600 + mm * 60 + std::min(ss, 59);
}

}  // namespace

std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_ms) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc()) return std::nullopt;  // overflow
    if (seconds > 365LL * 24 * 3600) seconds = 365LL * 24 * 3600;
    return seconds * 1000;
  }
  const auto at_s = parse_http_date(value, now_ms);
  if (!at_s) return std::nullopt;
  return std::max<int64_t>(0, *at_s * 1000 - now_ms);
}

std::function<double()> system_uniform01() {
  struct State {
    std::mutex mu;
    std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> dist{0.0, 1.0};
  };
  auto state = std::make_shared<State>();
  return [state] {
    std::lock_guard lock(state->mu);
    return state->dist(state->rng);
  };
}

}  // namespace sealhook::delivery
