#include "nodes/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/json_number.h"
#include "common/xxh128.h"
#include "nodes/wall_clock.h"

namespace nemesyst::nodes {
namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = "BOOTSTRAP.json";

Result<std::string> FileDigest(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read '" + path.string() + "'");
  Xxh128 digest;
  std::string buffer(1 << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    digest.Update(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return Status::IOError("reading '" + path.string() + "'");
  return digest.HexDigest();
}

Status FsyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open '" + path.string() + "' to fsync");
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::OK() : Status::IOError("fsync of '" + path.string() + "' failed");
}

// A snapshot file name must be a plain name in its directory: a leader cannot make the follower
// write anywhere else.
bool SafeFileName(const std::string& name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos &&
         name != kManifest;
}

}  // namespace

// ---- SnapshotCache ---------------------------------------------------------------------------

SnapshotCache::SnapshotCache(const Store* store, fs::path dir, int64_t max_age_s)
    : store_(store), dir_(std::move(dir)), max_age_s_(max_age_s) {
  std::error_code ec;
  fs::remove_all(dir_, ec);  // leftovers of a previous run: their followers start over
}

SnapshotCache::~SnapshotCache() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void SnapshotCache::Drop() {
  if (current_.id.empty()) return;
  std::error_code ec;
  fs::remove_all(dir_ / current_.id, ec);
  current_ = Snapshot{};
}

Result<const SnapshotCache::Snapshot*> SnapshotCache::Current() {
  // Reused while young, and only while the journal still holds every change after it (a
  // follower installing it continues from its position).
  if (!current_.id.empty() && NowMicros() - made_us_ < max_age_s_ * 1000000 &&
      current_.position + 1 >= store_->FirstChangePosition()) {
    return &current_;
  }
  Drop();
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Status::IOError("cannot create '" + dir_.string() + "': " + ec.message());
  Snapshot snapshot;
  snapshot.id = std::to_string(NowMicros()) + "-" + std::to_string(++counter_);
  const fs::path path = dir_ / snapshot.id;
  NEMESYST_ASSIGN_OR_RETURN(snapshot.position, store_->CreateCheckpoint(path.string()));
  std::vector<fs::path> names;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename());
  }
  if (ec) return Status::IOError("listing '" + path.string() + "': " + ec.message());
  std::sort(names.begin(), names.end());
  for (const fs::path& name : names) {
    SnapshotFile f;
    f.name = name.string();
    f.size = fs::file_size(path / name, ec);
    if (ec) return Status::IOError("size of '" + (path / name).string() + "': " + ec.message());
    NEMESYST_ASSIGN_OR_RETURN(f.digest, FileDigest(path / name));
    snapshot.files.push_back(std::move(f));
  }
  current_ = std::move(snapshot);
  made_us_ = NowMicros();
  return &current_;
}

Result<std::string> SnapshotCache::ReadChunk(const std::string& id, uint32_t file, uint64_t offset,
                                             uint32_t max_bytes) const {
  if (id != current_.id || current_.id.empty()) {
    return Status::NotFound("snapshot '" + id + "' is not (or no longer) available");
  }
  if (file >= current_.files.size()) {
    return Status::InvalidArgument("snapshot '" + id + "' has no file " + std::to_string(file));
  }
  const SnapshotFile& f = current_.files[file];
  if (offset > f.size) return Status::InvalidArgument("offset past the end of " + f.name);
  const uint64_t n = std::min<uint64_t>(max_bytes, f.size - offset);
  std::ifstream in(dir_ / id / f.name, std::ios::binary);
  if (!in) return Status::IOError("cannot read snapshot file " + f.name);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string data(n, '\0');
  in.read(data.data(), static_cast<std::streamsize>(n));
  if (static_cast<uint64_t>(in.gcount()) != n) {
    return Status::IOError("snapshot file " + f.name + " is shorter than listed");
  }
  return data;
}

// ---- BootstrapReceiver -----------------------------------------------------------------------

BootstrapReceiver::BootstrapReceiver(fs::path incoming_dir) : dir_(std::move(incoming_dir)) {}
BootstrapReceiver::~BootstrapReceiver() = default;

Status BootstrapReceiver::SaveManifest() const {
  nlohmann::json files = nlohmann::json::array();
  for (size_t i = 0; i < files_.size(); ++i) {
    files.push_back({{"name", files_[i].name},
                     {"size", files_[i].size},
                     {"digest", files_[i].digest},
                     {"verified", static_cast<bool>(verified_[i])}});
  }
  const fs::path tmp = dir_ / (std::string(kManifest) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << nlohmann::json{{"id", id_}, {"files", files}}.dump();
    if (!out) return Status::IOError("cannot write the bootstrap manifest in " + dir_.string());
  }
  std::error_code ec;
  fs::rename(tmp, dir_ / kManifest, ec);
  return ec ? Status::IOError("cannot save the bootstrap manifest: " + ec.message()) : Status::OK();
}

Status BootstrapReceiver::Begin(const std::string& id, const std::vector<SnapshotFile>& files) {
  for (const SnapshotFile& f : files) {
    if (!SafeFileName(f.name) || f.digest.size() != kXxh128HexChars) {
      return Status::InvalidArgument("bootstrap: unacceptable snapshot file entry '" + f.name +
                                     "'");
    }
  }
  // Resume only the very same snapshot.
  bool resume = false;
  std::vector<bool> verified(files.size(), false);
  std::ifstream in(dir_ / kManifest);
  nlohmann::json manifest = nlohmann::json::parse(in, nullptr, false);
  try {  // a damaged manifest (wrong types) means starting over, not a crash
    if (manifest.is_object() && manifest.value("id", "") == id && manifest.contains("files") &&
        manifest["files"].is_array() && manifest["files"].size() == files.size()) {
      resume = true;
      for (size_t i = 0; i < files.size() && resume; ++i) {
        const auto& m = manifest["files"][i];
        resume = m.is_object() && m.value("name", "") == files[i].name &&
                 JsonInteger(m, "size", uint64_t{0}) == files[i].size &&
                 m.value("digest", "") == files[i].digest;
        verified[i] = resume && m.value("verified", false);
      }
    }
  } catch (const nlohmann::json::exception&) {
    resume = false;
  }
  std::error_code ec;
  if (!resume) {
    fs::remove_all(dir_, ec);
    verified.assign(files.size(), false);
  }
  fs::create_directories(dir_, ec);
  if (ec) return Status::IOError("cannot create '" + dir_.string() + "': " + ec.message());
  id_ = id;
  files_ = files;
  verified_ = verified;
  have_.assign(files.size(), 0);
  digests_.clear();
  for (size_t i = 0; i < files.size(); ++i) {
    const fs::path path = dir_ / files[i].name;
    uint64_t size = fs::exists(path, ec) ? fs::file_size(path, ec) : 0;
    if (size > files[i].size || (verified_[i] && size != files[i].size)) {
      fs::resize_file(path, 0, ec);  // longer than listed, or a "verified" file that changed
      size = 0;
      verified_[i] = false;
    }
    have_[i] = size;
    digests_.push_back(std::make_unique<Xxh128>());
    if (!verified_[i] && size > 0) {
      // Resuming this file: its digest starts from what is on disk.
      std::ifstream in(path, std::ios::binary);
      std::string buffer(1 << 20, '\0');
      uint64_t left = size;
      while (left > 0 && in) {
        in.read(buffer.data(),
                static_cast<std::streamsize>(std::min<uint64_t>(left, buffer.size())));
        const auto got = static_cast<size_t>(in.gcount());
        digests_[i]->Update(std::string_view(buffer.data(), got));
        left -= got;
      }
      if (left > 0) {
        fs::resize_file(path, 0, ec);
        have_[i] = 0;
        digests_[i] = std::make_unique<Xxh128>();
      }
    }
  }
  return SaveManifest();
}

bool BootstrapReceiver::NextFetch(uint32_t* file, uint64_t* offset) const {
  for (size_t i = 0; i < files_.size(); ++i) {
    if (!verified_[i]) {
      *file = static_cast<uint32_t>(i);
      *offset = have_[i];
      return true;
    }
  }
  return false;
}

uint64_t BootstrapReceiver::file_size(uint32_t file) const {
  return file < files_.size() ? files_[file].size : 0;
}

bool BootstrapReceiver::complete() const {
  return active() && std::all_of(verified_.begin(), verified_.end(), [](bool v) { return v; });
}

Status BootstrapReceiver::OnChunk(uint32_t file, uint64_t offset, std::string_view data) {
  if (file >= files_.size() || verified_[file] || offset != have_[file]) return Status::OK();
  const SnapshotFile& f = files_[file];
  if (offset + data.size() > f.size) {
    return Status::InvalidArgument("bootstrap: chunk runs past the end of " + f.name);
  }
  {
    std::ofstream out(dir_ / f.name, std::ios::binary | std::ios::app);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return Status::IOError("cannot write " + (dir_ / f.name).string());
  }
  have_[file] += data.size();
  digests_[file]->Update(data);
  if (have_[file] < f.size) return Status::OK();
  if (digests_[file]->HexDigest() != f.digest) {
    std::error_code ec;
    fs::resize_file(dir_ / f.name, 0, ec);
    have_[file] = 0;
    digests_[file] = std::make_unique<Xxh128>();
    return Status::Corruption("bootstrap: " + f.name +
                              " failed its XXH3-128 digest; fetching it again");
  }
  verified_[file] = true;
  return SaveManifest();
}

uint64_t BootstrapReceiver::received_bytes() const {
  uint64_t n = 0;
  for (uint64_t h : have_) n += h;
  return n;
}

uint64_t BootstrapReceiver::total_bytes() const {
  uint64_t n = 0;
  for (const SnapshotFile& f : files_) n += f.size;
  return n;
}

Status BootstrapReceiver::Install(const fs::path& replica_dir) {
  if (!complete()) return Status::FailedPrecondition("bootstrap: not every file has arrived");
  for (const SnapshotFile& f : files_) NEMESYST_RETURN_IF_ERROR(FsyncPath(dir_ / f.name, false));
  std::error_code ec;
  fs::remove(dir_ / kManifest, ec);
  NEMESYST_RETURN_IF_ERROR(FsyncPath(dir_, true));
  const fs::path old = replica_dir.string() + ".old";
  fs::remove_all(old, ec);
  if (fs::exists(replica_dir, ec)) {
    fs::rename(replica_dir, old, ec);
    if (ec) return Status::IOError("cannot move the old replica aside: " + ec.message());
  }
  fs::rename(dir_, replica_dir, ec);
  if (ec)
    return Status::IOError("cannot move the bootstrapped replica into place: " + ec.message());
  NEMESYST_RETURN_IF_ERROR(FsyncPath(replica_dir.parent_path(), true));
  fs::remove_all(old, ec);
  id_.clear();
  files_.clear();
  have_.clear();
  verified_.clear();
  digests_.clear();
  return Status::OK();
}

}  // namespace nemesyst::nodes
