//===- MemoryCheckTest.cpp - compute-sanitizer style checks ------*- C++ -*-===//
//
// This file implements tests that out-of-bounds and misaligned accesses are
// reported with the kernel, CTA, thread and address, and that the faulting
// instruction writes nothing.
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

using namespace emutest;

namespace {

std::string hexAddr(const void *p) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx",
                (unsigned long long)reinterpret_cast<uint64_t>(p));
  return buf;
}

TEST(MemoryCheck, GlobalOutOfBoundsStoreIsReportedAndNotDone) {
  std::vector<uint32_t> in(32, 7);
  std::string err;
  // Lane 31 stores one word past the 32-word output; nothing is written.
  auto out = runWarp(R"(
  add.s64 %rd6, %rd5, 4;
  st.global.u32 [%rd6], %r0;
)",
                     in, 32, &err);
  EXPECT_NE(err.find("kernel 'k'"), std::string::npos) << err;
  EXPECT_NE(err.find("CTA (0,0,0)"), std::string::npos) << err;
  EXPECT_NE(err.find("thread (31,0,0)"), std::string::npos) << err;
  EXPECT_NE(err.find("out-of-bounds global"), std::string::npos) << err;
  EXPECT_NE(err.find(hexAddr(out.data() + 32)), std::string::npos) << err;
  for (uint32_t v : out)
    EXPECT_EQ(v, 0xdeadbeefu);
}

TEST(MemoryCheck, MisalignedVectorLoad) {
  std::vector<uint32_t> in(128, 7);
  std::string err;
  runWarp(R"(
  mul.wide.u32 %rd6, %r0, 16;
  add.s64 %rd7, %rd1, %rd6;
  ld.global.v4.u32 {%r1, %r2, %r3, %r4}, [%rd7+8];
)",
          in, 32, &err);
  EXPECT_NE(err.find("misaligned global access of 16 bytes"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("thread (0,0,0)"), std::string::npos) << err;
  size_t at = err.find("address 0x");
  ASSERT_NE(at, std::string::npos) << err;
  uint64_t addr = std::stoull(err.substr(at + 8), nullptr, 16);
  EXPECT_EQ(addr % 16, 8u) << err; // base of lane 0's row + 8
}

TEST(MemoryCheck, SharedOutOfBounds) {
  std::string ptx = warpKernel(R"(
  mov.u32 %r1, buf;
  mul.lo.s32 %r2, %r0, 8;
  add.s32 %r3, %r1, %r2;
  st.shared.u32 [%r3], %r0;
)");
  ptx.insert(ptx.find(".visible"), ".shared .align 4 .b8 buf[128];\n");
  auto m = parseOrDie(ptx);
  ASSERT_TRUE(m);
  Memory mem;
  std::vector<uint32_t> in(32), out(32);
  uint64_t a = reinterpret_cast<uint64_t>(in.data()),
           b = reinterpret_cast<uint64_t>(out.data());
  void *params[] = {&a, &b};
  std::string err;
  EXPECT_FALSE(launch(*m, "k", {3, 1, 1}, {32, 1, 1}, 0, params, mem, err));
  EXPECT_NE(err.find("out-of-bounds shared access of 4 bytes at address "
                     "0x80"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("thread (16,0,0)"), std::string::npos) << err;
}

TEST(MemoryCheck, UnregisteredMemoryIsOutOfBounds) {
  auto m = parseOrDie(warpKernel("ld.global.u32 %r1, [%rd4];"));
  ASSERT_TRUE(m);
  Memory mem;
  std::vector<uint32_t> in(32), out(32);
  uint64_t a = reinterpret_cast<uint64_t>(in.data()),
           b = reinterpret_cast<uint64_t>(out.data());
  void *params[] = {&a, &b};
  std::string err;
  EXPECT_FALSE(launch(*m, "k", {1, 1, 1}, {32, 1, 1}, 0, params, mem, err));
  EXPECT_NE(err.find("not inside any device allocation"), std::string::npos)
      << err;
  mem.registerRange(in.data(), 128);
  EXPECT_TRUE(launch(*m, "k", {1, 1, 1}, {32, 1, 1}, 0, params, mem, err))
      << err;
}

TEST(MemoryCheck, FaultingStoreWritesNoLane) {
  std::vector<uint32_t> in(32, 7);
  std::string err;
  // Every lane stores 8 bytes at out + 8*lane + 4: misaligned for all, and
  // no lane's data may reach memory.
  auto out = runWarp(R"(
  mul.wide.u32 %rd6, %r0, 8;
  add.s64 %rd7, %rd2, %rd6;
  st.global.v2.u32 [%rd7+4], {%r0, %r0};
)",
                     in, 128, &err);
  EXPECT_NE(err.find("misaligned global access of 8 bytes"),
            std::string::npos)
      << err;
  for (uint32_t v : out)
    EXPECT_EQ(v, 0xdeadbeefu);
}

/// Runs a one-warp kernel with a 256-byte shared `buf` over 64 random input
/// words and 96 poisoned output words; returns the output.
static std::vector<uint32_t> runSharedWarp(const std::string &body,
                                           std::vector<uint32_t> &in,
                                           std::string &err, bool &ok) {
  std::string ptx = warpKernel(body);
  ptx.insert(ptx.find(".visible"), ".shared .align 4 .b8 buf[256];\n");
  auto m = parseOrDie(ptx);
  std::vector<uint32_t> out(96, 0xdeadbeef);
  ok = false;
  if (!m)
    return out;
  in.assign(64, 0);
  std::mt19937 rng(3);
  for (auto &v : in)
    v = rng() | 1;
  Memory mem;
  mem.registerRange(in.data(), in.size() * 4);
  mem.registerRange(out.data(), out.size() * 4);
  uint64_t a = reinterpret_cast<uint64_t>(in.data()),
           b = reinterpret_cast<uint64_t>(out.data());
  void *params[] = {&a, &b};
  ok = launch(*m, "k", {1, 1, 1}, {32, 1, 1}, 0, params, mem, err);
  return out;
}

TEST(MemoryCheck, ReadingSharedMemoryNothingWroteIsAnError) {
  // Lane l writes word l of buf, then every lane reads word l + 1: lane 31
  // reads past what anything wrote. A GPU returns stale data; the emulator
  // reports it when the CTA ends (a later racing write would be reported
  // as the race instead).
  std::vector<uint32_t> in;
  std::string err;
  bool ok;
  runSharedWarp(R"(
  mov.u32 %r1, buf;
  mul.lo.s32 %r2, %r0, 4;
  add.s32 %r3, %r1, %r2;
  st.shared.u16 [%r3], %r0;
  st.shared.u16 [%r3+2], %r0;
  bar.sync 0;
  ld.shared.u32 %r4, [%r3+4];
  st.global.u32 [%rd5], %r4;
)",
                in, err, ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(err.find("thread (31,0,0)"), std::string::npos) << err;
  EXPECT_NE(err.find("shared memory address 0x80"), std::string::npos)
      << err;
  EXPECT_NE(err.find("nothing in this CTA had written"), std::string::npos)
      << err;
  // Without lane 31's out-of-range read the same kernel is clean: two
  // half-word writes initialize the whole word.
  runSharedWarp(R"(
  mov.u32 %r1, buf;
  mul.lo.s32 %r2, %r0, 4;
  add.s32 %r3, %r1, %r2;
  st.shared.u16 [%r3], %r0;
  st.shared.u16 [%r3+2], %r0;
  bar.sync 0;
  setp.lt.u32 %p1, %r0, 31;
  @%p1 ld.shared.u32 %r4, [%r3+4];
)",
                in, err, ok);
  EXPECT_TRUE(ok) << err;
}

TEST(MemoryCheck, ReadingBeforeTheCpAsyncLandsIsAnError) {
  std::vector<uint32_t> in;
  std::string err;
  bool ok;
  runSharedWarp(R"(
  mov.u32 %r1, buf;
  mul.lo.s32 %r2, %r0, 4;
  add.s32 %r3, %r1, %r2;
  st.shared.u32 [%r3], %r0;
  cp.async.ca.shared.global [%r3], [%rd4], 4;
  cp.async.commit_group;
  ld.shared.u32 %r4, [%r3];
  cp.async.wait_all;
)",
                in, err, ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(err.find("thread (0,0,0)"), std::string::npos) << err;
  EXPECT_NE(err.find("ld.shared.u32"), std::string::npos) << err;
  EXPECT_NE(err.find("cp.async that has not landed"), std::string::npos)
      << err;
}

TEST(MemoryCheck, CpAsyncDataVisibleOnlyAfterWait) {
  // cp.async data lands at the wait_group that completes its group.
  std::vector<uint32_t> in;
  std::string err;
  bool ok;
  auto out = runSharedWarp(R"(
  mov.u32 %r1, buf;
  mul.lo.s32 %r2, %r0, 4;
  add.s32 %r3, %r1, %r2;
  cp.async.ca.shared.global [%r3], [%rd4], 4;
  cp.async.commit_group;
  cp.async.ca.shared.global [%r3+128], [%rd4+128], 4;
  cp.async.commit_group;
  cp.async.wait_group 1;
  ld.shared.u32 %r5, [%r3];
  st.global.u32 [%rd5+128], %r5;
  cp.async.wait_all;
  ld.shared.u32 %r6, [%r3+128];
  st.global.u32 [%rd5+256], %r6;
)",
                           in, err, ok);
  ASSERT_TRUE(ok) << err;
  for (unsigned l = 0; l < 32; ++l) {
    EXPECT_EQ(out[32 + l], in[l]) << l;      // group 0 completed
    EXPECT_EQ(out[64 + l], in[32 + l]) << l; // all completed
  }
}

TEST(Memory, Registry) {
  Memory mem;
  void *p = mem.alloc(100);
  ASSERT_TRUE(p);
  uint64_t a = reinterpret_cast<uint64_t>(p);
  EXPECT_TRUE(mem.contains(a, 100));
  EXPECT_TRUE(mem.contains(a + 96, 4));
  EXPECT_FALSE(mem.contains(a + 97, 4));
  EXPECT_FALSE(mem.contains(a - 1, 1));
  EXPECT_TRUE(mem.free(p));
  EXPECT_FALSE(mem.contains(a, 1));
  EXPECT_FALSE(mem.free(p));
}

} // namespace
