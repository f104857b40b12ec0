// Shared helpers of the storage tests: a temporary store directory, a small schema, records whose
// contents can be recomputed from their identity, and direct RocksDB access for hand-corrupting
// stored bytes.
#ifndef NEMESYST_TESTS_STORAGE_STORE_FIXTURE_H_
#define NEMESYST_TESTS_STORAGE_STORE_FIXTURE_H_

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "nemesyst/store.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::testing {

// temperature_c float32 [-50, 150], power_kw float64, door_open int32 [0, 1]
inline StreamSchema FridgeSchema() {
  StreamSchema schema;
  schema.fields.push_back({"temperature_c", FieldType::kFloat32, "degC", -50.0, 150.0});
  schema.fields.push_back({"power_kw", FieldType::kFloat64, "kW", std::nullopt, std::nullopt});
  schema.fields.push_back({"door_open", FieldType::kInt32, "", 0.0, 1.0});
  return schema;
}

inline Record FridgeRecord(const std::string& device, int64_t ts_us, double temperature = 4.5,
                           double power = 1.25, double door = 0) {
  return Record{device, ts_us, {temperature, power, door}};
}

inline std::unique_ptr<Store> OpenStore(const std::string& path,
                                        Durability durability = Durability::kAsync,
                                        StoreOptions options = {}) {
  options.durability = durability;
  std::unique_ptr<Store> store;
  Status s = Store::Open(options, path, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

inline std::vector<StoredRecord> ReadAll(const Store& store, const std::string& stream,
                                         const RecordQuery& query = {}) {
  std::vector<StoredRecord> out;
  auto it = store.Read(stream, query);
  EXPECT_TRUE(it.ok()) << it.status().ToString();
  if (!it.ok()) return out;
  for (; (*it)->Valid(); (*it)->Next()) out.push_back((*it)->record());
  EXPECT_TRUE((*it)->status().ok()) << (*it)->status().ToString();
  return out;
}

// Opens the store's RocksDB directly (the store must be closed) to read or corrupt raw bytes.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : {"default", "log", "groups", "models", "meta"}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    families[3].options.enable_blob_files = true;  // as the store configures `models`
    families[3].options.min_blob_size = 4096;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* log() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* groups() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* models() { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* meta() { return handles_[4]; }
  // Every key/value of `cf` whose key starts with `prefix`.
  std::vector<std::pair<std::string, std::string>> Scan(rocksdb::ColumnFamilyHandle* cf,
                                                        const std::string& prefix) {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      out.emplace_back(it->key().ToString(), it->value().ToString());
    }
    return out;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_STORAGE_STORE_FIXTURE_H_
