// The one table of configuration keys. Add a key here (and nowhere else) to make it settable from
// the TOML file, the environment and `--set`, and visible in `nemesyst config show`.
#include "nemesyst/config.h"

namespace nemesyst {

const std::vector<ConfigKeySpec>& KnownConfigKeys() {
  static const std::vector<ConfigKeySpec> keys = {
      {"store.path",
       ConfigType::kString,
       "./nemesyst-data",
       "Directory of the node's embedded store (created on first use).",
       {}},
      {"store.durability",
       ConfigType::kString,
       "group",
       "Append durability: sync (fsync each write), group (appenders share an fsync), "
       "async (OS-buffered; lost on power failure, survives a process crash).",
       {"sync", "group", "async"}},
      {"store.records_per_chunk",
       ConfigType::kInt,
       "64",
       "Records of one append stored under one key (1..4096; 1 = one key per record). Larger "
       "chunks append faster; changing it never affects reading existing data.",
       {}},
      {"log.level",
       ConfigType::kString,
       "info",
       "Lowest level logged.",
       {"debug", "info", "warn", "error"}},
      {"log.format",
       ConfigType::kString,
       "human",
       "Log line format on stderr: human or json (one JSON object per line).",
       {"human", "json"}},
      {"kernels.backend",
       ConfigType::kString,
       "auto",
       "Kernel backend: auto picks the fastest available for this CPU.",
       {"auto", "ref", "avx2", "avx512", "onednn"}},
      {"kernels.threads",
       ConfigType::kInt,
       "1",
       "Threads per kernel call (batch split; each parallel learner runs this many). 1 keeps "
       "results bit-reproducible.",
       {}},
      {"kernels.max_isa",
       ConfigType::kString,
       "avx512",
       "Highest instruction set the hand-written kernels may use: avx512 (no cap), avx2, or none "
       "(only onednn and ref).",
       {"avx512", "avx2", "none"}},
      {"node.id",
       ConfigType::kString,
       "local",
       "This node's name, recorded in model lineage and replication.",
       {}},
      {"demo.seed",
       ConfigType::kInt,
       "42",
       "Seed of the demo's fleet simulation and training.",
       {}},
      {"demo.dir",
       ConfigType::kString,
       "./nemesyst-demo",
       "Directory the demo creates (store and report).",
       {}},
  };
  return keys;
}

}  // namespace nemesyst
