#pragma once
// What the kafka queue writes into its topics, and reads back:
//  - a delivery (topic `<prefix>.deliveries`, key the endpoint id): its fields one per line,
//    then the body (JWE compact: no newline in it), so nothing is escaped or parsed twice;
//  - a delivery's state (topic `<prefix>.state`, compacted, key the delivery id, in the
//    partition of its endpoint): the hand-out recorded before it is made, a retry time, an ack,
//    a dead letter, each naming where the delivery is now (its offset in the deliveries topic,
//    or, once moved there to wait for a retry, in the retries topic, with the offset it came
//    from) so that a new owner can tell what is done and which copy is live;
//  - a deliveries partition's hand-out mark (topic `<prefix>.state`, key `kHandoutMarkKey`, in
//    that partition): every delivery at or before the offset it names that has no state of its
//    own was handed out once (one record for a batch of first hand-outs, not one per delivery);
//  - an endpoint's ordering (topic `<prefix>.orderings`, compacted, key the endpoint id).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "queue/queue.hpp"

namespace sealhook::kafka {

std::string encode_delivery(const QueuedDelivery& d);
std::optional<QueuedDelivery> decode_delivery(std::string_view value);

struct DeliveryState {
  enum class Kind { kHandout, kRetry, kAcked, kDead };
  Kind kind = Kind::kHandout;
  int attempt = 0;       // handout and retry: the attempt about to be made (recorded before)
  int64_t at_ms = 0;     // retry: not before
  int64_t offset = 0;    // the delivery's offset in its source partition
  bool retried = false;  // the source: the retries topic (else the deliveries topic)
  int64_t origin = -1;   // retried: the delivery's offset in its deliveries partition
  bool done() const { return kind == Kind::kAcked || kind == Kind::kDead; }
  // Whether the record at `offset` of the retries topic (`retried`) or the deliveries topic is
  // the copy this state is about (the others are copies it moved away from, or to).
  bool names(bool in_retries, int64_t at) const { return retried == in_retries && offset == at; }
};

std::string encode_state(const DeliveryState& s);
std::optional<DeliveryState> decode_state(std::string_view value);

// The state topic's key of a partition's hand-out mark (no delivery id looks like it).
inline constexpr std::string_view kHandoutMarkKey = "~handed-out";
std::string encode_handout_mark(int64_t through);
std::optional<int64_t> decode_handout_mark(std::string_view value);

std::string encode_ordering(const EndpointOrdering& o);
std::optional<EndpointOrdering> decode_ordering(std::string_view endpoint_id,
                                                std::string_view value);

}  // namespace sealhook::kafka
