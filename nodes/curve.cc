#include "nodes/curve.h"

#include <zmq.h>

#include <algorithm>
#include <fstream>

#include "nemesyst/node.h"

namespace nemesyst {

Result<CurveKeyPair> GenerateCurveKeyPair() {
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Status::Unimplemented("this libzmq has no CURVE (built without libsodium)");
  }
  return CurveKeyPair{public_key, secret_key};
}

Result<std::string> CurvePublicKeyOf(const std::string& secret_key) {
  NEMESYST_RETURN_IF_ERROR(nodes::DecodeCurveKey(secret_key, "secret key").status());
  char public_key[41];
  if (zmq_curve_public(public_key, secret_key.c_str()) != 0) {
    return Status::InvalidArgument("cannot derive a public key from that secret key");
  }
  return std::string(public_key);
}

Result<std::vector<std::pair<std::string, std::string>>> ReadAllowList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read allow-list '" + path + "'");
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    // '#' starts a comment at the start of a line or after a blank (Z85 keys contain '#').
    for (size_t hash = line.find('#'); hash != std::string::npos; hash = line.find('#', hash + 1)) {
      if (hash == 0 || line[hash - 1] == ' ' || line[hash - 1] == '\t') {
        line.resize(hash);
        break;
      }
    }
    const size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos) continue;
    const size_t space = line.find_first_of(" \t", begin);
    const size_t id_begin =
        space == std::string::npos ? space : line.find_first_not_of(" \t", space);
    const size_t id_end =
        id_begin == std::string::npos ? id_begin : line.find_first_of(" \t\r", id_begin);
    const std::string where = path + ":" + std::to_string(number);
    if (id_begin == std::string::npos) {
      return Status::InvalidArgument(where + ": expected '<public key> <node id>'");
    }
    std::string key = line.substr(begin, space - begin);
    std::string id =
        line.substr(id_begin, id_end == std::string::npos ? std::string::npos : id_end - id_begin);
    NEMESYST_RETURN_IF_ERROR(nodes::DecodeCurveKey(key, "public key").status().WithContext(where));
    if (line.find_first_not_of(" \t\r", id_end == std::string::npos ? line.size() : id_end) !=
        std::string::npos) {
      return Status::InvalidArgument(where + ": text after the node id");
    }
    out.emplace_back(std::move(key), std::move(id));
  }
  return out;
}

namespace nodes {

Result<std::string> DecodeCurveKey(std::string_view z85, std::string_view what) {
  if (z85.size() != 40) {
    return Status::InvalidArgument(std::string(what) + " must be 40 characters of Z85 text, got " +
                                   std::to_string(z85.size()));
  }
  std::string text(z85);
  std::string bytes(32, '\0');
  if (zmq_z85_decode(reinterpret_cast<uint8_t*>(bytes.data()), text.c_str()) == nullptr) {
    return Status::InvalidArgument(std::string(what) + " is not valid Z85 text");
  }
  return bytes;
}

std::vector<std::string> ZapReply(const std::vector<std::string_view>& frames,
                                  const AllowList& allowed, std::string* admitted) {
  // Request: version, request id, domain, address, identity, mechanism, credentials...
  const std::string request_id = frames.size() > 1 ? std::string(frames[1]) : std::string();
  auto reply = [&](const char* code, const std::string& text, const std::string& user) {
    *admitted = user.empty() ? text : user;
    return std::vector<std::string>{"1.0", request_id, code, text, user, ""};
  };
  if (frames.size() < 6 || frames[0] != "1.0") return reply("400", "malformed ZAP request", "");
  if (frames[5] != "CURVE" || frames.size() != 7 || frames[6].size() != 32) {
    return reply("400", "only CURVE clients are admitted", "");
  }
  char z85[41];
  if (zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(frames[6].data()), 32) == nullptr) {
    return reply("400", "unreadable key", "");
  }
  auto it = allowed.find(z85);
  if (it == allowed.end()) return reply("400", std::string("unknown key ") + z85, "");
  return reply("200", "OK", it->second);
}

namespace {

// "127.a.b.c" with every part a decimal 0..255.
bool IsLoopbackIpv4(std::string_view host) {
  int parts = 0;
  size_t at = 0;
  while (at <= host.size()) {
    const size_t dot = std::min(host.find('.', at), host.size());
    const std::string_view part = host.substr(at, dot - at);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(part)) > 255 || (parts == 0 && part != "127")) {
      return false;
    }
    ++parts;
    at = dot + 1;
  }
  return parts == 4;
}

}  // namespace

bool IsLocalEndpoint(std::string_view endpoint) {
  if (endpoint.starts_with("ipc://") || endpoint.starts_with("inproc://")) return true;
  if (!endpoint.starts_with("tcp://")) return false;
  const std::string_view address = endpoint.substr(6);
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view host = address.substr(0, colon);
  return host == "localhost" || host == "[::1]" || IsLoopbackIpv4(host);
}

Status ValidateEndpoint(std::string_view endpoint, std::string_view what) {
  const auto fail = [&](const char* why) {
    return Status::InvalidArgument(std::string(what) + " '" + std::string(endpoint) + "': " + why);
  };
  if (endpoint.size() > 1024) return fail("longer than 1024 characters");
  if (endpoint.starts_with("ipc://") || endpoint.starts_with("inproc://")) {
    return endpoint.substr(endpoint.find("://") + 3).empty() ? fail("no path or name")
                                                             : Status::OK();
  }
  if (!endpoint.starts_with("tcp://")) return fail("use tcp://host:port, ipc://path or inproc://");
  const std::string_view address = endpoint.substr(6);
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) {
    return fail("a tcp endpoint is tcp://host:port");
  }
  return Status::OK();
}

}  // namespace nodes
}  // namespace nemesyst
