//===- EmuTestUtil.h - Helpers for the emulator tests ---------------*- C++ -*-===//
//
// This file implements helpers shared by the emulator unit tests: reading
// test inputs, running a one-warp PTX snippet over per-lane inputs, random
// data and bf16/f16 packing.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_TEST_EMUTESTUTIL_H
#define RINGRT_EMU_TEST_EMUTESTUTIL_H

#include "ringrt/emu/Emu.h"

#include "gtest/gtest.h"

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace emutest {

using namespace ringrt::emu;

inline std::string readInput(const std::string &name) {
  std::ifstream in(std::string(EMU_TEST_INPUTS) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::unique_ptr<Module> parseOrDie(const std::string &ptx) {
  std::string err;
  auto m = Module::parse(ptx, err);
  EXPECT_TRUE(m) << err;
  return m;
}

/// Wraps `body` in a kernel k(in, out) for one warp: %rd4 = &in[lane],
/// %rd5 = &out[lane] (u32 words; operand j of a lane is at [%rd4+128*j]),
/// %r0 = lane. Registers %r1-%r39, %rd6-%rd19, %p1-%p7, %rs1-%rs9, %f1-%f9
/// are free.
inline std::string warpKernel(const std::string &body,
                              const std::string &decls = "") {
  return R"(.version 8.0
.target sm_90a
.address_size 64
)" + decls + R"(
.visible .entry k(.param .u64 k_in, .param .u64 k_out)
{
  .reg .b32 %r<40>;
  .reg .b64 %rd<20>;
  .reg .pred %p<8>;
  .reg .b16 %rs<10>;
  .reg .f32 %f<10>;
  ld.param.u64 %rd1, [k_in];
  ld.param.u64 %rd2, [k_out];
  mov.u32 %r0, %tid.x;
  mul.wide.u32 %rd3, %r0, 4;
  add.s64 %rd4, %rd1, %rd3;
  add.s64 %rd5, %rd2, %rd3;
)" + body + R"(
  ret;
}
)";
}

/// Runs warpKernel(body, decls) on 32 lanes with `in` (32*j words) and returns
/// `outWords` words of output (poisoned with 0xdeadbeef before the launch).
inline std::vector<uint32_t> runWarp(const std::string &body,
                                     std::vector<uint32_t> in,
                                     size_t outWords = 32,
                                     std::string *errorOut = nullptr,
                                     const std::string &decls = "") {
  std::string err;
  auto m = Module::parse(warpKernel(body, decls), err);
  if (!m) {
    ADD_FAILURE() << err;
    return {};
  }
  Memory mem;
  in.resize(std::max<size_t>(in.size(), 32));
  std::vector<uint32_t> out(outWords, 0xdeadbeef);
  mem.registerRange(in.data(), in.size() * 4);
  mem.registerRange(out.data(), out.size() * 4);
  uint64_t pin = reinterpret_cast<uint64_t>(in.data());
  uint64_t pout = reinterpret_cast<uint64_t>(out.data());
  void *params[] = {&pin, &pout};
  bool ok = launch(*m, "k", Dim3{1, 1, 1}, Dim3{32, 1, 1}, 0, params, mem,
                   err);
  if (errorOut)
    *errorOut = ok ? "" : err;
  else
    EXPECT_TRUE(ok) << err;
  return out;
}

/// Wraps `body` in `.entry k(.param .u64 k_out)` with `decls` (shared
/// arrays) before it: %rd1 = out, %r0 = %tid.x, %r1 = warp, %r2 = lane.
/// Registers %r3-%r39, %rd2-%rd19, %p1-%p7, %f1-%f9 are free.
inline std::string ctaKernel(const std::string &decls,
                             const std::string &body,
                             const std::string &target = "sm_90a") {
  return ".version 8.0\n.target " + target + "\n.address_size 64\n" + decls +
         R"(
.visible .entry k(.param .u64 k_out)
{
  .reg .b32 %r<40>;
  .reg .b64 %rd<20>;
  .reg .pred %p<8>;
  .reg .f32 %f<10>;
  ld.param.u64 %rd1, [k_out];
  mov.u32 %r0, %tid.x;
  shr.u32 %r1, %r0, 5;
  and.b32 %r2, %r0, 31;
)" + body + R"(
  ret;
}
)";
}

/// Runs ctaKernel-style `ptx` on one CTA of `threads` threads with `out`
/// (poisoned words) as its parameter; returns the error ("" on success).
inline std::string runCta(const std::string &ptx, unsigned threads,
                          std::vector<uint32_t> &out,
                          LaunchOptions opts = LaunchOptions(),
                          unsigned dynamicShared = 0,
                          Profile *prof = nullptr) {
  std::string err;
  auto m = Module::parse(ptx, err);
  if (!m)
    return "parse: " + err;
  Memory mem;
  mem.registerRange(out.data(), out.size() * 4);
  uint64_t pout = reinterpret_cast<uint64_t>(out.data());
  void *params[] = {&pout};
  if (!launch(*m, "k", Dim3{1, 1, 1}, Dim3{threads, 1, 1}, dynamicShared,
              params, mem, err, prof, opts))
    return err;
  return "";
}

/// Expects `err` to contain every string of `parts`.
inline void expectAll(const std::string &err,
                      std::initializer_list<const char *> parts) {
  EXPECT_FALSE(err.empty()) << "expected an error";
  for (const char *p : parts)
    EXPECT_NE(err.find(p), std::string::npos)
        << "missing '" << p << "' in: " << err;
}

inline uint32_t fbits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
inline float bitsf(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

/// A random bf16 in [-2, 2) that is exactly representable (never zero).
inline uint16_t randomBF16(std::mt19937 &rng) {
  std::uniform_int_distribution<int> d(1, 255);
  float v = float(d(rng)) / 64.0f * (rng() & 1 ? 1.0f : -1.0f);
  return uint16_t(fbits(v) >> 16);
}
inline float bf16f(uint16_t h) { return bitsf(uint32_t(h) << 16); }

} // namespace emutest

#endif // RINGRT_EMU_TEST_EMUTESTUTIL_H
