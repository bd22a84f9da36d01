#include "core/model.hpp"

namespace sealhook {

std::string_view to_string(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kDead:
      return "dead";
    case DeliveryStatus::kLost:
      return "lost";
  }
  return "pending";
}

std::optional<DeliveryStatus> parse_delivery_status(std::string_view s) {
  if (s == "pending") return DeliveryStatus::kPending;
  if (s == "delivered") return DeliveryStatus::kDelivered;
  if (s == "dead") return DeliveryStatus::kDead;
  if (s == "lost") return DeliveryStatus::kLost;
  return std::nullopt;
}

std::string_view to_string(Ordering o) { return o == Ordering::kOrdered ? "ordered" : "unordered"; }

std::optional<Ordering> parse_ordering(std::string_view s) {
  if (s == "unordered") return Ordering::kUnordered;
  if (s == "ordered") return Ordering::kOrdered;
  return std::nullopt;
}

}  // namespace sealhook
