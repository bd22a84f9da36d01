#include "app/exposition.hpp"

#include <cassert>
#include <charconv>
#include <cmath>

namespace sealhook::app {

std::string label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"')
      out.push_back('\\');
    else if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  assert(ec == std::errc());
  return std::string(buf, end);
}

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  [[maybe_unused]] bool fresh = families_.emplace(name).second;
  assert(fresh && "a metric family is written once");
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void Exposition::line(std::string_view name, std::string_view labels, std::string_view value) {
  out_.append(name);
  if (!labels.empty()) out_.append("{").append(labels).append("}");
  out_.append(" ").append(value).append("\n");
}

void Exposition::sample(std::string_view name, std::string_view labels, uint64_t value) {
  line(name, labels, std::to_string(value));
}

void Exposition::sample(std::string_view name, std::string_view labels, double value) {
  line(name, labels, format_value(value));
}

void Exposition::counter(std::string_view name, std::string_view help, uint64_t value) {
  family(name, "counter", help);
  sample(name, "", value);
}

void Exposition::gauge(std::string_view name, std::string_view help, double value,
                       std::string_view labels) {
  family(name, "gauge", help);
  sample(name, labels, value);
}

void Exposition::histogram(std::string_view name, std::string_view help, std::string_view labels,
                           const Histogram::Snapshot& s) {
  if (!help.empty()) family(name, "histogram", help);
  const std::string base(name);
  const std::string sep = labels.empty() ? "" : std::string(labels) + ",";
  for (size_t i = 0; i < s.bounds_s.size(); ++i)
    sample(base + "_bucket", sep + label("le", format_value(s.bounds_s[i])), s.cumulative[i]);
  sample(base + "_bucket", sep + label("le", "+Inf"), s.count);
  sample(base + "_sum", labels, s.sum_s);
  sample(base + "_count", labels, s.count);
}

}  // namespace sealhook::app
