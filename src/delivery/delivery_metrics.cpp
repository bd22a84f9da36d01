#include "delivery/delivery_metrics.hpp"

namespace sealhook::delivery {

StatusClass status_class(const SendResult& r) {
  if (!r.error.empty())
    return r.error == "timeout" ? StatusClass::kTimeout : StatusClass::kNetworkError;
  switch (r.status / 100) {
    case 1:
      return StatusClass::k1xx;
    case 2:
      return StatusClass::k2xx;
    case 3:
      return StatusClass::k3xx;
    case 4:
      return StatusClass::k4xx;
    case 5:
      return StatusClass::k5xx;
    default:
      return StatusClass::kNetworkError;  // no HTTP status that means anything
  }
}

std::string_view status_class_label(StatusClass c) {
  static constexpr std::string_view kLabels[kStatusClasses] = {
      "1xx", "2xx", "3xx", "4xx", "5xx", "timeout", "network_error"};
  return kLabels[static_cast<size_t>(c)];
}

}  // namespace sealhook::delivery
