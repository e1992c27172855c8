#pragma once
// FUZZ_CHECK: a property of a fuzz target. A violated property prints what was violated and
// aborts, so libFuzzer reports it as a crash and keeps the input.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                                       \
  do {                                                                                               \
    if (!(cond)) {                                                                                   \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, what); \
      std::abort();                                                                                  \
    }                                                                                                \
  } while (false)
