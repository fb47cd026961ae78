#pragma once

// Name look-up shared by the strategy and protocol registries.

#include <span>
#include <string>
#include <string_view>

namespace srv {

/// The entry called `name`, or nullptr. `Info` has a `name` member.
template <typename Info>
const Info* find_by_name(std::span<const Info> registry, std::string_view name) {
  for (const Info& info : registry) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

/// "a, b, c": the names in registry order, for messages that list what is known.
template <typename Info>
std::string names_of(std::span<const Info> registry) {
  std::string names;
  for (const Info& info : registry) {
    if (!names.empty()) names += ", ";
    names += info.name;
  }
  return names;
}

}  // namespace srv
