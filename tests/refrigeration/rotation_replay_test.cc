// The closed-loop rotating dispatch (rotation_replay.h) on small simulated fleets. The bounds come
// from a stand-in for a model that reads the same sensors: the closed-form safe off-time of the
// case's physics evaluated at the SENSED temperatures, times 0.6 — so a faulty sensor misleads it
// exactly as it would mislead a model (the real model's bounds are exercised by the demo test).
#include "nemesyst/refrigeration/rotation_replay.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nemesyst/refrigeration/dispatch_campaign.h"
#include "nemesyst/refrigeration/feed_check.h"

namespace nemesyst::refrigeration {
namespace {

constexpr double kBoundShare = 0.6;

LowerBoundSource SensedPhysicsBounds() {
  return [](const std::vector<const CaseInfo*>& cases,
            const std::vector<const std::deque<SimSample>*>& readings,
            int64_t now_us) -> Result<std::vector<double>> {
    std::vector<double> out;
    for (size_t i = 0; i < cases.size(); ++i) {
      const SimSample& s = readings[i]->back();
      if (s.time_us != now_us) {
        out.push_back(std::nan(""));
        continue;
      }
      const double air = 0.5 * (s.values[kAirOnC] + s.values[kAirOffC]);
      out.push_back(kBoundShare * SafeOffSeconds(cases[i]->params, air, s.values[kProductC],
                                                 s.values[kAmbientC], 1.0));
    }
    return out;
  };
}

std::unique_ptr<FleetSimulator> Fleet(uint64_t seed, int stores, double fault_rate, int days = 2) {
  SimulatorOptions o;
  o.seed = seed;
  o.stores = stores;
  o.cases_per_store = 24;
  o.days = days;
  o.fault_rate = fault_rate;
  auto sim = FleetSimulator::Create(o);
  EXPECT_TRUE(sim.ok()) << sim.status().ToString();
  return std::move(sim).value();
}

std::vector<int> AllCases(const FleetSimulator& sim) {
  std::vector<int> all;
  for (const CaseInfo& c : sim.cases()) all.push_back(c.index);
  return all;
}

int64_t At(const FleetSimulator& sim, double hour_of_second_day) {
  return sim.options().start_us + static_cast<int64_t>((24 + hour_of_second_day) * 3600) * 1000000;
}

// The test fleets (96–192 cases) are far too small to promise ±5 % once the planner's own error
// is counted (precision_z: they offer nothing for most profiles); the mechanics checked here
// hold whatever is offered, so these tests offer on energy and rebound room alone.
// PrecisionDeclinesWhatASmallFleetCannotHold checks the precision gate itself.
RotationEventOptions For(const char* profile) {
  RotationEventOptions o;
  o.profile = FindProfile(profile).value();
  o.settings.precision_z = 0;
  return o;
}

TEST(RotationReplayTest, NoCaseStaysOffPastItsBoundAndLockoutsHold) {
  auto sim = Fleet(21, 4, 0.03);
  int periods = 0;
  for (double hour : {3.0, 13.0}) {
    for (const char* profile : {"dc", "dm"}) {
      RotationEventOptions o = For(profile);
      auto r = ReplayRotation(*sim, AllCases(*sim), At(*sim, hour), o, SensedPhysicsBounds());
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      int overrides = 0;
      for (const RotationCaseOutcome& c : r->cases) {
        for (size_t p = 0; p < c.off_periods.size(); ++p) {
          const OffPeriod& off = c.off_periods[p];
          const double lasted = off.end_s - off.start_s;
          ++periods;
          // Never past the bound it was switched off with (less the margin).
          EXPECT_LE(lasted, off.bound_s - o.settings.margin_s) << c.device;
          // The minimum off-time, unless a safety restart overrode it.
          if (lasted < o.settings.min_off_s) {
            EXPECT_NE(off.ended_by, RestartReason::kSurplus) << c.device;
            EXPECT_NE(off.ended_by, RestartReason::kRebound) << c.device;
            ++overrides;
          }
          // The minimum run between two offs.
          if (p > 0) {
            EXPECT_GE(off.start_s - c.off_periods[p - 1].end_s, o.settings.min_run_s) << c.device;
          }
        }
      }
      EXPECT_EQ(overrides, r->lockout_overrides);
      EXPECT_EQ(r->violations, 0) << profile << " at " << hour;
    }
  }
  EXPECT_GT(periods, 50) << "the events must rotate cases for the checks to mean anything";
}

TEST(RotationReplayTest, HoldsTheContractedKwAndStaggersTheRebound) {
  auto sim = Fleet(22, 8, 0.03);
  RotationEventOptions o = For("dc");
  auto r = ReplayRotation(*sim, AllCases(*sim), At(*sim, 3), o, SensedPhysicsBounds());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_GT(r->contracted_kw, 1.0) << "a night fleet of 192 cases offers something";
  EXPECT_LE(r->contracted_kw, r->capacity_kw * (1 - o.headroom) + 1e-9);
  ASSERT_EQ(r->window_minutes, 15);
  // Measured on this seed: every window minute within ±5 % (docs/dispatch.md has the campaign).
  EXPECT_GE(r->minutes_within, 14);
  EXPECT_LE(r->worst_deviation, 0.15);
  EXPECT_EQ(r->violations, 0);
  EXPECT_LE(r->rebound_peak, o.profile.rebound_limit + 0.02);
  // Every case it touched is back to normal, and says when.
  for (const RotationCaseOutcome& c : r->cases) {
    if (c.times_off > 0) {
      EXPECT_GE(c.available_s, 0) << c.device;
    }
  }
  // The settled delivery and the physical one agree on average (the physical shed is noisy per
  // minute: the thermostats of the untouched cases cycle in both forks).
  EXPECT_NEAR(r->mean_physical_shed_kw, r->contracted_kw, 0.3 * r->contracted_kw);
}

TEST(RotationReplayTest, SuspectFeedsAreNeverDispatchedAndFaultsCauseNoViolation) {
  // Every case has a faulty sensor (stuck or drifting) from a random instant of the two days.
  auto sim = Fleet(23, 4, 1.0);
  int suspect_seen = 0, violations = 0;
  for (double hour : {6.0, 12.0, 18.0}) {
    for (const char* profile : {"dc", "ffr_secondary"}) {
      auto r =
          ReplayRotation(*sim, AllCases(*sim), At(*sim, hour), For(profile), SensedPhysicsBounds());
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      for (const RotationCaseOutcome& c : r->cases) {
        if (c.suspect) {
          ++suspect_seen;
          EXPECT_FALSE(c.suspect_reason.empty());
          // Once suspect, out for the whole event.
          EXPECT_EQ(c.times_off, 0) << c.device << ": " << c.suspect_reason;
        }
      }
      violations += r->violations;
    }
  }
  EXPECT_GT(suspect_seen, 20) << "faults must be present for the check to mean anything";
  EXPECT_EQ(violations, 0);
  // Without the check the same events do switch off cases whose feeds are suspect.
  RotationEventOptions unchecked = For("dc");
  unchecked.check_feeds = false;
  auto r = ReplayRotation(*sim, AllCases(*sim), At(*sim, 12), unchecked, SensedPhysicsBounds());
  ASSERT_TRUE(r.ok());
  auto checked =
      ReplayRotation(*sim, AllCases(*sim), At(*sim, 12), For("dc"), SensedPhysicsBounds());
  ASSERT_TRUE(checked.ok());
  int dispatched_suspects = 0;
  for (size_t i = 0; i < r->cases.size(); ++i) {
    if (checked->cases[i].suspect && r->cases[i].times_off > 0) ++dispatched_suspects;
  }
  EXPECT_GT(dispatched_suspects, 0);
}

TEST(RotationReplayTest, PrecisionDeclinesWhatASmallFleetCannotHold) {
  auto sim = Fleet(22, 8, 0.03);
  RotationEventOptions loose = For("dm");
  auto r_loose = ReplayRotation(*sim, AllCases(*sim), At(*sim, 3), loose, SensedPhysicsBounds());
  ASSERT_TRUE(r_loose.ok()) << r_loose.status().ToString();
  ASSERT_GT(r_loose->contracted_kw, 1.0) << "on energy and rebound room 192 cases offer DM";
  RotationEventOptions precise = loose;
  precise.settings.precision_z = RotationSettings().precision_z;
  auto r = ReplayRotation(*sim, AllCases(*sim), At(*sim, 3), precise, SensedPhysicsBounds());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The planner's expected error on 192 cases is too large a share of what they could hold for
  // half an hour: less is offered, and what is offered satisfies the rule it was chosen by.
  EXPECT_LT(r->contracted_kw, r_loose->contracted_kw);
  if (r->contracted_kw > 0) {
    const double aim = precise.settings.tolerance / 3;
    EXPECT_LE(precise.settings.precision_z * r->offer_sigma_kw,
              (precise.settings.tolerance - aim) * r->contracted_kw + 1e-9);
  }
}

TEST(RotationReplayTest, TheErrorFloorIsThe99thPercentileOfOfferedWindowMinutes) {
  DeliveryErrorFloor floor;
  EXPECT_EQ(floor.Kw("dm"), 0);
  RotationEventResult offered;
  offered.profile = "dm";
  offered.contracted_kw = 10;
  for (int k = 0; k < 200; ++k) {  // errors 0.01 .. 2.00 kW, alternately above and below
    RotationMinute m;
    m.in_window = true;
    m.delivered_kw = 10 + (k % 2 == 0 ? 1 : -1) * 0.01 * (k + 1);
    offered.minutes.push_back(m);
  }
  RotationMinute rebound;  // after the window: not an error against the contract
  rebound.delivered_kw = -50;
  offered.minutes.push_back(rebound);
  floor.Add(offered);
  RotationEventResult declined = offered;  // no offer: nothing was promised
  declined.contracted_kw = 0;
  floor.Add(declined);
  EXPECT_EQ(floor.minutes(), 200);
  EXPECT_NEAR(floor.Kw("dm"), 1.98, 1e-9);  // nearest rank: the 198th of 200
  // A profile with too few minutes of its own gets the fleet's floor ...
  RotationEventResult short_one;
  short_one.profile = "ffr_primary";
  short_one.contracted_kw = 100;
  RotationMinute big;
  big.in_window = true;
  big.delivered_kw = 100 + 9;  // 9 kW off: larger than any dm minute
  short_one.minutes.assign(DeliveryErrorFloor::kMinProfileMinutes - 1, big);
  floor.Add(short_one);
  const int all = 200 + DeliveryErrorFloor::kMinProfileMinutes - 1;
  EXPECT_EQ(floor.minutes(), all);
  EXPECT_EQ(floor.Kw("ffr_primary"), 9);  // the top 29 of 229 minutes are its own 9 kW
  EXPECT_EQ(floor.Kw("never_offered"), 9);
  // ... and one with enough its own; dm's is unchanged by the other profile's errors.
  short_one.minutes.resize(1);
  floor.Add(short_one);
  EXPECT_EQ(floor.Kw("ffr_primary"), 9);
  EXPECT_NEAR(floor.Kw("dm"), 1.98, 1e-9);
}

TEST(RotationReplayTest, TheReboundOvershootIsTheWorstRatioToTheOfferCap) {
  ReboundOvershoot learnt;
  EXPECT_EQ(learnt.Ratio("dc"), 0);
  EXPECT_EQ(learnt.OfferAim("dc", 0.5), 0.5);  // nothing learnt: the aim as given
  RotationEventResult event;
  event.profile = "dc";
  event.contracted_kw = 50;
  event.baseline_kw = 1000;
  event.offer_rebound_cap_kw = 50;  // 0.5 × a 10 % limit × 1,000 kW
  event.rebound_peak = 0.14;        // 140 kW: 2.8 times the cap
  learnt.Add(event);
  event.rebound_peak = 0.03;  // a milder one does not lower the worst
  learnt.Add(event);
  RotationEventResult declined = event;  // no offer: nothing was dispatched
  declined.contracted_kw = 0;
  declined.rebound_peak = 0.5;
  learnt.Add(declined);
  EXPECT_NEAR(learnt.Ratio("dc"), 2.8, 1e-12);
  // The aim that lands the same overshoot at kLandAt of the limit.
  EXPECT_NEAR(learnt.OfferAim("dc", 0.5), ReboundOvershoot::kLandAt / 2.8, 1e-12);
  EXPECT_NEAR(learnt.OfferAim("dc", 0.2), 0.2, 1e-12);  // already lower: kept
  // A profile with offers of its own keeps its own ratio, and is never given a higher aim.
  RotationEventResult calm = event;
  calm.profile = "ffr_primary";
  calm.rebound_peak = 0.01;  // 0.2 of the cap
  learnt.Add(calm);
  EXPECT_NEAR(learnt.Ratio("ffr_primary"), 0.2, 1e-12);
  EXPECT_EQ(learnt.OfferAim("ffr_primary", 0.5), 0.5);
  EXPECT_NEAR(learnt.Ratio("dc"), 2.8, 1e-12);
  // One never offered gets the fleet's worst.
  EXPECT_NEAR(learnt.Ratio("dm"), 2.8, 1e-12);
}

TEST(RotationReplayTest, SwitchingFreshCasesOffHoldsTheReboundUnderItsCap) {
  // 480 cases at 06:00, offering DC on energy alone: about 200 cases are off when the window
  // ends, warming fast, and their guard bands restart them faster than pull-downs end.
  auto sim = Fleet(25, 20, 0.0);
  RotationEventOptions o = For("dc");
  auto held = ReplayRotation(*sim, AllCases(*sim), At(*sim, 6), o, SensedPhysicsBounds());
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  o.hold_rebound_cap = false;
  auto free = ReplayRotation(*sim, AllCases(*sim), At(*sim, 6), o, SensedPhysicsBounds());
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  ASSERT_EQ(held->contracted_kw, free->contracted_kw) << "the same offer, the same window";
  EXPECT_EQ(held->minutes_within, free->minutes_within);
  EXPECT_EQ(free->rebound_switch_offs, 0);
  EXPECT_GT(held->rebound_switch_offs, 0);
  // Measured on this seed: 7.5 % against 9.1 %, with 14 cases switched off after the window.
  EXPECT_LT(held->rebound_peak, free->rebound_peak - 0.003);
  EXPECT_EQ(held->violations, 0);
  // The cases switched off in the rebound are off periods like any other: each ends, and by a
  // rule that says why; the rebound ends with every case back to normal.
  int rebound_offs = 0;
  const double window_end_s = held->window_minutes * o.settings.step_s;
  for (const RotationCaseOutcome& c : held->cases) {
    for (const OffPeriod& p : c.off_periods) {
      if (p.start_s < window_end_s) continue;
      ++rebound_offs;
      EXPECT_GT(p.end_s, p.start_s) << c.device;
      EXPECT_NE(p.ended_by, RestartReason::kSurplus) << c.device;
    }
  }
  EXPECT_EQ(rebound_offs, held->rebound_switch_offs);
  EXPECT_LT(held->rebound_minutes, o.max_rebound_minutes);
}

TEST(RotationReplayTest, TheOfferUnwindsUnderItsReboundAim) {
  auto sim = Fleet(26, 4, 0.0);
  RotationEventOptions o = For("dc");
  auto wide = ReplayRotation(*sim, AllCases(*sim), At(*sim, 2), o, SensedPhysicsBounds());
  ASSERT_TRUE(wide.ok()) << wide.status().ToString();
  ASSERT_GT(wide->contracted_kw, 1.0) << "96 cases offer DC at night on energy alone";
  // On 96 cases at night one case's surplus is a large part of the limit: the closed loop's cap
  // is the tighter, and the offer unwinds under it.
  const double limit_kw = o.profile.rebound_limit * wide->baseline_kw;
  ASSERT_GT(wide->rebound_cap_kw, 0);
  ASSERT_LT(wide->rebound_cap_kw, o.offer_rebound_aim * limit_kw);
  EXPECT_EQ(wide->offer_rebound_cap_kw, wide->rebound_cap_kw);
  // A tight aim leaves the unwind less room: a smaller offer (the same fleet, the same minute).
  o.offer_rebound_aim = 0.05;
  auto tight = ReplayRotation(*sim, AllCases(*sim), At(*sim, 2), o, SensedPhysicsBounds());
  ASSERT_TRUE(tight.ok()) << tight.status().ToString();
  EXPECT_NEAR(tight->offer_rebound_cap_kw, 0.05 * limit_kw, 1e-9);
  EXPECT_LT(tight->contracted_kw, wide->contracted_kw);
  o.offer_rebound_aim = 0;
  auto bad = ReplayRotation(*sim, AllCases(*sim), At(*sim, 2), o, SensedPhysicsBounds());
  EXPECT_NE(bad.status().message().find("offer_rebound_aim"), std::string::npos);
}

TEST(RotationReplayTest, AFleetThatCannotRestartOneCaseWithinItsReboundLimitOffersNothing) {
  // 24 cases at night: one case's pull-down surplus is most of the fleet's rebound limit, so the
  // closed loop could restart nothing by choice and every restart would be forced. On energy and
  // the offer aim alone it would offer (checked with the replay's own cap taken away).
  auto sim = Fleet(28, 1, 0.0);
  RotationEventOptions o = For("dc");
  auto r = ReplayRotation(*sim, AllCases(*sim), At(*sim, 3), o, SensedPhysicsBounds());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rebound_cap_kw, 0);
  EXPECT_EQ(r->offer_rebound_cap_kw, 0);
  EXPECT_EQ(r->contracted_kw, 0);
  EXPECT_EQ(r->capacity_kw, 0);
}

TEST(RotationReplayTest, TheSameSeedGivesTheSamePlan) {
  auto a = Fleet(24, 2, 0.05);
  auto b = Fleet(24, 2, 0.05);
  auto ra = ReplayRotation(*a, AllCases(*a), At(*a, 4), For("dm"), SensedPhysicsBounds());
  auto rb = ReplayRotation(*b, AllCases(*b), At(*b, 4), For("dm"), SensedPhysicsBounds());
  ASSERT_TRUE(ra.ok() && rb.ok());
  ASSERT_EQ(ra->minutes.size(), rb->minutes.size());
  for (size_t k = 0; k < ra->minutes.size(); ++k) {
    EXPECT_EQ(ra->minutes[k].delivered_kw, rb->minutes[k].delivered_kw) << k;
    EXPECT_EQ(ra->minutes[k].switched_off, rb->minutes[k].switched_off) << k;
  }
  for (size_t i = 0; i < ra->cases.size(); ++i) {
    ASSERT_EQ(ra->cases[i].off_periods.size(), rb->cases[i].off_periods.size());
    for (size_t p = 0; p < ra->cases[i].off_periods.size(); ++p) {
      EXPECT_EQ(ra->cases[i].off_periods[p].start_s, rb->cases[i].off_periods[p].start_s);
      EXPECT_EQ(ra->cases[i].off_periods[p].end_s, rb->cases[i].off_periods[p].end_s);
    }
  }
}

TEST(RotationReplayTest, BadInputsAreErrorsThatSayWhy) {
  auto sim = Fleet(25, 1, 0);
  const std::vector<int> all = AllCases(*sim);
  auto off_grid = ReplayRotation(*sim, all, At(*sim, 3) + 1, For("dc"), SensedPhysicsBounds());
  EXPECT_NE(off_grid.status().message().find("sampling grid"), std::string::npos);
  auto too_early =
      ReplayRotation(*sim, all, sim->options().start_us, For("dc"), SensedPhysicsBounds());
  EXPECT_FALSE(too_early.ok());
  auto bad_case = ReplayRotation(*sim, {999}, At(*sim, 3), For("dc"), SensedPhysicsBounds());
  EXPECT_EQ(bad_case.status().code(), StatusCode::kOutOfRange);
  RotationEventOptions bad = For("dc");
  bad.settings.guard_c = -1;
  auto bad_setting = ReplayRotation(*sim, all, At(*sim, 3), bad, SensedPhysicsBounds());
  EXPECT_NE(bad_setting.status().message().find("guard_c"), std::string::npos);
  LowerBoundSource short_answer =
      [](const std::vector<const CaseInfo*>&, const std::vector<const std::deque<SimSample>*>&,
         int64_t) -> Result<std::vector<double>> { return std::vector<double>{}; };
  auto wrong = ReplayRotation(*sim, all, At(*sim, 3), For("dc"), short_answer);
  EXPECT_NE(wrong.status().message().find("bound source"), std::string::npos);
}

TEST(RotationReplayTest, ACampaignReplaysEveryProfileAtEveryHourOnUnseenFleets) {
  CampaignOptions o;
  o.profiles = {FindProfile("dc").value(), FindProfile("ffr_primary").value()};
  o.hours = {3, 14};
  o.fault_rates = {0.0, 0.1};
  o.min_events = 6;  // 4 events per fleet: two fleets
  o.stores = 2;
  o.bounds_for = [](const FleetSimulator&) -> Result<LowerBoundSource> {
    return SensedPhysicsBounds();
  };
  int seen = 0;
  o.on_event = [&](const RotationEventResult&, uint64_t, double) { ++seen; };
  auto r = RunDispatchCampaign(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->fleets, 2);
  EXPECT_EQ(r->events, 8);
  EXPECT_EQ(seen, 8);
  ASSERT_EQ(r->profiles.size(), 2u);
  EXPECT_EQ(r->profiles[0].events, 4);
  EXPECT_EQ(r->violations, 0);
  EXPECT_EQ(r->events_list[0].fleet_seed, o.seed);
  EXPECT_EQ(r->events_list[4].fault_rate, 0.1);
  EXPECT_EQ(r->profiles[0].mean_offer_kw_by_hour.size(), 2u);
  // Each fleet replayed the same four events the day before, to learn its error floors, and made
  // every counted offer of a profile with that profile's floor: events_list holds, per fleet,
  // hour 3 (dc, ffr_primary) then hour 14 (dc, ffr_primary).
  EXPECT_EQ(r->commissioning_events, 8);
  EXPECT_EQ(r->commissioning_violations, 0);
  for (size_t i = 0; i < r->events_list.size(); ++i) {
    EXPECT_GE(r->events_list[i].error_floor_kw, 0);
    if (i % 4 >= 2) {
      EXPECT_EQ(r->events_list[i].error_floor_kw, r->events_list[i - 2].error_floor_kw) << i;
    }
  }
  o.commissioning = false;
  o.event.settings.error_floor_kw = 0.25;  // given, not learnt
  o.event.offer_rebound_aim = 0.4;
  auto given = RunDispatchCampaign(o);
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given->events, 8);
  EXPECT_EQ(given->commissioning_events, 0);
  for (const CampaignEvent& e : given->events_list) {
    EXPECT_EQ(e.error_floor_kw, 0.25);
    EXPECT_EQ(e.offer_rebound_aim, 0.4);
    // Each event reports its rebound: an offer's lasted a minute at least; no offer, none.
    EXPECT_EQ(e.rebound_minutes > 0, e.contracted_kw > 0);
    EXPECT_GE(e.rebound_switch_offs, 0);
    if (e.contracted_kw == 0) {
      EXPECT_EQ(e.rebound_switch_offs, 0);
    }
  }
  o.event.offer_rebound_aim = 1.5;
  EXPECT_NE(RunDispatchCampaign(o).status().message().find("offer_rebound_aim"), std::string::npos);
  o.bounds_for = nullptr;
  EXPECT_NE(RunDispatchCampaign(o).status().message().find("bounds_for"), std::string::npos);
}

// The commissioning day's events are the same replays as a day replayed without commissioning (the
// same fleet, the same minutes): what they teach is recomputed here from those, and every counted
// offer must have been made with it.
TEST(RotationReplayTest, CountedOffersUseWhatTheirCommissioningDayTaught) {
  auto sim = Fleet(27, 4, 0.05, /*days=*/3);
  CampaignOptions o;
  o.profiles = {FindProfile("dc").value(), FindProfile("dm").value()};
  o.hours = {2, 6};
  o.event.settings.precision_z = 0;  // offers on energy alone: something to learn from
  o.event.offer_rebound_aim = 0.8;   // a loose aim, which the small fleet's rebounds overshoot
  o.bounds_for = [](const FleetSimulator&) -> Result<LowerBoundSource> {
    return SensedPhysicsBounds();
  };
  DeliveryErrorFloor floor;
  ReboundOvershoot rebound;
  o.on_event = [&](const RotationEventResult& r, uint64_t, double) {
    floor.Add(r);
    rebound.Add(r);
  };
  o.commissioning = false;
  auto day_before = ReplayServicesOnFleet(*sim, AllCases(*sim), /*day=*/1, o);
  ASSERT_TRUE(day_before.ok()) << day_before.status().ToString();
  ASSERT_GT(rebound.Ratio("dc"), 0) << "the day before must have offered something";
  o.on_event = nullptr;
  o.commissioning = true;
  auto counted = ReplayServicesOnFleet(*sim, AllCases(*sim), /*day=*/2, o);
  ASSERT_TRUE(counted.ok()) << counted.status().ToString();
  EXPECT_EQ(counted->commissioning_events, 4);
  ASSERT_EQ(counted->events_list.size(), 4u);
  bool lowered = false;
  for (const CampaignEvent& e : counted->events_list) {
    EXPECT_EQ(e.error_floor_kw, floor.Kw(e.profile)) << e.profile;
    EXPECT_EQ(e.offer_rebound_aim, rebound.OfferAim(e.profile, o.event.offer_rebound_aim))
        << e.profile;
    lowered = lowered || e.offer_rebound_aim < o.event.offer_rebound_aim;
  }
  // Small fleets offered on energy alone overshoot their caps: the learning must show.
  EXPECT_TRUE(lowered);
}

}  // namespace
}  // namespace nemesyst::refrigeration
