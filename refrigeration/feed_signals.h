// The physical signals CheckFeed (nemesyst/refrigeration/feed_check.h) judges a window of one
// case's readings by, measured apart from the thresholds so the thresholds can be fitted on the
// healthy fleet's distribution of each signal (tests/refrigeration/feed_check_test.cc tabulates
// them).
//
// Thread-safety: pure functions.
#ifndef NEMESYST_REFRIGERATION_FEED_SIGNALS_H_
#define NEMESYST_REFRIGERATION_FEED_SIGNALS_H_

#include <array>
#include <cstdint>
#include <vector>

#include "nemesyst/refrigeration/simulator.h"

namespace nemesyst::refrigeration {

inline constexpr int kTemperatureFieldCount = 4;  // kAirOnC .. kAmbientC

// Thermostat settings of a case type as built (each case's own within ±0.5 °C of these) and its
// nominal evaporator coil temperature drop, °C.
struct TypeSettings {
  double cut_out_c = 0;
  double cut_in_c = 0;
  double coil_delta_c = 0;
};
TypeSettings NominalSettings(CaseType type);

// Signals of one window. NaN when the window has nothing to measure them on (no valve close in
// it, no off-cycle readings, ...). Temperatures are relative where said.
struct FeedSignals {
  int readings = 0;  // readings in the window
  // Per temperature field: the largest fraction of readings sharing one value (within the
  // resolution), and that value.
  std::array<double, kTemperatureFieldCount> mode_fraction{};
  std::array<double, kTemperatureFieldCount> mode_value{};
  // Air-off at the last cooling reading before each thermostat close (not a defrost start),
  // minus the type's cut-out: the lowest and highest over the window.
  double close_min = 0, close_max = 0;
  int closes = 0;
  // Air-off at the last off-cycle reading before each thermostat open (not a defrost end), minus
  // the type's cut-in: the lowest and highest.
  double open_min = 0, open_max = 0;
  int opens = 0;
  // Median of air-on minus air-off over the off-cycle readings and over the cooling readings
  // (defrost and its pull-down left out).
  double off_cycle_diff = 0;
  double cooling_diff = 0;
  // Median ambient reading.
  double ambient = 0;
  // Mean product reading minus the mean air temperature estimated from air-off (plus the nominal
  // coil drop while cooling), over the window's readings outside defrost and pull-down.
  double product_minus_air = 0;
};

// `window` is one case's readings in time order (the caller has cut the look-back).
FeedSignals MeasureFeed(const SimSample* window, size_t count, CaseType type,
                        double stuck_resolution_c);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_FEED_SIGNALS_H_
