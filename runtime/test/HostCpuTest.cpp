//===- HostCpuTest.cpp - tests of ringrt_cg_check_cpu -----------*- C++ -*-===//
//
// This file tests the host-CPU check that generated entry points run first:
// it agrees with the CPU's own answer for every feature ringrt knows, names
// what is missing and how to recompile, and rejects names it cannot check.
//
//===----------------------------------------------------------------------===//

#include "ringrt/codegen_abi.h"

#include "gtest/gtest.h"

#include <string>

namespace {

TEST(HostCpu, EmptyListPasses) {
  EXPECT_EQ(ringrt_cg_check_cpu(""), RINGRT_OK);
  EXPECT_EQ(ringrt_cg_check_cpu(nullptr), RINGRT_OK);
}

#if defined(__x86_64__)
TEST(HostCpu, AgreesWithTheCpu) {
  __builtin_cpu_init();
  struct Feature {
    const char *name;
    bool has;
  } features[] = {
      {"sse4.2", static_cast<bool>(__builtin_cpu_supports("sse4.2"))},
      {"avx", static_cast<bool>(__builtin_cpu_supports("avx"))},
      {"avx2", static_cast<bool>(__builtin_cpu_supports("avx2"))},
      {"fma", static_cast<bool>(__builtin_cpu_supports("fma"))},
      {"f16c", static_cast<bool>(__builtin_cpu_supports("f16c"))},
      {"avx512f", static_cast<bool>(__builtin_cpu_supports("avx512f"))},
      {"avx512bf16", static_cast<bool>(__builtin_cpu_supports("avx512bf16"))},
      {"avx512fp16", static_cast<bool>(__builtin_cpu_supports("avx512fp16"))},
  };
  int missing = 0;
  for (const Feature &f : features) {
    int32_t st = ringrt_cg_check_cpu(f.name);
    EXPECT_EQ(st == RINGRT_OK, f.has) << f.name;
    if (!f.has) {
      ++missing;
      std::string msg = ringrt_last_error();
      EXPECT_NE(msg.find(std::string("this CPU lacks ") + f.name),
                std::string::npos)
          << msg;
      EXPECT_NE(msg.find("--cpu=native"), std::string::npos) << msg;
    }
  }
  // A list fails when any one of its features is missing.
  std::string all;
  for (const Feature &f : features)
    all += std::string(all.empty() ? "" : ",") + f.name;
  EXPECT_EQ(ringrt_cg_check_cpu(all.c_str()) == RINGRT_OK, missing == 0);
}
#endif

TEST(HostCpu, UnknownFeatureIsAnError) {
  EXPECT_EQ(ringrt_cg_check_cpu("sse4.2,warp-drive"), RINGRT_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(ringrt_last_error()).find("cannot check (warp-drive)"),
            std::string::npos)
      << ringrt_last_error();
}

} // namespace
