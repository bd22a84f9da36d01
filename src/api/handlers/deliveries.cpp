// Tenant routes: /v1/deliveries
#include "api/handlers/handlers.hpp"
#include "core/ids.hpp"

namespace sealhook::api {
namespace {

boost::json::value opt_ms(int64_t ms) {
  return ms ? boost::json::value(ms) : boost::json::value(nullptr);
}

boost::json::object delivery_json(const DeliveryRecord& d) {
  return boost::json::object{
      {"id", d.id},
      {"event_id", d.event_id},
      {"event_type", d.event_type},
      {"endpoint_id", d.endpoint_id},
      {"status", to_string(d.status)},
      {"attempt_count", d.attempts},
      {"created_at", d.created_at_ms},
      {"updated_at", d.updated_at_ms},
      {"next_attempt_at", d.status == DeliveryStatus::kPending ? opt_ms(d.next_attempt_at_ms)
                                                               : boost::json::value(nullptr)},
      {"last_error",
       d.last_error.empty() ? boost::json::value(nullptr) : boost::json::value(d.last_error)}};
}

void read_own_writes(ApiContext& ctx) {
  if (ctx.read_own_writes)
    ctx.read_own_writes();
  else
    ctx.journal.flush();
}

Error delivery_not_found() {
  return make_error(ErrorKind::kNotFound, "not_found", "delivery not found");
}

}  // namespace

HandlerResult list_deliveries(ApiContext& ctx, const Principal& p, const Target& t) {
  auto page = page_params(t, "msg_");
  if (!page) return page.error();
  std::optional<DeliveryStatus> status;
  if (auto it = t.query.find("status"); it != t.query.end()) {
    status = parse_delivery_status(it->second);
    if (!status)
      return make_error(ErrorKind::kBadRequest, "invalid_status",
                        "status must be pending, delivered or dead");
  }
  read_own_writes(ctx);
  auto rows = ctx.store.list_deliveries(p.tenant_id, status, page->limit, page->cursor);
  if (!rows) return rows.error();
  boost::json::array data;
  for (const auto& d : rows->data) data.push_back(delivery_json(d));
  return net::json_response(200, page_json(std::move(data), rows->next));
}

HandlerResult get_delivery(ApiContext& ctx, const Principal& p, const std::string& id) {
  if (!is_id(id, "msg_")) return delivery_not_found();
  read_own_writes(ctx);
  auto rec = ctx.store.get_delivery(p.tenant_id, id);
  if (!rec) return rec.error();
  if (!rec->has_value()) return delivery_not_found();
  auto attempts = ctx.store.get_attempts(id);
  if (!attempts) return attempts.error();
  auto o = delivery_json(**rec);
  boost::json::array list;
  for (const auto& a : *attempts)
    list.push_back(boost::json::object{
        {"number", a.number},
        {"at", a.at_ms},
        {"status_code",
         a.status_code ? boost::json::value(a.status_code) : boost::json::value(nullptr)},
        {"error", a.error.empty() ? boost::json::value(nullptr) : boost::json::value(a.error)},
        {"duration_ms", a.duration_ms}});
  o["attempts"] = std::move(list);
  return ok_json(200, o);
}

HandlerResult replay_delivery(ApiContext& ctx, const Principal& p, const std::string& id) {
  if (!is_id(id, "msg_")) return delivery_not_found();
  ctx.journal.flush();
  auto dead = ctx.store.get_dead_letter(p.tenant_id, id);
  if (!dead) return dead.error();
  if (!dead->has_value()) {
    auto rec = ctx.store.get_delivery(p.tenant_id, id);
    if (!rec) return rec.error();
    if (!rec->has_value()) return delivery_not_found();
    return make_error(ErrorKind::kConflict, "not_dead", "only a dead delivery can be replayed");
  }
  DeadLetter& letter = **dead;
  auto snap = ctx.catalog.snapshot();
  const EndpointPtr* ep = snap->endpoints.find(letter.record.endpoint_id);
  if (!ep)
    return make_error(ErrorKind::kConflict, "endpoint_deleted",
                      "the endpoint of this delivery no longer exists");
  int64_t now = ctx.clock.now_ms();
  // dead -> pending, atomically: of two concurrent replays one enqueues, the other is told.
  auto claimed = ctx.store.claim_dead(p.tenant_id, id, now);
  if (!claimed) return claimed.error();
  if (!*claimed)
    return make_error(ErrorKind::kConflict, "not_dead", "only a dead delivery can be replayed");
  QueuedDelivery d;
  d.id = letter.record.id;
  d.tenant_id = letter.record.tenant_id;
  d.endpoint_id = letter.record.endpoint_id;
  d.event_id = letter.record.event_id;
  d.event_type = letter.record.event_type;
  d.body = std::make_shared<const std::string>(std::move(letter.body));
  d.ordered = (*ep)->endpoint.ordering == Ordering::kOrdered;
  d.prior_attempts = letter.record.attempts;
  d.not_before_ms = now;
  d.published_at_ms = letter.record.created_at_ms;
  auto body = d.body;
  if (auto st = ctx.queue.push({d}); !st) {
    (void)ctx.store.unclaim_dead(p.tenant_id, id, *body);
    return st.error();
  }
  DeliveryRecord rec = letter.record;
  rec.status = DeliveryStatus::kPending;
  rec.updated_at_ms = rec.next_attempt_at_ms = now;
  auto answer = delivery_json(rec);
  return ok_json(202, answer);
}

}  // namespace sealhook::api
