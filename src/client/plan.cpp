#include "client/plan.hpp"

#include <algorithm>

namespace vidup::client {

std::vector<Part> plan_parts(std::uint64_t size, unsigned n) {
  const std::uint64_t count = std::max<std::uint64_t>(1, std::min<std::uint64_t>(std::max(n, 1U), size));
  std::vector<Part> parts;
  parts.reserve(static_cast<std::size_t>(count));
  const std::uint64_t base = size / count;
  const std::uint64_t extra = size % count;  // the first `extra` parts get one byte more
  std::uint64_t offset = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t length = base + (i < extra ? 1 : 0);
    parts.push_back(Part{offset, length});
    offset += length;
  }
  return parts;
}

std::uint64_t next_chunk(std::uint64_t offset, std::uint64_t end, std::uint64_t chunk) noexcept {
  const std::uint64_t left = end > offset ? end - offset : 0;
  return chunk == 0 ? left : std::min(left, chunk);
}

}  // namespace vidup::client
