#include "app/config_file.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <filesystem>
#include <set>
#include <vector>

namespace sealhook::app {
namespace {

Error config_error(std::string message) {
  return make_error(ErrorKind::kBadRequest, "invalid_config", std::move(message));
}

// Shortest text that reads back as `d`, always with a fraction or an exponent, so that an
// integer option refuses 3.0 as it refuses "3.0".
std::string float_text(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string out(buf, ec == std::errc() ? end : buf);
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  return out;
}

bool is_flag(const CLI::Option& o) { return o.get_expected_max() == 0; }

bool takes_list(const CLI::Option& o) {
  auto policy = o.get_multi_option_policy();
  return o.get_items_expected_max() > 1 || policy == CLI::MultiOptionPolicy::TakeAll ||
         policy == CLI::MultiOptionPolicy::Join;
}

// The text the option's conversion reads for one TOML scalar, or why it cannot take it.
Result<std::string> scalar_text(const toml::node& n, const CLI::Option& o) {
  const bool flag = is_flag(o);
  switch (n.type()) {
    case toml::node_type::boolean:
      if (!flag) break;
      return std::string(*n.value_exact<bool>() ? "true" : "false");
    case toml::node_type::string:
      if (flag) break;
      return *n.value_exact<std::string>();
    case toml::node_type::integer:
      if (flag) break;
      return std::to_string(*n.value_exact<int64_t>());
    case toml::node_type::floating_point:
      if (flag) break;
      return float_text(*n.value_exact<double>());
    default:
      break;
  }
  return config_error(flag ? "must be true or false"
                           : "must be a string or a number" +
                                 std::string(takes_list(o) ? ", or an array of them" : ""));
}

struct Setting {
  CLI::Option* option;
  std::string key;
  std::vector<std::string> values;
};

Result<Setting> setting_for(CLI::App& cmd, std::string_view key, const toml::node& node) {
  std::string name(key);
  for (char& ch : name)
    if (ch == '_') ch = '-';
  CLI::Option* o = nullptr;
  try {
    o = cmd.get_option("--" + name);
  } catch (const CLI::OptionNotFound&) {
  }
  // --help has no environment variable; --config does not name another file.
  if (o == nullptr || o->get_envname().empty() || name == "config")
    return config_error("unknown option '" + std::string(key) + "'");
  Setting s{o, std::string(key), {}};
  const toml::array* list = node.as_array();
  if (list == nullptr) {
    auto text = scalar_text(node, *o);
    if (!text) return config_error("'" + s.key + "' " + text.error().message);
    s.values.push_back(std::move(text.value()));
    return s;
  }
  if (!takes_list(*o)) return config_error("'" + s.key + "' takes one value, not an array");
  for (const toml::node& item : *list) {
    auto text = item.is_array() ? Result<std::string>(config_error("must not nest arrays"))
                                : scalar_text(item, *o);
    if (!text) return config_error("'" + s.key + "' " + text.error().message);
    s.values.push_back(std::move(text.value()));
  }
  return s;
}

Result<toml::table> read_table(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status))
    return config_error("config file " + path + " does not exist");
  if (std::filesystem::is_directory(status))
    return config_error("config file " + path + " is a directory, not a TOML file");
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::string where;
    if (e.source().begin)
      where = " (line " + std::to_string(e.source().begin.line) + ", column " +
              std::to_string(e.source().begin.column) + ")";
    return config_error("cannot read config " + path + where + ": " + std::string(e.description()));
  }
}

}  // namespace

Status apply_config_file(CLI::App& cmd, const std::string& path) {
  auto table = read_table(path);
  if (!table) return table.error();
  std::vector<Setting> settings;
  std::set<const CLI::Option*> named;
  for (auto&& [key, node] : *table) {
    auto s = setting_for(cmd, key.str(), node);
    if (!s) return config_error(path + ": " + s.error().message);
    if (!named.insert(s->option).second)
      return config_error(path + ": '" + s->key + "' names an option given twice");
    settings.push_back(std::move(s.value()));
  }
  for (Setting& s : settings) {
    if (s.option->count() > 0) continue;  // a flag or an environment variable said otherwise
    if (s.values.empty()) continue;       // an empty array: the option keeps its default
    try {
      s.option->add_result(s.values);
      s.option->run_callback();
    } catch (const CLI::Error& e) {
      return config_error(path + ": '" + s.key + "': " + e.what());
    }
  }
  return {};
}

Status apply_config_option(CLI::App& cmd) {
  const CLI::Option* config = cmd.get_option("--config");
  if (config->count() == 0) return {};
  auto path = config->as<std::string>();
  if (path.empty()) return config_error("--config needs the path of a TOML file");
  return apply_config_file(cmd, path);
}

}  // namespace sealhook::app
