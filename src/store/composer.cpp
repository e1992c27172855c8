#include "store/composer.hpp"

#include <cassert>

namespace vidup::store {

Composer::Composer(std::unique_ptr<DataStore> data, std::unique_ptr<InfoStore> info, std::unique_ptr<Locker> locker)
    : data_(std::move(data)), info_(std::move(info)), locker_(std::move(locker)) {
  assert(data_ && info_ && locker_ && "a Composer needs all three stores");
}

}  // namespace vidup::store
