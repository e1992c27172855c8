#include "core/base64.hpp"

#include <array>
#include <cstdint>

namespace vidup::core {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  table.fill(kInvalid);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return table;
}

constexpr std::array<std::uint8_t, 256> kDecodeTable = make_decode_table();

}  // namespace

std::optional<std::string> base64_decode(std::string_view in) {
  // Padding, if any, must complete the last quantum to 4 characters: "YQ==" or "YWI=", never
  // "YQ=" or a lone "=". Without padding a quantum of 1 character cannot encode a byte.
  std::size_t data_len = in.size();
  while (data_len > 0 && in[data_len - 1] == '=') {
    --data_len;
  }
  const std::size_t padding = in.size() - data_len;
  const std::size_t tail = data_len % 4;
  if (tail == 1) {
    return std::nullopt;
  }
  if (padding != 0 && (tail == 0 || padding != 4 - tail)) {
    return std::nullopt;
  }

  std::string out;
  out.reserve(data_len / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (std::size_t i = 0; i < data_len; ++i) {
    const std::uint8_t v = kDecodeTable[static_cast<unsigned char>(in[i])];
    if (v == kInvalid) {
      return std::nullopt;  // outside the alphabet, or an '=' before the end
    }
    bits = (bits << 6) | v;
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<char>((bits >> bit_count) & 0xffU));
    }
  }
  // Leftover bits (2 or 4) are padding bits of the last character and must be zero (canonical).
  if ((bits & ((1U << bit_count) - 1U)) != 0) {
    return std::nullopt;
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t n = (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8) |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 2]));
    out.push_back(kAlphabet[(n >> 18) & 0x3fU]);
    out.push_back(kAlphabet[(n >> 12) & 0x3fU]);
    out.push_back(kAlphabet[(n >> 6) & 0x3fU]);
    out.push_back(kAlphabet[n & 0x3fU]);
  }
  const std::size_t rest = in.size() - i;
  if (rest == 0) {
    return out;
  }
  std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
  if (rest == 2) {
    n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
  }
  out.push_back(kAlphabet[(n >> 18) & 0x3fU]);
  out.push_back(kAlphabet[(n >> 12) & 0x3fU]);
  out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 0x3fU] : '=');
  out.push_back('=');
  return out;
}

}  // namespace vidup::core
