#pragma once
// What an idempotency key stands for: the hash of the publish that first used it. A key reused
// with a request of another hash is refused (422 idempotency_key_reused), as Stripe does.
#include <string>

#include "publish/publisher.hpp"

namespace sealhook {

// SHA-256 (hex) over everything that decides which event is made and who gets it: the target
// tenant (none: every subscribed tenant), the event type and the payload's JSON text exactly as
// published (the receiver gets those bytes, so `{"a":1}` and `{ "a": 1 }` are two events). The
// scope (admin or the publishing tenant) is part of the key itself, not of the hash.
std::string publish_request_hash(const PublishRequest& request);

}  // namespace sealhook
