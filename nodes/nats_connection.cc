// NatsConnection: options → natsOptions, connect, the log stream and buckets; nats.c errors as
// Status.
#include "nodes/nats_connection.h"

#include <algorithm>
#include <vector>

namespace nemesyst::nodes {
namespace {

std::vector<std::string> SplitServers(const std::string& servers) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= servers.size()) {
    size_t comma = servers.find(',', start);
    if (comma == std::string::npos) comma = servers.size();
    std::string url = servers.substr(start, comma - start);
    url.erase(0, url.find_first_not_of(" \t"));
    url.erase(url.find_last_not_of(" \t") + 1);
    if (!url.empty()) out.push_back(url);
    start = comma + 1;
  }
  return out;
}

// The host of "nats://host:port" or "tls://[::1]:4222" (what follows the scheme, before the port).
std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  const size_t at = url.find('@', start);  // user:password@host
  if (at != std::string::npos) start = at + 1;
  if (start < url.size() && url[start] == '[') {
    const size_t close = url.find(']', start);
    return close == std::string::npos ? "" : url.substr(start + 1, close - start - 1);
  }
  const size_t colon = url.find(':', start);
  return url.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

Status NatsStatus(natsStatus s, std::string_view what, jsErrCode js_error) {
  if (s == NATS_OK) return Status::OK();
  std::string message = std::string(what) + ": " + natsStatus_GetText(s);
  if (js_error != 0) message += " (JetStream error " + std::to_string(js_error) + ")";
  // The library keeps a more precise text per thread (the server's description, for instance).
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && last[0] != '\0' && last_status == s) message += ": " + std::string(last);
  switch (s) {
    case NATS_NOT_FOUND:
      return Status::NotFound(message);
    case NATS_TIMEOUT:
      return Status::DeadlineExceeded(message);
    case NATS_INVALID_ARG:
      return Status::InvalidArgument(message);
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_IO_ERROR:
    case NATS_NO_RESPONDERS:
      return Status::IOError(message);
    default:
      return js_error == JSStreamWrongLastSequenceErr ? Status::Aborted(message)
                                                      : Status::Internal(message);
  }
}

Status ValidateJetStreamOptions(const JetStreamOptions& o, bool plaintext_beyond_loopback) {
  const std::vector<std::string> servers = SplitServers(o.servers);
  if (servers.empty()) return Status::InvalidArgument("jetstream.servers: no server given");
  for (const std::string& url : servers) {
    const std::string host = HostOf(url);
    if (host.empty()) {
      return Status::InvalidArgument("jetstream.servers: '" + url + "' names no host");
    }
    if (!IsLoopbackHost(host) && o.tls_ca_file.empty() && !plaintext_beyond_loopback) {
      return Status::InvalidArgument(
          "jetstream.servers: " + url +
          " is not loopback and no TLS is configured: set jetstream.tls_ca_file (and a client "
          "certificate or credentials), or allow plaintext between machines explicitly "
          "(node.plaintext_remote)");
    }
  }
  if (o.replicas < 1 || o.replicas > 5) {
    return Status::InvalidArgument("jetstream.replicas must be 1..5, not " +
                                   std::to_string(o.replicas));
  }
  if (o.stream.empty() || o.stream.find_first_of(". *>") != std::string::npos) {
    return Status::InvalidArgument("jetstream.stream '" + o.stream +
                                   "' must be a name without '.', '*', '>' or spaces");
  }
  if (o.subject_prefix.empty() || o.subject_prefix.find_first_of(" *>") != std::string::npos) {
    return Status::InvalidArgument("jetstream.subject_prefix '" + o.subject_prefix +
                                   "' must be a subject without wildcards or spaces");
  }
  if (o.publish_timeout_ms < 10 || o.lease_ms < 100 || o.max_age_s < 0 ||
      o.duplicate_window_s < 1) {
    return Status::InvalidArgument(
        "jetstream timing: publish_timeout_ms >= 10, lease_ms >= 100, max_age_s >= 0, "
        "duplicate_window_s >= 1");
  }
  if (o.max_message_bytes < 4096 || o.max_message_bytes > (64u << 20)) {
    return Status::InvalidArgument("jetstream.max_message_bytes must be 4 KiB .. 64 MiB");
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Status::InvalidArgument("jetstream.tls_cert_file and tls_key_file go together");
  }
  return Status::OK();
}

std::string SubjectToken(std::string_view store_id) {
  std::string token(store_id);
  std::replace(token.begin(), token.end(), '.', '%');
  return token;
}

std::string LogSubject(const JetStreamOptions& options, std::string_view store_id) {
  return options.subject_prefix + ".log." + SubjectToken(store_id);
}

std::string RegistrySubject(const JetStreamOptions& options) {
  return options.subject_prefix + ".registry";
}

Result<std::unique_ptr<NatsConnection>> NatsConnection::Connect(const JetStreamOptions& o,
                                                                const std::string& name,
                                                                int64_t timeout_ms) {
  std::unique_ptr<NatsConnection> c(new NatsConnection(o));
  natsOptions* opts = nullptr;
  NEMESYST_RETURN_IF_ERROR(NatsStatus(natsOptions_Create(&opts), "NATS options"));
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> owned(opts, natsOptions_Destroy);
  const std::vector<std::string> servers = SplitServers(o.servers);
  std::vector<const char*> urls;
  for (const std::string& s : servers) urls.push_back(s.c_str());
  natsStatus s = natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts, name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, timeout_ms);
  // Keep reconnecting forever, quickly: a restarted server is back in a second or two, and the
  // callers' publishes and fetches wait meanwhile (their own timeouts).
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
  if (s == NATS_OK) s = natsOptions_SetNoRandomize(opts, false);
  if (s == NATS_OK && !o.creds_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(opts, o.creds_file.c_str(), nullptr);
  }
  if (s == NATS_OK && !o.tls_ca_file.empty()) {
    s = natsOptions_SetSecure(opts, true);
    if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(opts, o.tls_ca_file.c_str());
    if (s == NATS_OK && !o.tls_cert_file.empty()) {
      s = natsOptions_LoadCertificatesChain(opts, o.tls_cert_file.c_str(), o.tls_key_file.c_str());
    }
  }
  NEMESYST_RETURN_IF_ERROR(NatsStatus(s, "NATS options (credentials, TLS)"));
  NEMESYST_RETURN_IF_ERROR(
      NatsStatus(natsConnection_Connect(&c->connection_, opts), "connecting to " + o.servers));
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = o.publish_timeout_ms;
  NEMESYST_RETURN_IF_ERROR(NatsStatus(
      natsConnection_JetStream(&c->jetstream_, c->connection_, &js_options), "JetStream context"));
  return c;
}

NatsConnection::~NatsConnection() {
  for (kvStore* kv : buckets_) kvStore_Destroy(kv);
  if (jetstream_ != nullptr) jsCtx_Destroy(jetstream_);
  if (connection_ != nullptr) natsConnection_Destroy(connection_);
}

Status NatsConnection::EnsureLogStream() {
  jsErrCode error = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  natsStatus s = js_GetStreamInfo(&info, jetstream_, options_.stream.c_str(), nullptr, &error);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return Status::OK();
  }
  if (s != NATS_NOT_FOUND) return NatsStatus(s, "stream " + options_.stream, error);
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = options_.stream.c_str();
  const std::string logs = options_.subject_prefix + ".log.>";
  const std::string registry = RegistrySubject(options_);
  const char* subject_list[] = {logs.c_str(), registry.c_str()};
  config.Subjects = subject_list;
  config.SubjectsLen = 2;
  config.Storage = js_FileStorage;
  config.Replicas = options_.replicas;
  config.MaxAge = options_.max_age_s * 1000000000;  // nanoseconds
  config.Duplicates = options_.duplicate_window_s * 1000000000;
  config.MaxMsgSize = static_cast<int32_t>(options_.max_message_bytes + 4096);
  s = js_AddStream(&info, jetstream_, &config, nullptr, &error);
  if (s == NATS_OK) jsStreamInfo_Destroy(info);
  // Another process may have made it meanwhile: the same stream, fine.
  if (s != NATS_OK && error == JSStreamNameExistErr) return Status::OK();
  return NatsStatus(s, "creating stream " + options_.stream, error);
}

Result<kvStore*> NatsConnection::Bucket(std::string_view name, int64_t ttl_ms) {
  // Bucket names are [A-Za-z0-9_-]: a dotted prefix ("acme.nemesyst") becomes "acme_nemesyst".
  std::string bucket = options_.subject_prefix + "_" + std::string(name);
  std::replace(bucket.begin(), bucket.end(), '.', '_');
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, jetstream_, bucket.c_str());
  if (s == NATS_NOT_FOUND) {
    kvConfig config;
    kvConfig_Init(&config);
    config.Bucket = bucket.c_str();
    config.History = 1;
    config.TTL = ttl_ms * 1000000;  // nats.c: nanoseconds
    config.Replicas = options_.replicas;
    config.StorageType = js_FileStorage;
    s = js_CreateKeyValue(&kv, jetstream_, &config);
  }
  NEMESYST_RETURN_IF_ERROR(NatsStatus(s, "key-value bucket " + bucket));
  buckets_.push_back(kv);
  return kv;
}

}  // namespace nemesyst::nodes
