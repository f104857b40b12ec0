// Grid-service profiles as data: what a demand-response service asks of the fleet (how fast the
// shed must start and reach full power, how long it is held, how closely it must track the
// contracted kW, how much rebound is allowed afterwards). The rotating dispatcher plans against a
// profile and the replay checks delivery against it.
//
// Built-ins follow the GB system operator's public service terms (Dynamic Containment, Dynamic
// Moderation, Dynamic Regulation, Firm Frequency Response primary / secondary / static); custom
// profiles come from a JSON file:
//
//   [{"name": "dso_flex", "response_s": 60, "full_s": 300, "duration_s": 7200,
//     "tolerance": 0.1, "rebound_limit": 0.2, "min_kw": 50, "description": "..."}]
//
// or the same array under {"profiles": [...]}. name, response_s, full_s and duration_s are
// required; tolerance, rebound_limit, min_kw and description default to the struct's values.
//
// Time resolution: the simulator's replay and the dispatcher work in whole minutes, so a profile
// is replayed as ReplayMinutes(profile) minutes — a hold shorter than a minute (FFR primary's
// 20 s) is held for one whole minute, and sub-second response times are met by switching at the
// event's first minute (the valves switch within a second of the command; the replay does not
// model the sub-minute ramp).
//
// Thread-safety: pure functions; BuiltInProfiles() returns an immutable list built once.
#ifndef NEMESYST_REFRIGERATION_SERVICE_PROFILE_H_
#define NEMESYST_REFRIGERATION_SERVICE_PROFILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::refrigeration {

struct ServiceProfile {
  // Identifier used on the command line and in reports: 1..64 characters of [A-Za-z0-9_.-].
  std::string name;
  // Seconds after the instruction by which the response must have started (>= 0).
  double response_s = 0;
  // Seconds after the instruction by which the full contracted power must be delivered
  // (response_s <= full_s <= duration_s).
  double full_s = 0;
  // Seconds the full power must be held, in (0, 4 h].
  double duration_s = 0;
  // Allowed deviation of the delivered shed from the contracted kW at every minute, as a fraction
  // of the contracted kW, in (0, 0.5]: 0.05 is ±5 %.
  double tolerance = 0.05;
  // Allowed fleet power above its baseline after the window (the restart rebound), as a fraction
  // of the baseline, in [0, 1]: 0.10 is baseline + 10 %.
  double rebound_limit = 0.10;
  // The service's minimum offer, kW (>= 0). Aggregators may pool many fleets to reach it, so the
  // per-fleet replay reports it but does not enforce it.
  double min_kw = 1000;
  // One line for reports (may be empty).
  std::string description;
};

bool operator==(const ServiceProfile& a, const ServiceProfile& b);
inline bool operator!=(const ServiceProfile& a, const ServiceProfile& b) { return !(a == b); }

// The GB services, in this order: "dc", "dm", "dr", "ffr_primary", "ffr_secondary", "static_ffr".
const std::vector<ServiceProfile>& BuiltInProfiles();

// The profile called `name` (exact, case-sensitive) among `among`; NotFound listing the known
// names otherwise.
Result<ServiceProfile> FindProfile(std::string_view name,
                                   const std::vector<ServiceProfile>& among = BuiltInProfiles());

// Minutes the replay holds the profile for: duration_s rounded up to whole minutes, at least 1.
int ReplayMinutes(const ServiceProfile& profile);

// Checks every field (the contract above). InvalidArgument naming the field otherwise.
Status ValidateProfile(const ServiceProfile& profile);

// Parses custom profiles from JSON `text` (the format at the top). Unknown keys, non-numbers,
// missing required keys, out-of-range values, duplicate names and an empty list are
// InvalidArgument; the message names `source`, the profile (index and name) and the field, e.g.
// "profiles.json: profile 1 (\"dso_flex\"): 'tolerance' must be in (0, 0.5], got 0.7".
Result<std::vector<ServiceProfile>> ParseProfiles(std::string_view text, std::string_view source);
// ReadWholeFile(path) then ParseProfiles(text, path).
Result<std::vector<ServiceProfile>> ReadProfilesFile(const std::string& path);

// One profile as a JSON object with every key; ParseProfiles("[" + that + "]") gives it back.
std::string ProfileToJson(const ServiceProfile& profile);
// {"profiles": [...]}: what ParseProfiles reads back into `profiles`.
std::string ProfilesToJson(const std::vector<ServiceProfile>& profiles);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_SERVICE_PROFILE_H_
