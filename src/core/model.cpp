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
    case DeliveryStatus::kSkipped:
      return "skipped";
  }
  return "pending";
}

std::optional<DeliveryStatus> parse_delivery_status(std::string_view s) {
  if (s == "pending") return DeliveryStatus::kPending;
  if (s == "delivered") return DeliveryStatus::kDelivered;
  if (s == "dead") return DeliveryStatus::kDead;
  if (s == "lost") return DeliveryStatus::kLost;
  if (s == "skipped") return DeliveryStatus::kSkipped;
  return std::nullopt;
}

std::string_view to_string(Ordering o) { return o == Ordering::kOrdered ? "ordered" : "unordered"; }

std::string_view to_string(StateReason r) {
  switch (r) {
    case StateReason::kNone:
      return "";
    case StateReason::kGone:
      return "gone";
    case StateReason::kFailing:
      return "failing";
    case StateReason::kManual:
      return "manual";
  }
  return "";
}

std::optional<StateReason> parse_state_reason(std::string_view s) {
  for (StateReason r :
       {StateReason::kNone, StateReason::kGone, StateReason::kFailing, StateReason::kManual})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

std::optional<Ordering> parse_ordering(std::string_view s) {
  if (s == "unordered") return Ordering::kUnordered;
  if (s == "ordered") return Ordering::kOrdered;
  return std::nullopt;
}

}  // namespace sealhook
