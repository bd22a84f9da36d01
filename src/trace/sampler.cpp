#include "trace/sampler.hpp"

#include <charconv>
#include <cmath>

namespace sealhook::trace {

Sampler::Sampler(Root root, bool parent_based, double ratio)
    : root_(root), parent_based_(parent_based), ratio_(ratio) {
  if (ratio_ >= 1.0)
    bound_ = uint64_t{1} << 63;
  else if (ratio_ > 0)
    bound_ = static_cast<uint64_t>(std::ldexp(ratio_, 63));
}

Result<Sampler> Sampler::parse(const std::string& name, const std::string& arg) {
  double ratio = 1.0;
  if (!arg.empty()) {
    auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), ratio);
    if (ec != std::errc() || p != arg.data() + arg.size() || !(ratio >= 0 && ratio <= 1))
      return make_error(ErrorKind::kBadRequest, "invalid_config",
                        "OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, not '" + arg + "'");
  }
  std::string n = name.empty() ? "parentbased_always_on" : name;
  const bool parent_based = n.starts_with("parentbased_");
  if (parent_based) n = n.substr(12);
  if (n == "always_on") return Sampler(Root::kAlwaysOn, parent_based);
  if (n == "always_off") return Sampler(Root::kAlwaysOff, parent_based);
  if (n == "traceidratio") return Sampler(Root::kRatio, parent_based, ratio);
  return make_error(ErrorKind::kBadRequest, "invalid_config",
                    "OTEL_TRACES_SAMPLER '" + name +
                        "' is not one of always_on, always_off, traceidratio, "
                        "parentbased_always_on, parentbased_always_off, parentbased_traceidratio");
}

bool Sampler::sample(const std::optional<SpanContext>& parent, const TraceId& trace_id) const {
  if (parent_based_ && parent) return parent->sampled;
  switch (root_) {
    case Root::kAlwaysOn:
      return true;
    case Root::kAlwaysOff:
      return false;
    case Root::kRatio:
      break;
  }
  // The id's last 8 bytes, big-endian, without their top bit (the random part in W3C level 2).
  uint64_t low = 0;
  for (size_t i = 8; i < 16; ++i) low = low << 8 | trace_id[i];
  return (low & ~(uint64_t{1} << 63)) < bound_;
}

std::string Sampler::description() const {
  std::string root = root_ == Root::kAlwaysOn    ? "always_on"
                     : root_ == Root::kAlwaysOff ? "always_off"
                                                 : "traceidratio " + std::to_string(ratio_);
  return parent_based_ ? "parentbased_" + root : root;
}

}  // namespace sealhook::trace
