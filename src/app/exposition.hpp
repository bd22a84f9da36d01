#pragma once
// A writer of the Prometheus text exposition format (version 0.0.4): each family's HELP and
// TYPE once, then its samples; a histogram's cumulative `_bucket{le=...}` samples up to +Inf,
// `_sum` and `_count`. Labels are given as `name="value",...` built with label().
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/histogram.hpp"

namespace sealhook::app {

// `name="value"` with the value escaped as the format wants (\\, \", \n).
std::string label(std::string_view name, std::string_view value);

class Exposition {
 public:
  // HELP and TYPE ("counter", "gauge", "histogram") of a family; asserts it comes once.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line; `labels` without braces, "" for none.
  void sample(std::string_view name, std::string_view labels, uint64_t value);
  void sample(std::string_view name, std::string_view labels, double value);

  // A family with one sample and no labels.
  void counter(std::string_view name, std::string_view help, uint64_t value);
  void gauge(std::string_view name, std::string_view help, double value,
             std::string_view labels = "");
  // The samples of one histogram (its family is started by the caller, or here when `help` is
  // not empty).
  void histogram(std::string_view name, std::string_view help, std::string_view labels,
                 const Histogram::Snapshot& s);

  const std::string& text() const { return out_; }

 private:
  void line(std::string_view name, std::string_view labels, std::string_view value);

  std::string out_;
  std::set<std::string, std::less<>> families_;
};

// A sample value as the format wants it: shortest round-trip decimal, +Inf/-Inf/NaN.
std::string format_value(double v);

}  // namespace sealhook::app
