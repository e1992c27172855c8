#pragma once
// How --parallel splits a file into partial uploads.

#include <cstdint>
#include <vector>

namespace vidup::client {

struct Part {
  std::uint64_t offset = 0;  // first byte of the part in the file
  std::uint64_t length = 0;
};

// min(n, size) parts (at least one, so an empty file is one empty part), contiguous, in order,
// covering [0, size) exactly, lengths differing by at most one byte. n == 0 counts as 1.
[[nodiscard]] std::vector<Part> plan_parts(std::uint64_t size, unsigned n);

// The chunks of one PATCH loop: [offset, end) cut into pieces of at most `chunk` bytes
// (chunk == 0: one piece). Returns the length of the next piece from `offset`.
[[nodiscard]] std::uint64_t next_chunk(std::uint64_t offset, std::uint64_t end, std::uint64_t chunk) noexcept;

}  // namespace vidup::client
