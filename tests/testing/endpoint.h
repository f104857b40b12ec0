// The port of a "tcp://host:port" endpoint or "host:port" address, for tests that put a proxy or
// a client in front of a node they started.
#ifndef NEMESYST_TESTS_TESTING_ENDPOINT_H_
#define NEMESYST_TESTS_TESTING_ENDPOINT_H_

#include <string>

namespace nemesyst::testing {

inline int PortOf(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_ENDPOINT_H_
