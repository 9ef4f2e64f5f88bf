//===- GlobalInitTest.cpp - uninitialized global memory is an error -*- C++ -*-===//
//
// This file implements tests of Memory's initialization shadow: memory from
// Memory::alloc starts uninitialized, a kernel load of a byte that no
// kernel store, host copy or device copy wrote fails with the kernel,
// thread, PTX line, address and the allocation's base + offset, and
// copies move the state like valgrind (copying uninitialized bytes is no
// error).
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

using namespace emutest;

namespace {

/// A one-warp kernel (warpKernel: %rd4 = &in[lane], %rd5 = &out[lane]) over
/// `in` and `out`, 64 words each from Memory::alloc; `prepare` initializes
/// what the test wants before the launch.
struct InitRun {
  Memory mem;
  uint32_t *in = nullptr, *out = nullptr;
  std::string err;
  InitRun() {
    in = static_cast<uint32_t *>(mem.alloc(256));
    out = static_cast<uint32_t *>(mem.alloc(256));
  }
  /// Launches `body` (with `decls` before the entry); true on success.
  bool run(const std::string &body, const std::string &decls = "") {
    auto m = parseOrDie(warpKernel(body, decls));
    if (!m)
      return false;
    uint64_t a = reinterpret_cast<uint64_t>(in),
             b = reinterpret_cast<uint64_t>(out);
    void *params[] = {&a, &b};
    return launch(*m, "k", {1, 1, 1}, {32, 1, 1}, 0, params, mem, err);
  }
};

const char *kCopy = R"(
  ld.global.u32 %r1, [%rd4];
  st.global.u32 [%rd5], %r1;
)";

TEST(GlobalInit, LoadOfUninitializedGlobalFails) {
  InitRun r;
  EXPECT_FALSE(r.run(kCopy));
  EXPECT_NE(r.err.find("kernel 'k', CTA (0,0,0), thread (0,0,0), PTX line"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("'ld.global.u32'"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("reads uninitialized global memory: 4 of 4 bytes"),
            std::string::npos)
      << r.err;
  char base[64];
  std::snprintf(base, sizeof(base), ", allocation 0x%llx + 0 (of 256 bytes),",
                (unsigned long long)reinterpret_cast<uint64_t>(r.in));
  EXPECT_NE(r.err.find(base), std::string::npos) << r.err;
  // Nothing was stored: the faulting load stopped the launch.
  EXPECT_EQ(r.mem.firstUninitialized(r.out, 256), 0u);
}

TEST(GlobalInit, GenericLoadResolvingToGlobalFails) {
  InitRun r;
  EXPECT_FALSE(r.run("ld.u32 %r1, [%rd4];"));
  EXPECT_NE(r.err.find("reads uninitialized global memory"),
            std::string::npos)
      << r.err;
}

TEST(GlobalInit, LoadAfterHostCopyPasses) {
  InitRun r;
  std::vector<uint32_t> host(64);
  for (unsigned i = 0; i < 64; ++i)
    host[i] = 1000 + i;
  r.mem.write(r.in, host.data(), 256);
  EXPECT_TRUE(r.run(kCopy)) << r.err;
  for (unsigned i = 0; i < 32; ++i)
    EXPECT_EQ(r.out[i], 1000 + i);
  // The stores initialized out[0..32) and nothing else.
  EXPECT_EQ(r.mem.firstUninitialized(r.out, 256), 128u);
}

TEST(GlobalInit, LoadAfterStorePasses) {
  InitRun r;
  // Each lane stores its word, then loads it back; a second launch reads
  // what the first one stored.
  EXPECT_TRUE(r.run(R"(
  st.global.u32 [%rd4], %r0;
  ld.global.u32 %r1, [%rd4];
  st.global.u32 [%rd5], %r1;
)")) << r.err;
  EXPECT_TRUE(r.run(kCopy)) << r.err;
  EXPECT_EQ(r.out[31], 31u);
  // One lane more than was stored reads an uninitialized word.
  EXPECT_FALSE(r.run("ld.global.u32 %r1, [%rd4+4];"));
  EXPECT_NE(r.err.find("thread (31,0,0)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" + 128 (of 256 bytes)"), std::string::npos) << r.err;
}

TEST(GlobalInit, PartiallyInitialized16ByteLoadFails) {
  InitRun r;
  std::vector<uint8_t> host(256, 7);
  // Byte 15 of lane 0's 16 bytes is never written.
  auto *bytes = reinterpret_cast<uint8_t *>(r.in);
  r.mem.write(bytes, host.data(), 15);
  r.mem.write(bytes + 16, host.data(), 240);
  EXPECT_FALSE(r.run(R"(
  mul.wide.u32 %rd6, %r0, 16;
  add.s64 %rd7, %rd1, %rd6;
  ld.global.v4.u32 {%r1, %r2, %r3, %r4}, [%rd7];
)"));
  EXPECT_NE(r.err.find("thread (0,0,0)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 of 16 bytes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" + 15 (of 256 bytes)"), std::string::npos) << r.err;
}

const char *kSharedBuf = ".shared .align 16 .b8 buf[512];\n";

TEST(GlobalInit, CpAsyncFromUninitializedGlobalFails) {
  InitRun r;
  EXPECT_FALSE(r.run(R"(
  mov.u32 %r1, buf;
  mul.lo.u32 %r2, %r0, 4;
  add.u32 %r3, %r1, %r2;
  cp.async.ca.shared.global [%r3], [%rd4], 4;
  cp.async.commit_group;
  cp.async.wait_all;
)",
                     kSharedBuf));
  EXPECT_NE(r.err.find("'cp.async.ca.shared.global"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("reads uninitialized global memory"),
            std::string::npos)
      << r.err;
}

TEST(GlobalInit, CpAsyncReadsOnlyItsSourceBytes) {
  InitRun r;
  // 16-byte copies with src-size 8: only the first 8 bytes of each 16 are
  // read (the rest is zero-filled), so only they must be initialized.
  std::vector<uint8_t> host(8, 3);
  for (unsigned c = 0; c < 16; ++c)
    r.mem.write(reinterpret_cast<uint8_t *>(r.in) + 16 * c, host.data(), 8);
  const char *body = R"(
  mov.u32 %r1, buf;
  mul.lo.u32 %r2, %r0, 16;
  add.u32 %r3, %r1, %r2;
  mul.wide.u32 %rd6, %r0, 16;
  add.s64 %rd7, %rd1, %rd6;
  setp.lt.u32 %p1, %r0, 16;
  @%p1 cp.async.cg.shared.global [%r3], [%rd7], 16, SRC;
  cp.async.commit_group;
  cp.async.wait_all;
)";
  std::string ok = body, bad = body;
  ok.replace(ok.find("SRC"), 3, "8");
  bad.replace(bad.find("SRC"), 3, "9");
  EXPECT_TRUE(r.run(ok, kSharedBuf)) << r.err;
  EXPECT_FALSE(r.run(bad, kSharedBuf));
  EXPECT_NE(r.err.find("1 of 9 bytes"), std::string::npos) << r.err;
}

TEST(GlobalInit, RegisteredRangesAreInitialized) {
  Memory mem;
  std::vector<uint32_t> host(8);
  mem.registerRange(host.data(), 32);
  EXPECT_EQ(mem.firstUninitialized(host.data(), 32), 32u);
}

TEST(GlobalInit, CopiesMoveTheState) {
  Memory mem;
  auto *a = static_cast<uint8_t *>(mem.alloc(64));
  auto *b = static_cast<uint8_t *>(mem.alloc(64));
  EXPECT_EQ(mem.firstUninitialized(a, 64), 0u);
  mem.fill(a, 0, 16);
  mem.markInitialized(a + 32, 8);
  // b[0..64) = a[0..64): bytes 0..16 and 32..40 initialized, like a's.
  mem.copy(b, a, 64);
  EXPECT_EQ(mem.firstUninitialized(b, 64), 16u);
  EXPECT_EQ(mem.firstUninitialized(b + 32, 8), 8u);
  EXPECT_EQ(mem.firstUninitialized(b + 32, 9), 8u);
  // Host memory copied in is initialized.
  std::vector<uint8_t> host(64, 1);
  mem.copy(b, host.data(), 64);
  EXPECT_EQ(mem.firstUninitialized(b, 64), 64u);
}

} // namespace
