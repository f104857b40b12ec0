#include "nemesyst/config.h"

#include <cassert>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <sstream>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "common/read_file.h"

namespace nemesyst {
namespace {

std::string_view TypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kString:
      return "a string";
    case ConfigType::kInt:
      return "an integer";
    case ConfigType::kDouble:
      return "a number";
    case ConfigType::kBool:
      return "true or false";
  }
  return "?";
}

// `s` as a JSON string, for messages. A flag's or an environment variable's bytes need not be
// UTF-8: bytes that are not become U+FFFD instead of an exception.
std::string Quoted(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `s` as a TOML basic string: the JSON escapes are TOML's too, and TOML also refuses a raw DEL.
// TOML text is UTF-8, so bytes that are not cannot be shown as they are (they become U+FFFD).
std::string TomlQuoted(std::string_view s) {
  std::string out;
  for (char c : Quoted(s)) {
    if (c == '\x7f') {
      out += "\\u007F";
    } else {
      out += c;
    }
  }
  return out;
}

// Converts one TOML leaf node to the text form a flag would take, or explains why it can't.
Result<std::string> TomlLeafToText(const ConfigKeySpec& spec, const toml::node& node) {
  switch (spec.type) {
    case ConfigType::kString:
      if (auto v = node.value_exact<std::string>()) return *v;
      break;
    case ConfigType::kInt:
      if (auto v = node.value_exact<int64_t>()) return std::to_string(*v);
      break;
    case ConfigType::kDouble:
      if (node.is_integer() || node.is_floating_point()) {
        std::ostringstream out;
        out << *node.value<double>();
        return out.str();
      }
      break;
    case ConfigType::kBool:
      if (auto v = node.value_exact<bool>()) return std::string(*v ? "true" : "false");
      break;
  }
  return Status::InvalidArgument("'" + std::string(spec.name) + "' must be " +
                                 std::string(TypeName(spec.type)));
}

}  // namespace

std::string_view ConfigSourceName(ConfigSource source) {
  switch (source) {
    case ConfigSource::kDefault:
      return "default";
    case ConfigSource::kFile:
      return "file";
    case ConfigSource::kEnvironment:
      return "environment";
    case ConfigSource::kFlag:
      return "flag";
  }
  return "?";
}

std::string EnvironmentVariableFor(std::string_view key) {
  std::string out = "NEMESYST_";
  for (char c : key) out += (c == '.') ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

const ConfigKeySpec* FindConfigKey(std::string_view key) {
  for (const ConfigKeySpec& spec : KnownConfigKeys()) {
    if (spec.name == key) return &spec;
  }
  return nullptr;
}

Result<std::string> CanonicalConfigValue(const ConfigKeySpec& spec, std::string_view value) {
  std::string canonical(value);
  const char* first = value.data();
  const char* last = value.data() + value.size();
  switch (spec.type) {
    case ConfigType::kString:
      break;
    case ConfigType::kInt: {
      int64_t parsed = 0;
      auto [ptr, ec] = std::from_chars(first, last, parsed);
      if (value.empty() || ec != std::errc() || ptr != last) {
        return Status::InvalidArgument("'" + std::string(spec.name) + "' must be an integer, got " +
                                       Quoted(value));
      }
      if (parsed < spec.min_int || parsed > spec.max_int) {
        return Status::InvalidArgument("'" + std::string(spec.name) + "' must be in [" +
                                       std::to_string(spec.min_int) + ", " +
                                       std::to_string(spec.max_int) + "], got " + Quoted(value));
      }
      canonical = std::to_string(parsed);
      break;
    }
    case ConfigType::kDouble: {
      char* end = nullptr;
      std::string copy(value);
      std::strtod(copy.c_str(), &end);
      if (copy.empty() || end != copy.c_str() + copy.size()) {
        return Status::InvalidArgument("'" + std::string(spec.name) + "' must be a number, got " +
                                       Quoted(value));
      }
      break;
    }
    case ConfigType::kBool:
      if (value == "true" || value == "1" || value == "yes" || value == "on") {
        canonical = "true";
      } else if (value == "false" || value == "0" || value == "no" || value == "off") {
        canonical = "false";
      } else {
        return Status::InvalidArgument("'" + std::string(spec.name) +
                                       "' must be true or false, got " + Quoted(value));
      }
      break;
  }
  if (!spec.choices.empty()) {
    bool allowed = false;
    std::string list;
    for (std::string_view choice : spec.choices) {
      allowed = allowed || choice == canonical;
      list += (list.empty() ? "" : ", ") + std::string(choice);
    }
    if (!allowed) {
      return Status::InvalidArgument("'" + std::string(spec.name) + "' must be one of " + list +
                                     ", got " + Quoted(value));
    }
  }
  return canonical;
}

Config::Config() {
  for (const ConfigKeySpec& spec : KnownConfigKeys()) {
    entries_[std::string(spec.name)] =
        Entry{std::string(spec.default_value), ConfigSource::kDefault, "default"};
  }
}

Status Config::Set(std::string_view key, std::string_view value, ConfigSource source,
                   std::string origin) {
  const ConfigKeySpec* spec = FindConfigKey(key);
  if (spec == nullptr) {
    return Status::InvalidArgument("unknown configuration key '" + std::string(key) +
                                   "' (see `nemesyst config show` for the known keys)");
  }
  NEMESYST_ASSIGN_OR_RETURN(std::string canonical, CanonicalConfigValue(*spec, value));
  entries_[std::string(key)] = Entry{std::move(canonical), source, std::move(origin)};
  return Status::OK();
}

Status Config::ApplyFile(const std::string& path) {
  NEMESYST_ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(path, "configuration file"));
  return ApplyToml(text, path);
}

Status Config::ApplyToml(std::string_view text, std::string_view source_name) {
  const std::string file(source_name);
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::InvalidArgument(file + ":" + std::to_string(where.line) + ":" +
                                   std::to_string(where.column) + ": " +
                                   std::string(e.description()));
  }
  // Validate everything first, then apply: a bad file changes nothing.
  struct Pending {
    std::string key, value, origin;
  };
  std::vector<Pending> pending;
  auto where = [&](const toml::node& node) {
    return file + ":" + std::to_string(node.source().begin.line) + ":" +
           std::to_string(node.source().begin.column);
  };
  for (auto&& [section_key, section] : root) {
    const std::string section_name(section_key.str());
    const toml::table* table = section.as_table();
    if (table == nullptr) {
      return Status::InvalidArgument(where(section) + ": '" + section_name +
                                     "' must be a table such as [" + section_name + "]");
    }
    for (auto&& [leaf_key, leaf] : *table) {
      const std::string key = section_name + "." + std::string(leaf_key.str());
      const ConfigKeySpec* spec = FindConfigKey(key);
      if (spec == nullptr) {
        return Status::InvalidArgument(where(leaf) + ": unknown configuration key '" + key + "'");
      }
      Result<std::string> text_value = TomlLeafToText(*spec, leaf);
      if (!text_value.ok()) return text_value.status().WithContext(where(leaf));
      Result<std::string> canonical = CanonicalConfigValue(*spec, *text_value);
      if (!canonical.ok()) return canonical.status().WithContext(where(leaf));
      pending.push_back({key, *canonical, file + ":" + std::to_string(leaf.source().begin.line)});
    }
  }
  for (Pending& p : pending) {
    entries_[p.key] = Entry{std::move(p.value), ConfigSource::kFile, std::move(p.origin)};
  }
  return Status::OK();
}

Status Config::ApplyEnvironment(const char* const* envp) {
  if (envp == nullptr) return Status::OK();
  for (const ConfigKeySpec& spec : KnownConfigKeys()) {
    const std::string var = EnvironmentVariableFor(spec.name);
    for (const char* const* e = envp; *e != nullptr; ++e) {
      std::string_view entry(*e);
      if (entry.size() > var.size() && entry.substr(0, var.size()) == var &&
          entry[var.size()] == '=') {
        Status s = Set(spec.name, entry.substr(var.size() + 1), ConfigSource::kEnvironment, var);
        if (!s.ok()) return s.WithContext("environment variable " + var);
      }
    }
  }
  return Status::OK();
}

Status Config::ApplyFlag(std::string_view key, std::string_view value, std::string_view origin) {
  return Set(key, value, ConfigSource::kFlag, std::string(origin));
}

const Config::Entry& Config::GetEntry(std::string_view key) const {
  auto it = entries_.find(key);
  assert(it != entries_.end() && "unknown configuration key: add it to config_keys.cc");
  return it->second;
}

const std::string& Config::GetString(std::string_view key) const { return GetEntry(key).value; }

int64_t Config::GetInt(std::string_view key) const {
  return std::strtoll(GetEntry(key).value.c_str(), nullptr, 10);
}

double Config::GetDouble(std::string_view key) const {
  return std::strtod(GetEntry(key).value.c_str(), nullptr);
}

bool Config::GetBool(std::string_view key) const { return GetEntry(key).value == "true"; }

std::string Config::ToToml() const {
  std::ostringstream out;
  std::string current_section;
  for (const ConfigKeySpec& spec : KnownConfigKeys()) {
    const std::string key(spec.name);
    const std::string section = key.substr(0, key.find('.'));
    if (section != current_section) {
      out << (current_section.empty() ? "" : "\n") << "[" << section << "]\n";
      current_section = section;
    }
    const Entry& entry = GetEntry(key);
    out << key.substr(section.size() + 1) << " = "
        << (spec.type == ConfigType::kString ? TomlQuoted(entry.value) : entry.value) << "  # "
        << ConfigSourceName(entry.source);
    if (entry.source != ConfigSource::kDefault) out << " (" << entry.origin << ")";
    out << "\n";
  }
  return out.str();
}

std::string Config::ToJson() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const ConfigKeySpec& spec : KnownConfigKeys()) {
    const Entry& entry = GetEntry(spec.name);
    nlohmann::ordered_json value;
    switch (spec.type) {
      case ConfigType::kString:
        value = entry.value;
        break;
      case ConfigType::kInt:
        value = GetInt(spec.name);
        break;
      case ConfigType::kDouble:
        value = GetDouble(spec.name);
        break;
      case ConfigType::kBool:
        value = GetBool(spec.name);
        break;
    }
    out[std::string(spec.name)] = {{"value", value},
                                   {"source", std::string(ConfigSourceName(entry.source))},
                                   {"origin", entry.origin}};
  }
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace nemesyst
