#pragma once
// Which members of a set (a tenant's endpoints, the subscribed tenants) an event type may
// reach, without looking at every member: members whose patterns are all exact types are
// indexed by type; the others (a wildcard among their patterns, or no filter at all) are kept
// apart and checked one by one. Callers still match the patterns of what they get: the index
// only narrows the candidates. Copy-on-write like the rest of the catalog snapshot.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "catalog/cow_map.hpp"

namespace sealhook {

template <class V>
class TypeIndex {
 public:
  using ById = CowMap<std::string, V>;

  // `patterns` as the member has them now; remove() takes the patterns it was added with.
  void add(const std::string& id, const std::vector<std::string>& patterns, const V& value) {
    if (!exact_only(patterns)) return by_pattern_.set(id, value);
    for (const auto& type : patterns) {
      const ById* have = by_exact_type_.find(type);
      ById next = have ? *have : ById{};
      next.set(id, value);
      by_exact_type_.set(type, std::move(next));
    }
  }

  void remove(const std::string& id, const std::vector<std::string>& patterns) {
    if (!exact_only(patterns)) {
      by_pattern_.erase(id);
      return;
    }
    for (const auto& type : patterns) {
      const ById* have = by_exact_type_.find(type);
      if (!have) continue;
      ById next = *have;
      next.erase(id);
      if (next.empty())
        by_exact_type_.erase(type);
      else
        by_exact_type_.set(type, std::move(next));
    }
  }

  // Collects members, then builds the index in one pass (loading the catalog).
  class Builder {
   public:
    void add(const std::string& id, const std::vector<std::string>& patterns, const V& value) {
      if (!exact_only(patterns)) {
        by_pattern_[id] = value;
        return;
      }
      for (const auto& type : patterns) by_exact_type_[type][id] = value;
    }
    TypeIndex build() && {
      TypeIndex index;
      std::map<std::string, ById> exact;
      for (auto& [type, members] : by_exact_type_)
        exact.emplace(type, ById::from(std::move(members)));
      index.by_exact_type_ = CowMap<std::string, ById>::from(std::move(exact));
      index.by_pattern_ = ById::from(std::move(by_pattern_));
      return index;
    }

   private:
    std::map<std::string, std::map<std::string, V>> by_exact_type_;
    std::map<std::string, V> by_pattern_;
  };

  // The members listing `type` itself (null when none), and those to check one by one.
  // A member is in exactly one of the two for a given type.
  const ById* exact(const std::string& type) const { return by_exact_type_.find(type); }
  const ById& by_pattern() const { return by_pattern_; }

 private:
  static bool exact_only(const std::vector<std::string>& patterns) {
    return !patterns.empty() && std::none_of(patterns.begin(), patterns.end(), [](const auto& p) {
      return !p.empty() && p.back() == '*';
    });
  }

  CowMap<std::string, ById> by_exact_type_;
  ById by_pattern_;
};

}  // namespace sealhook
