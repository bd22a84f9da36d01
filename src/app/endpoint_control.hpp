#pragma once
// Delivery control's wiring (issue 16): who disables an endpoint (the dispatcher on a 410, the
// health tracker on a failure streak), and what every change of state does besides (a log
// line; a disable publishes sealhook.endpoint.disabled to --system-tenant).
#include <functional>
#include <memory>
#include <string>

#include "app/node.hpp"
#include "delivery/endpoint_health.hpp"

namespace sealhook::app {

inline constexpr const char* kEndpointDisabledType = "sealhook.endpoint.disabled";

// Disables (tenant id, endpoint id) for `reason` through the catalog; answers whether this call
// changed it (not when another process or attempt did first).
std::function<bool(const std::string&, const std::string&, StateReason)> endpoint_disabler(Node& n);
// The failure streaks (--disable-after, --disable-min-attempts), its store calls on n.blocking.
std::unique_ptr<delivery::EndpointHealthTracker> make_health_tracker(Node& n);
// Sets the catalog's state hook: each change is logged, and each disable published to the
// system tenant (on n.blocking), once per change, whichever process made it.
void watch_endpoint_states(Node& n);
// The event's payload (JSON text): the endpoint, its tenant and URL, why and when.
std::string endpoint_disabled_payload(const Endpoint& e);

}  // namespace sealhook::app
