// Grid-service profiles as data (nemesyst/refrigeration/service_profile.h): the GB built-ins with
// their published figures, the JSON round trip, and validation errors that name the source, the
// profile and the field.
#include "nemesyst/refrigeration/service_profile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/testing/temp_dir.h"

namespace nemesyst::refrigeration {
namespace {

void ExpectFigures(const std::string& name, double response_s, double full_s, double duration_s) {
  SCOPED_TRACE(name);
  Result<ServiceProfile> p = FindProfile(name);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, name);
  EXPECT_DOUBLE_EQ(p->response_s, response_s);
  EXPECT_DOUBLE_EQ(p->full_s, full_s);
  EXPECT_DOUBLE_EQ(p->duration_s, duration_s);
  EXPECT_DOUBLE_EQ(p->tolerance, 0.05);
  EXPECT_DOUBLE_EQ(p->rebound_limit, 0.10);
  EXPECT_DOUBLE_EQ(p->min_kw, 1000);
  EXPECT_FALSE(p->description.empty());
  EXPECT_TRUE(ValidateProfile(*p).ok()) << ValidateProfile(*p).ToString();
}

TEST(ServiceProfileTest, BuiltInsCarryTheGbServiceTerms) {
  ASSERT_EQ(BuiltInProfiles().size(), 6u);
  ExpectFigures("dc", 0.5, 1, 15 * 60);
  ExpectFigures("dm", 0.5, 1, 30 * 60);
  ExpectFigures("dr", 2, 10, 60 * 60);
  ExpectFigures("ffr_primary", 10, 10, 20);
  ExpectFigures("ffr_secondary", 30, 30, 30 * 60);
  ExpectFigures("static_ffr", 30, 30, 30 * 60);
}

TEST(ServiceProfileTest, ReplayMinutesRoundUpToAtLeastOne) {
  EXPECT_EQ(ReplayMinutes(FindProfile("ffr_primary").value()), 1);  // 20 s held a whole minute
  EXPECT_EQ(ReplayMinutes(FindProfile("dc").value()), 15);
  EXPECT_EQ(ReplayMinutes(FindProfile("dr").value()), 60);
  ServiceProfile p = FindProfile("dc").value();
  p.duration_s = 61;
  EXPECT_EQ(ReplayMinutes(p), 2);
}

TEST(ServiceProfileTest, UnknownNameListsTheKnownOnes) {
  Result<ServiceProfile> p = FindProfile("capacity_market");
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.status().IsNotFound());
  const std::string message(p.status().message());
  EXPECT_NE(message.find("capacity_market"), std::string::npos) << message;
  for (const char* name : {"dc", "dm", "dr", "ffr_primary", "ffr_secondary", "static_ffr"}) {
    EXPECT_NE(message.find(name), std::string::npos) << message;
  }
  // Names are exact.
  EXPECT_FALSE(FindProfile("DC").ok());
}

TEST(ServiceProfileTest, RoundTripsThroughJson) {
  std::vector<ServiceProfile> profiles = BuiltInProfiles();
  ServiceProfile custom;
  custom.name = "dso.flex-1";
  custom.response_s = 60;
  custom.full_s = 300.25;
  custom.duration_s = 7200;
  custom.tolerance = 0.1;
  custom.rebound_limit = 0;
  custom.min_kw = 0.1 + 0.2;  // not exactly representable in decimal: must still round-trip
  custom.description = "a \"local\" service, °C and all";
  profiles.push_back(custom);

  Result<std::vector<ServiceProfile>> back = ParseProfiles(ProfilesToJson(profiles), "mem");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, profiles);

  Result<std::vector<ServiceProfile>> one = ParseProfiles("[" + ProfileToJson(custom) + "]", "mem");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0], custom);
}

TEST(ServiceProfileTest, OptionalKeysTakeTheDefaults) {
  Result<std::vector<ServiceProfile>> p = ParseProfiles(
      R"({"profiles": [{"name": "x", "response_s": 1, "full_s": 2, "duration_s": 600}]})", "mem");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 1u);
  EXPECT_DOUBLE_EQ((*p)[0].tolerance, 0.05);
  EXPECT_DOUBLE_EQ((*p)[0].rebound_limit, 0.10);
  EXPECT_DOUBLE_EQ((*p)[0].min_kw, 1000);
  EXPECT_EQ((*p)[0].description, "");
}

TEST(ServiceProfileTest, ReadsAFile) {
  testing::TempDir dir;
  const std::string path = dir.Sub("profiles.json");
  testing::WriteFile(path, ProfilesToJson(BuiltInProfiles()));
  Result<std::vector<ServiceProfile>> p = ReadProfilesFile(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, BuiltInProfiles());

  Result<std::vector<ServiceProfile>> missing = ReadProfilesFile(dir.Sub("absent.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("absent.json"), std::string_view::npos);
}

// One profile, valid but for `key` set to `value` (JSON text; "" removes the key).
std::string WithField(const std::string& key, const std::string& value) {
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"name", "\"bad\""},   {"response_s", "1"},      {"full_s", "2"}, {"duration_s", "600"},
      {"tolerance", "0.05"}, {"rebound_limit", "0.1"}, {"min_kw", "5"}, {"description", "\"d\""}};
  std::string out = "{";
  bool replaced = false;
  for (const auto& [k, v] : fields) {
    std::string text = v;
    if (k == key) {
      replaced = true;
      if (value.empty()) continue;
      text = value;
    }
    out += (out.size() > 1 ? ", \"" : "\"") + k + "\": " + text;
  }
  if (!replaced) out += ", \"" + key + "\": " + value;
  return out + "}";
}

TEST(ServiceProfileTest, EveryValidationErrorNamesSourceProfileAndField) {
  const std::string good = WithField("description", "\"ok\"");
  struct Case {
    std::string key, value;
  };
  const std::vector<Case> cases = {
      {"name", ""},                // missing
      {"name", "\"\""},            // empty
      {"name", "\"a b\""},         // characters
      {"name", "7"},               // type
      {"response_s", ""},          // missing
      {"response_s", "-1"},        // negative
      {"response_s", "3"},         // after full_s
      {"response_s", "\"1\""},     // string
      {"full_s", ""},              //
      {"full_s", "601"},           // after duration_s
      {"full_s", "true"},          // bool is not a number
      {"duration_s", ""},          //
      {"duration_s", "0"},         // zero
      {"duration_s", "14401"},     // over 4 h
      {"duration_s", "1e400"},     // overflows
      {"tolerance", "0"},          //
      {"tolerance", "0.51"},       //
      {"tolerance", "null"},       //
      {"rebound_limit", "-0.01"},  //
      {"rebound_limit", "1.5"},    //
      {"min_kw", "-1"},            //
      {"description", "3"},        //
      {"tolerence", "0.1"},        // unknown key (a typo)
  };
  for (const Case& c : cases) {
    const std::string text = "[" + good + ", " + WithField(c.key, c.value) + "]";
    SCOPED_TRACE(text);
    Result<std::vector<ServiceProfile>> p = ParseProfiles(text, "my_profiles.json");
    ASSERT_FALSE(p.ok());
    EXPECT_TRUE(p.status().IsInvalidArgument());
    const std::string message(p.status().message());
    EXPECT_NE(message.find("my_profiles.json"), std::string::npos) << message;
    if (c.value != "1e400") {  // the JSON parser itself refuses the number: no profile yet
      EXPECT_NE(message.find("profile 1"), std::string::npos) << message;
      EXPECT_NE(message.find(c.key), std::string::npos) << message;
      if (c.key != "name") {
        EXPECT_NE(message.find("\"bad\""), std::string::npos) << message;
      }
    }
  }
}

TEST(ServiceProfileTest, RefusesBadDocuments) {
  const std::string good = WithField("description", "\"ok\"");
  for (const std::string& text :
       {std::string("[]"), std::string("{}"), std::string("{\"profiles\": []}"),
        std::string("{\"profiles\": [], \"extra\": 1}"), std::string("\"dc\""), std::string("[1]"),
        std::string("[") + good + ", " + good + "]", std::string("[{")}) {
    SCOPED_TRACE(text);
    Result<std::vector<ServiceProfile>> p = ParseProfiles(text, "src.json");
    ASSERT_FALSE(p.ok());
    EXPECT_TRUE(p.status().IsInvalidArgument());
    EXPECT_NE(p.status().message().find("src.json"), std::string_view::npos)
        << p.status().message();
  }
  // A repeated name names the second profile.
  Result<std::vector<ServiceProfile>> twice =
      ParseProfiles("[" + good + ", " + good + "]", "src.json");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("profile 1 (\"bad\")"), std::string_view::npos)
      << twice.status().message();
}

TEST(ServiceProfileTest, ValidateRefusesNonFiniteValuesSetInCode) {
  ServiceProfile p = FindProfile("dc").value();
  p.tolerance = std::nan("");
  EXPECT_FALSE(ValidateProfile(p).ok());
  p = FindProfile("dc").value();
  p.min_kw = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(ValidateProfile(p).ok());
  p = FindProfile("dc").value();
  p.name = std::string("\xff\xfe", 2);  // not UTF-8: refused without throwing
  EXPECT_FALSE(ValidateProfile(p).ok());
}

}  // namespace
}  // namespace nemesyst::refrigeration
