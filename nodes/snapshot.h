// Bootstrapping a follower from a RocksDB checkpoint of its leader's store.
//
// Leader side, SnapshotCache: makes a checkpoint (hard links: same filesystem as the store) in
// its own directory, lists its files with their sizes and XXH3-128 digest, serves chunks by (file,
// offset), and keeps it while followers fetch it (one snapshot serves every follower that needs
// one; it is replaced when older than `max_age_s` and deleted when the cache goes).
//
// Follower side, BootstrapReceiver: writes the files into an incoming directory next to the
// replica, one chunk at a time at the offset it asked for, verifies each file's XXH3-128 digest
// when it is complete (a bad one is fetched again from 0), and records progress in a manifest
// there, so a bootstrap interrupted half-way — connection lost, process killed — resumes with the
// same snapshot where it stopped. Install() swaps the directory in for the replica (after fsyncing
// the files): the old replica goes only once the new one is in place.
//
// Thread-safety: one thread (the node's network thread) per object.
#ifndef NEMESYST_NODES_SNAPSHOT_H_
#define NEMESYST_NODES_SNAPSHOT_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nemesyst/status.h"
#include "nemesyst/store.h"
#include "nodes/wire.h"

namespace nemesyst {
class Xxh128;
}

namespace nemesyst::nodes {

class SnapshotCache {
 public:
  // `dir`: where checkpoints are made (must be on the store's filesystem; emptied now).
  SnapshotCache(const Store* store, std::filesystem::path dir, int64_t max_age_s = 600);
  ~SnapshotCache();

  struct Snapshot {
    std::string id;
    uint64_t position = 0;  // the store's last change position when it was taken (at least)
    std::vector<SnapshotFile> files;
  };
  // The current snapshot, made now when there is none, it is too old, or the journal no longer
  // holds the changes after it.
  Result<const Snapshot*> Current();
  // Up to `max_bytes` of file `file` of snapshot `id` from `offset`. NotFound for another id.
  Result<std::string> ReadChunk(const std::string& id, uint32_t file, uint64_t offset,
                                uint32_t max_bytes) const;

 private:
  void Drop();
  const Store* store_;
  std::filesystem::path dir_;
  int64_t max_age_s_;
  Snapshot current_;
  int64_t made_us_ = 0;
  uint64_t counter_ = 0;
};

class BootstrapReceiver {
 public:
  explicit BootstrapReceiver(std::filesystem::path incoming_dir);
  ~BootstrapReceiver();

  // Starts receiving `id`'s `files`, resuming what the incoming directory already holds of the
  // same snapshot (same id and file list), else from nothing.
  Status Begin(const std::string& id, const std::vector<SnapshotFile>& files);
  bool active() const { return !id_.empty(); }
  const std::string& snapshot_id() const { return id_; }
  // What to fetch next: the file and offset; false when every file is complete.
  bool NextFetch(uint32_t* file, uint64_t* offset) const;
  uint64_t file_size(uint32_t file) const;  // as listed (0 for no such file)
  size_t file_count() const { return files_.size(); }
  bool verified(uint32_t file) const { return file < verified_.size() && verified_[file]; }
  uint64_t have(uint32_t file) const { return file < have_.size() ? have_[file] : 0; }
  // A chunk arrived. Chunks not at the expected offset (duplicates, stale ones) are ignored
  // (returns OK). Corruption when a completed file fails its digest (it is restarted from 0).
  Status OnChunk(uint32_t file, uint64_t offset, std::string_view data);
  bool complete() const;
  // Replaces `replica_dir` by the received files (fsynced, then renamed into place).
  Status Install(const std::filesystem::path& replica_dir);
  // Bytes received so far / in all.
  uint64_t received_bytes() const;
  uint64_t total_bytes() const;

 private:
  Status SaveManifest() const;
  std::filesystem::path dir_;
  std::string id_;
  std::vector<SnapshotFile> files_;
  std::vector<uint64_t> have_;  // bytes of each file on disk
  std::vector<bool> verified_;
  // Each file's digest so far, fed as chunks arrive (a completed file is not read back).
  std::vector<std::unique_ptr<Xxh128>> digests_;
};

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_SNAPSHOT_H_
