#pragma once

#include "store/data_store.hpp"
#include "store/info_store.hpp"
#include "store/locker.hpp"

#include <memory>

namespace vidup::store {

// Owns the stores and says which optional capabilities are on. OPTIONS advertises extensions
// from here (via the handler), never from a hard-coded list.
class Composer {
 public:
  Composer(std::unique_ptr<DataStore> data, std::unique_ptr<InfoStore> info, std::unique_ptr<Locker> locker);

  // Registers optional capabilities; each pointer must be owned by the DataStore.
  void use_concater(Concater* c) { concater_ = c; }
  void use_content_server(ContentServer* s) { content_server_ = s; }
  void use_length_deferrer(bool on) { length_deferrer_ = on; }
  void use_terminater(bool on) { terminater_ = on; }

  [[nodiscard]] DataStore& data() const { return *data_; }
  [[nodiscard]] InfoStore& info() const { return *info_; }
  [[nodiscard]] Locker& locker() const { return *locker_; }
  [[nodiscard]] Concater* concater() const { return concater_; }
  [[nodiscard]] ContentServer* content_server() const { return content_server_; }
  [[nodiscard]] bool can_defer_length() const { return length_deferrer_; }
  [[nodiscard]] bool can_terminate() const { return terminater_; }

 private:
  std::unique_ptr<DataStore> data_;
  std::unique_ptr<InfoStore> info_;
  std::unique_ptr<Locker> locker_;
  Concater* concater_ = nullptr;
  ContentServer* content_server_ = nullptr;
  bool length_deferrer_ = false;
  bool terminater_ = false;
};

}  // namespace vidup::store
