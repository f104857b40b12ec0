// Configuration: one TOML file, `NEMESYST_*` environment variables and command-line flags, merged
// with the precedence  defaults < file < environment < flags.
//
// Every key is declared once in the table in common/config_keys.cc (name, type, default, help).
// Unknown keys are errors wherever they appear (a typo in a config file should not be silently
// ignored), except unknown `NEMESYST_*` environment variables, which belong to scripts as often as
// to us.
//
// Keys are dotted, lower_snake: `store.path`. The matching environment variable is the key upper-
// cased with dots replaced by underscores: `NEMESYST_STORE_PATH`. In the file, the part before the
// first dot is a TOML table:  [store]\n path = "./nemesyst-data".
//
// Thread-safety: a Config is built on one thread, then read-only; const methods may be shared.
#ifndef NEMESYST_CONFIG_H_
#define NEMESYST_CONFIG_H_

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/export.h"
#include "nemesyst/status.h"

namespace nemesyst {

enum class ConfigType { kString, kInt, kDouble, kBool };
enum class ConfigSource { kDefault, kFile, kEnvironment, kFlag };

NEMESYST_EXPORT std::string_view ConfigSourceName(ConfigSource source);

struct ConfigKeySpec {
  std::string_view name;  // "store.path"
  ConfigType type;
  std::string_view default_value;  // in the same text form a flag takes
  std::string_view help;
  std::vector<std::string_view> choices;  // empty: any value of `type`
  // kInt: the accepted range, checked when the value is set (so a bad file names its line).
  int64_t min_int = std::numeric_limits<int64_t>::min();
  int64_t max_int = std::numeric_limits<int64_t>::max();
};

// The table of every key Nemesyst knows, in display order.
NEMESYST_EXPORT const std::vector<ConfigKeySpec>& KnownConfigKeys();

// "store.path" -> "NEMESYST_STORE_PATH".
NEMESYST_EXPORT std::string EnvironmentVariableFor(std::string_view key);

class NEMESYST_EXPORT Config {
 public:
  struct Entry {
    std::string value;  // canonical text form ("true", "42", "0.5", or the string)
    ConfigSource source;
    std::string origin;  // "default", "<file>:<line>", "NEMESYST_X", "--set" ...
  };

  // A config holding every known key at its default.
  Config();

  // Applies a TOML file. Errors name the file, line, column and reason; on error nothing from the
  // file is applied.
  Status ApplyFile(const std::string& path);
  // Same for TOML text; `source_name` stands in for the file name in errors and origins.
  Status ApplyToml(std::string_view text, std::string_view source_name);
  // Applies `NEMESYST_*` variables from `envp` (a NULL-terminated "K=V" array, like `environ`).
  // Unknown NEMESYST_* names are ignored; invalid values of known keys are errors naming the
  // variable.
  Status ApplyEnvironment(const char* const* envp);
  // Sets one key from a flag (`origin` names the flag in `config show`).
  Status ApplyFlag(std::string_view key, std::string_view value, std::string_view origin);

  // Typed reads. Keys must be known (a programmer error otherwise); values were validated on entry.
  const std::string& GetString(std::string_view key) const;
  int64_t GetInt(std::string_view key) const;
  double GetDouble(std::string_view key) const;
  bool GetBool(std::string_view key) const;
  const Entry& GetEntry(std::string_view key) const;

  // The merged configuration as TOML, each line commented with where its value came from.
  std::string ToToml() const;
  // The merged configuration as JSON: {"store.path": {"value": ..., "source": ..., "origin": ...}}.
  std::string ToJson() const;

 private:
  Status Set(std::string_view key, std::string_view value, ConfigSource source, std::string origin);
  std::map<std::string, Entry, std::less<>> entries_;
};

// Validates `value` against the spec and returns its canonical text form.
NEMESYST_EXPORT Result<std::string> CanonicalConfigValue(const ConfigKeySpec& spec,
                                                         std::string_view value);
NEMESYST_EXPORT const ConfigKeySpec* FindConfigKey(std::string_view key);

}  // namespace nemesyst

#endif  // NEMESYST_CONFIG_H_
