// libFuzzer harness: the TOML configuration file (common/config.cc, the keys of config_keys.cc) —
// the first thing every `nemesyst` command and node reads — and the same bytes as the value of a
// flag or NEMESYST_* variable for every key (which, unlike a TOML file, need not be UTF-8).
// Invariants: a file that fails changes nothing; an accepted configuration is shown (`config
// show`: ToToml) as TOML that applies again to the same values (when its strings are UTF-8,
// which TOML text must be) and as JSON (ToJson) without throwing; a canonical value is its own
// canonical form.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nemesyst/config.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace nemesyst;

bool SameEntries(const Config& a, const Config& b) {
  for (const ConfigKeySpec& spec : KnownConfigKeys()) {
    const std::string& x = a.GetEntry(spec.name).value;
    const std::string& y = b.GetEntry(spec.name).value;
    if (spec.type == ConfigType::kDouble) {  // one number may have several spellings
      const double u = std::strtod(x.c_str(), nullptr), v = std::strtod(y.c_str(), nullptr);
      if (!(u == v || (std::isnan(u) && std::isnan(v)))) return false;
    } else if (x != y) {
      return false;
    }
  }
  return true;
}

bool IsUtf8(std::string_view s) {
  // nlohmann's strict dump throws exactly on bytes that are not UTF-8.
  try {
    (void)nlohmann::json(std::string(s)).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// What `config show` prints applies again to the same configuration.
void CheckShown(const Config& config, bool exact) {
  (void)config.ToJson();
  const std::string shown = config.ToToml();
  Config again;
  const Status reread = again.ApplyToml(shown, "shown.toml");
  if (!reread.ok()) std::fprintf(stderr, "%s\n%s\n", shown.c_str(), reread.ToString().c_str());
  NEMESYST_FUZZ_CHECK(reread.ok());
  if (exact) NEMESYST_FUZZ_CHECK(SameEntries(config, again));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  static const std::string defaults = Config().ToJson();
  Config file;
  if (file.ApplyToml(text, "fuzz.toml").ok()) {
    CheckShown(file, true);
  } else {
    NEMESYST_FUZZ_CHECK(file.ToJson() == defaults);  // a bad file changes nothing
  }

  // The same bytes as a flag's value for every key (at most 256 of them: flags are short, and
  // every key quotes a bad value in its error).
  const std::string_view value = text.substr(0, 256);
  Config flags;
  for (const ConfigKeySpec& spec : KnownConfigKeys()) {
    Result<std::string> canonical = CanonicalConfigValue(spec, value);
    const Status applied = flags.ApplyFlag(spec.name, value, "--set");
    NEMESYST_FUZZ_CHECK(applied.ok() == canonical.ok());
    if (!canonical.ok()) continue;
    NEMESYST_FUZZ_CHECK(flags.GetEntry(spec.name).value == *canonical);
    Result<std::string> twice = CanonicalConfigValue(spec, *canonical);
    NEMESYST_FUZZ_CHECK(twice.ok() && *twice == *canonical);
  }
  CheckShown(flags, IsUtf8(value));
  return 0;
}
