// vidup_parsers_bench: Google Benchmark for core's header parsers (one PATCH or POST parses a few
// of these per request). Each case parses a realistic valid header; the *_Invalid cases take the
// error path; each case first checks that its input parses (or fails) as intended. Run: build/bench/vidup_parsers_bench
// (or `make bench-parsers`).
#include "core/checksum.hpp"
#include "core/concat.hpp"
#include "core/integers.hpp"
#include "core/metadata.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {

using vidup::core::Errc;

void BM_ParseUint(benchmark::State& state) {
  const std::string text = "1073741824";
  if (!vidup::core::parse_uint(text, Errc::invalid_offset)) {
    state.SkipWithError("input does not parse");
    return;
  }
  for (auto _ : state) {
    auto r = vidup::core::parse_uint(text, Errc::invalid_offset);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseUint);

void BM_ParseUintInvalid(benchmark::State& state) {
  const std::string text = "+12 34";
  if (vidup::core::parse_uint(text, Errc::invalid_offset)) {
    state.SkipWithError("input unexpectedly parses");
    return;
  }
  for (auto _ : state) {
    auto r = vidup::core::parse_uint(text, Errc::invalid_offset);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseUintInvalid);

// tus-js-client's usual set: filename, filetype, name, relativePath (base64 values).
void BM_ParseMetadata(benchmark::State& state) {
  const std::string header =
      "filename bXktaG9saWRheS12aWRlby5tcDQ=,filetype dmlkZW8vbXA0,name bXktaG9saWRheS12aWRlby5tcDQ=,"
      "relativePath bnVsbA==,is_confidential";
  if (!vidup::core::parse_metadata(header)) {
    state.SkipWithError("input does not parse");
    return;
  }
  for (auto _ : state) {
    auto r = vidup::core::parse_metadata(header);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * header.size()));
}
BENCHMARK(BM_ParseMetadata);

// N pairs of 32-byte values: how the cost grows toward the 32-pair limit.
void BM_ParseMetadataPairs(benchmark::State& state) {
  std::string header;
  for (int i = 0; i < state.range(0); ++i) {
    header +=
        (i == 0 ? "" : ",") + std::string("key") + std::to_string(i) + " MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
  }
  if (!vidup::core::parse_metadata(header)) {
    state.SkipWithError("input does not parse");
    return;
  }
  for (auto _ : state) {
    auto r = vidup::core::parse_metadata(header);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * header.size()));
}
BENCHMARK(BM_ParseMetadataPairs)->Arg(1)->Arg(8)->Arg(32);

void BM_ParseMetadataInvalid(benchmark::State& state) {
  const std::string header = "filename bXktaG9saWRheS12aWRlby5tcDQ=,filetype not*base64";
  if (vidup::core::parse_metadata(header)) {
    state.SkipWithError("input unexpectedly parses");
    return;
  }
  for (auto _ : state) {
    auto r = vidup::core::parse_metadata(header);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseMetadataInvalid);

void BM_ParseChecksumSha1(benchmark::State& state) {
  const std::string header = "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=";
  if (!vidup::core::parse_checksum(header)) {
    state.SkipWithError("input does not parse");
    return;
  }
  for (auto _ : state) {
    auto r = vidup::core::parse_checksum(header);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseChecksumSha1);

void BM_ParseChecksumSha256(benchmark::State& state) {
  const std::string header = "sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  if (!vidup::core::parse_checksum(header)) {
    state.SkipWithError("input does not parse");
    return;
  }
  for (auto _ : state) {
    auto r = vidup::core::parse_checksum(header);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseChecksumSha256);

void BM_ParseConcatPartial(benchmark::State& state) {
  const std::string header = "partial";
  if (!vidup::core::parse_concat(header)) {
    state.SkipWithError("input does not parse");
    return;
  }
  for (auto _ : state) {
    auto r = vidup::core::parse_concat(header);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ParseConcatPartial);

// final;<url> x N with absolute URLs as tus-js-client sends them.
void BM_ParseConcatFinal(benchmark::State& state) {
  std::string header = "final;";
  for (int i = 0; i < state.range(0); ++i) {
    header += (i == 0 ? "" : " ") + std::string("http://127.0.0.1:8080/files/") + "a3f1c9e27b8d4c6f9e0a1b2c3d4e5f6" +
              std::to_string(i % 10);
  }
  if (!vidup::core::parse_concat(header)) {
    state.SkipWithError("input does not parse");
    return;
  }
  for (auto _ : state) {
    auto r = vidup::core::parse_concat(header);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * header.size()));
}
BENCHMARK(BM_ParseConcatFinal)->Arg(2)->Arg(16)->Arg(256);

}  // namespace

BENCHMARK_MAIN();
