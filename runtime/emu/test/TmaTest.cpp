//===- TmaTest.cpp - Tensor maps and cp.async.bulk.tensor ----------*- C++ -*-===//
//
// This file tests encodeTensorMapTiled's validation against the rules the
// CUDA driver documents for cuTensorMapEncodeTiled, and tiled TMA loads and
// stores against the PTX ISA: the box is copied dimension 0 fastest,
// out-of-bounds elements are zero-filled (loads) or skipped (stores), the
// swizzle modes XOR the 16-byte chunk index (address bits 4..) with bits
// 7.., and completion is counted in bytes on the mbarrier (complete_tx).
// The tensor map reaches the kernel as a `.param .align 64 .b8 [128]`, by
// its generic address (cvta.param) or as a copy in global memory.
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

using namespace emutest;

namespace {

enum : unsigned { kU16 = 1, kF32 = 7, kBF16 = 9 }; // CUtensorMapDataType

struct alignas(64) MapBytes {
  uint8_t b[128];
};

std::string encode(MapBytes &m, unsigned type, unsigned rank, const void *p,
                   std::vector<uint64_t> dims, std::vector<uint64_t> strides,
                   std::vector<uint32_t> box, std::vector<uint32_t> es,
                   unsigned swizzle, unsigned oob = 0, unsigned inter = 0) {
  std::string err;
  if (!encodeTensorMapTiled(&m, type, rank, p, dims.data(), strides.data(),
                            box.data(), es.data(), inter, swizzle, 0, oob,
                            err))
    return err;
  return "";
}

TEST(TensorMap, ValidationFollowsTheDriver) {
  alignas(256) static uint16_t data[64 * 64];
  MapBytes m;
  auto ok = [&](std::vector<uint32_t> box, unsigned sw) {
    return encode(m, kBF16, 2, data, {64, 64}, {128}, box, {1, 1}, sw);
  };
  EXPECT_EQ(ok({64, 64}, 3), "");
  EXPECT_EQ(ok({16, 8}, 1), "");
  EXPECT_NE(ok({64, 8}, 2).find("the inner box dimension is 128 bytes, more "
                                "than the 64-byte span of swizzle mode 2"),
            std::string::npos);
  EXPECT_NE(ok({4, 8}, 0).find("boxDim[0] * 2 = 8 bytes must be a multiple "
                               "of 16"),
            std::string::npos);
  EXPECT_NE(ok({64, 257}, 0).find("boxDim[1] = 257 is out of range"),
            std::string::npos);
  EXPECT_NE(encode(m, kBF16, 2, data + 1, {64, 64}, {128}, {64, 8}, {1, 1}, 0)
                .find("must be 16-byte aligned"),
            std::string::npos);
  EXPECT_NE(encode(m, kBF16, 2, data, {64, 64}, {120}, {64, 8}, {1, 1}, 0)
                .find("globalStrides[0] = 120 must be a multiple of 16"),
            std::string::npos);
  EXPECT_NE(encode(m, kBF16, 2, data, {64, 64}, {uint64_t(1) << 40},
                   {64, 8}, {1, 1}, 0)
                .find("below 2^40"),
            std::string::npos);
  EXPECT_NE(encode(m, kBF16, 6, data, {64, 64}, {128}, {64, 8}, {1, 1}, 0)
                .find("tensorRank 6 is out of range (valid: 1..5)"),
            std::string::npos);
  EXPECT_NE(encode(m, kBF16, 2, data, {0, 64}, {128}, {64, 8}, {1, 1}, 0)
                .find("globalDim[0] = 0"),
            std::string::npos);
  EXPECT_NE(encode(m, kBF16, 2, data, {64, 64}, {128}, {64, 8}, {1, 9}, 0)
                .find("elementStrides[1] = 9"),
            std::string::npos);
  EXPECT_NE(encode(m, kU16, 2, data, {64, 64}, {128}, {64, 8}, {1, 1}, 0, 1)
                .find("needs a floating-point tensorDataType"),
            std::string::npos);
  EXPECT_NE(encode(m, kBF16, 2, data, {64, 64}, {128}, {64, 8}, {1, 1}, 7)
                .find("swizzle 7 is not a CUtensorMapSwizzle"),
            std::string::npos);
  EXPECT_NE(encode(m, kBF16, 2, data, {64, 64}, {128}, {64, 8}, {1, 1}, 0, 0,
                   1)
                .find("at least 3 with an interleaved layout"),
            std::string::npos);
  std::string err;
  uint64_t dims[2] = {64, 64}, strides[1] = {128};
  uint32_t box[2] = {64, 8}, es[2] = {1, 1};
  EXPECT_FALSE(encodeTensorMapTiled(m.b + 8, kBF16, 2, data, dims, strides,
                                    box, es, 0, 0, 0, 0, err));
  EXPECT_NE(err.find("64-byte aligned"), std::string::npos) << err;
}

/// XOR swizzle of the ISA for CUtensorMapSwizzle `sw` (1 32B, 2 64B, 3 128B).
uint32_t swizzle(uint32_t addr, unsigned sw) {
  return addr ^ ((addr >> 3) & (((1u << sw) - 1) << 4));
}

/// Loads a box into shared memory (thread 0 issues, everybody waits), then
/// every thread copies the `bytes` bytes of shared memory to `out`.
/// `mapOperand` names the tensor map: "k_map" or a register.
std::string loadKernel(unsigned rank, const std::string &mapSetup,
                       const std::string &mapOperand,
                       const std::string &wait = R"(
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p2, [%r2], 0;
  @!%p2 bra WAIT;
)") {
  std::string coords;
  for (unsigned i = 0; i < rank; ++i)
    coords += (i ? ", %r" : "%r") + std::to_string(11 + i);
  return R"(.version 8.0
.target sm_90a
.address_size 64
.extern .shared .align 1024 .b8 smem[];
.visible .entry k(.param .align 64 .b8 k_map[128], .param .u64 k_out,
                  .param .u64 k_gmap, .param .u32 k_bytes,
                  .param .u32 k_c0, .param .u32 k_c1, .param .u32 k_c2)
{
  .reg .b32 %r<40>;
  .reg .b64 %rd<20>;
  .reg .pred %p<8>;
  ld.param.u64 %rd1, [k_out];
  ld.param.u32 %r10, [k_bytes];
  ld.param.u32 %r11, [k_c0];
  ld.param.u32 %r12, [k_c1];
  ld.param.u32 %r13, [k_c2];
)" + mapSetup + R"(
  mov.u32 %r0, %tid.x;
  mov.u32 %r1, smem;
  add.u32 %r2, %r1, 32768;
  setp.eq.u32 %p1, %r0, 0;
  @%p1 mbarrier.init.shared::cta.b64 [%r2], 1;
  @%p1 fence.mbarrier_init.release.cluster; // @INITFENCE
  bar.sync 0;
  @%p1 mbarrier.arrive.expect_tx.shared::cta.b64 _, [%r2], %r10; // @EXPECT
  @%p1 cp.async.bulk.tensor.)" +
         std::to_string(rank) +
         R"(d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%r1], [)" +
         mapOperand + ", {" + coords + R"(}], [%r2]; // @TMA
)" + wait + R"(
  shl.b32 %r3, %r0, 2;
COPY:
  setp.ge.u32 %p3, %r3, %r10;
  @%p3 bra DONE;
  add.u32 %r4, %r1, %r3;
  ld.shared.u32 %r5, [%r4]; // @READ
  cvt.u64.u32 %rd2, %r3;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r5;
  add.u32 %r3, %r3, 512;
  bra COPY;
DONE:
  ret;
}
)";
}

struct LoadRun {
  std::string err;
  std::vector<uint8_t> smem; ///< what the kernel copied out
};

LoadRun runLoad(const std::string &ptx, const MapBytes &map, uint32_t bytes,
                int c0, int c1, int c2, Memory &mem,
                const MapBytes *globalMap = nullptr) {
  LoadRun r;
  auto m = Module::parse(ptx, r.err);
  if (!m)
    return r;
  r.smem.assign(32768, 0xee);
  mem.registerRange(r.smem.data(), r.smem.size());
  uint64_t out = uint64_t(r.smem.data());
  uint64_t gmap = uint64_t(globalMap ? globalMap->b : nullptr);
  uint32_t cs[3] = {uint32_t(c0), uint32_t(c1), uint32_t(c2)};
  void *params[] = {const_cast<uint8_t *>(map.b), &out, &gmap, &bytes,
                    &cs[0], &cs[1], &cs[2]};
  Profile prof;
  if (launch(*m, "k", {1, 1, 1}, {128, 1, 1}, 32768 + 64, params, mem, r.err,
             &prof))
    r.err.clear();
  else
    return r;
  EXPECT_EQ(prof.tmaLoadBytes, bytes);
  mem.unregisterRange(r.smem.data());
  return r;
}

/// A 100 x 72 bf16 tensor (row pitch 80 elements), box 64 x 32 at (c0, c1).
struct Tensor2d {
  std::vector<uint16_t> data = std::vector<uint16_t>(100 * 80);
  Tensor2d() {
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = uint16_t(0x1000 + i);
  }
  /// Registers the tensor in `mem` and encodes its 64 x 32 box map with
  /// CUtensorMapSwizzle `sw`.
  std::string map(Memory &mem, MapBytes &m, unsigned sw) {
    mem.registerRange(data.data(), data.size() * 2);
    return encode(m, kBF16, 2, data.data(), {72, 100}, {160}, {64, 32},
                  {1, 1}, sw);
  }
  /// Expected bytes of the box in shared memory.
  std::vector<uint16_t> expect(int c0, int c1, unsigned sw) const {
    std::vector<uint16_t> e(64 * 32);
    for (int r = 0; r < 32; ++r)
      for (int c = 0; c < 64; ++c) {
        int gr = c1 + r, gc = c0 + c;
        uint16_t v = (gr >= 0 && gr < 100 && gc >= 0 && gc < 72)
                         ? data[gr * 80 + gc]
                         : 0;
        uint32_t addr = swizzle(uint32_t((r * 64 + c) * 2), sw);
        e[addr / 2] = v;
      }
    return e;
  }
};

void checkLoad(const LoadRun &r, const std::vector<uint16_t> &e) {
  ASSERT_EQ(r.err, "");
  for (size_t i = 0; i < e.size(); ++i) {
    uint16_t got;
    std::memcpy(&got, &r.smem[2 * i], 2);
    ASSERT_EQ(got, e[i]) << "shared element " << i;
  }
}

TEST(Tma, Load2dSwizzlesAndZeroFills) {
  Tensor2d t;
  for (unsigned sw : {0u, 3u})
    for (auto c : {std::pair<int, int>{0, 0}, {8, 80}, {-8, -4}, {16, 90}}) {
      Memory mem;
      MapBytes map;
      ASSERT_EQ(t.map(mem, map, sw), "");
      LoadRun r = runLoad(loadKernel(2, "", "k_map"), map, 4096, c.first,
                          c.second, 0, mem);
      checkLoad(r, t.expect(c.first, c.second, sw));
    }
}

TEST(Tma, LoadOfUnwrittenGlobalIsAnError) {
  // A 100 x 72 bf16 tensor (row pitch 80) from Memory::alloc, written by the
  // host except element (row 5, column 10).
  Memory mem;
  auto *data = static_cast<uint16_t *>(mem.alloc(100 * 80 * 2));
  std::vector<uint16_t> host(100 * 80, 0x3f80);
  const size_t hole = 5 * 80 + 10;
  mem.write(data, host.data(), hole * 2);
  mem.write(data + hole + 1, host.data(), (host.size() - hole - 1) * 2);
  MapBytes map;
  ASSERT_EQ(encode(map, kBF16, 2, data, {72, 100}, {160}, {64, 32}, {1, 1},
                   0),
            "");
  LoadRun bad = runLoad(loadKernel(2, "", "k_map"), map, 4096, 0, 0, 0, mem);
  EXPECT_NE(bad.err.find("reads uninitialized global memory: 2 of 2 bytes"),
            std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find(" + 820 (of 16000 bytes)"), std::string::npos)
      << bad.err;
  mem.unregisterRange(bad.smem.data()); // runLoad keeps it after a failure
  // A box that misses the hole loads (its rows past 100 are zero-filled,
  // not read).
  LoadRun ok = runLoad(loadKernel(2, "", "k_map"), map, 4096, 0, 80, 0, mem);
  EXPECT_EQ(ok.err, "");
}

TEST(Tma, Swizzle32And64) {
  // Inner boxes of exactly the span: 16 bf16 (32B) and 32 bf16 (64B).
  std::vector<uint16_t> data(64 * 64);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = uint16_t(i * 7 + 3);
  for (unsigned sw : {1u, 2u}) {
    unsigned inner = sw == 1 ? 16 : 32;
    Memory mem;
    mem.registerRange(data.data(), data.size() * 2);
    MapBytes map;
    ASSERT_EQ(encode(map, kBF16, 2, data.data(), {64, 64}, {128},
                     {inner, 64}, {1, 1}, sw),
              "");
    LoadRun r = runLoad(loadKernel(2, "", "k_map"), map, inner * 64 * 2, 16,
                        0, 0, mem);
    std::vector<uint16_t> e(inner * 64);
    for (unsigned row = 0; row < 64; ++row)
      for (unsigned c = 0; c < inner; ++c)
        e[swizzle((row * inner + c) * 2, sw) / 2] = data[row * 64 + 16 + c];
    checkLoad(r, e);
  }
}

TEST(Tma, MapFromGenericParamAddressAndGlobalCopy) {
  Tensor2d t;
  Memory mem;
  MapBytes map;
  ASSERT_EQ(t.map(mem, map, 3), "");
  // cvta.param gives the generic address of the parameter.
  checkLoad(runLoad(loadKernel(2, "  mov.u64 %rd5, k_map;\n"
                                  "  cvta.param.u64 %rd6, %rd5;\n",
                               "%rd6"),
                    map, 4096, 4, 2, 0, mem),
            t.expect(4, 2, 3));
  // A copy in global memory, 64-byte aligned.
  static MapBytes global;
  global = map;
  mem.registerRange(global.b, 128);
  checkLoad(runLoad(loadKernel(2, "  ld.param.u64 %rd6, [k_gmap];\n", "%rd6"),
                    map, 4096, 4, 2, 0, mem, &global),
            t.expect(4, 2, 3));
}

TEST(Tma, Load3dWithElementStrides) {
  // dims (x 32, y 6, z 5) f32; box (8, 3, 2) with element stride 2 in y:
  // ceil(3/2) = 2 rows per plane, so 8*2*2 elements.
  std::vector<float> data(32 * 6 * 5);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = float(i);
  Memory mem;
  mem.registerRange(data.data(), data.size() * 4);
  MapBytes map;
  ASSERT_EQ(encode(map, kF32, 3, data.data(), {32, 6, 5}, {128, 768},
                   {8, 3, 2}, {1, 2, 1}, 0),
            "");
  LoadRun r = runLoad(loadKernel(3, "", "k_map"), map, 8 * 2 * 2 * 4, 20, 1,
                      4, mem);
  ASSERT_EQ(r.err, "");
  unsigned i = 0;
  for (int z = 0; z < 2; ++z)
    for (int y = 0; y < 2; ++y)
      for (int xx = 0; xx < 8; ++xx, ++i) {
        int gx = 20 + xx, gy = 1 + 2 * y, gz = 4 + z;
        float e = (gx < 32 && gy < 6 && gz < 5)
                      ? data[(gz * 6 + gy) * 32 + gx]
                      : 0.0f;
        float got;
        std::memcpy(&got, &r.smem[4 * i], 4);
        EXPECT_EQ(got, e) << "element " << i;
      }
}

TEST(Tma, ReadingBeforeTheMbarrierWaitIsARace) {
  Tensor2d t;
  Memory mem;
  MapBytes map;
  ASSERT_EQ(t.map(mem, map, 3), "");
  LoadRun r = runLoad(loadKernel(2, "", "k_map", ""), map, 4096, 0, 0, 0, mem);
  // In either order: a read before or after the TMA write, unordered.
  expectAll(r.err, {"data race on shared memory address", "TMA write",
                    "cp.async.bulk.tensor", "ld.shared.u32"});
}

TEST(Tma, WrongExpectTxDeadlocks) {
  Tensor2d t;
  Memory mem;
  MapBytes map;
  ASSERT_EQ(t.map(mem, map, 3), "");
  // The kernel expects 8192 bytes but the box has 4096.
  std::string ptx = loadKernel(2, "  add.u32 %r10, %r10, 4096;\n", "k_map");
  LoadRun r = runLoad(ptx, map, 4096, 0, 0, 0, mem);
  expectAll(r.err, {"deadlock", "mbarrier at shared address 0x8000",
                    "current phase 0, parity 0: 0 of 1 arrivals pending, "
                    "tx-count 4096"});
}

TEST(Tma, MbarrierInitNeedsAFenceBeforeComplete) {
  Tensor2d t;
  Memory mem;
  MapBytes map;
  ASSERT_EQ(t.map(mem, map, 3), "");
  std::string ptx = loadKernel(2, "", "k_map");
  std::string noFence = ptx;
  noFence.erase(noFence.find("  @%p1 fence.mbarrier_init"),
                noFence.find("\n", noFence.find("@INITFENCE")) + 1 -
                    noFence.find("  @%p1 fence.mbarrier_init"));
  LoadRun r = runLoad(noFence, map, 4096, 0, 0, 0, mem);
  expectAll(r.err, {"the complete_tx of this TMA uses the mbarrier at shared "
                    "address 0x8000 initialized by thread (0,0,0)",
                    "which executed no fence.proxy.async or "
                    "fence.mbarrier_init after the init"});
  // fence.proxy.async serves as well.
  std::string proxy = ptx;
  proxy.replace(proxy.find("fence.mbarrier_init.release.cluster"), 35,
                "fence.proxy.async.shared::cta");
  checkLoad(runLoad(proxy, map, 4096, 0, 0, 0, mem), t.expect(0, 0, 3));
}

TEST(Tma, StoreClipsAndNeedsAProxyFence) {
  std::vector<uint16_t> dst(40 * 48, 0x5555);
  auto kernel = [](bool fence) {
    return std::string(R"(.version 8.0
.target sm_90a
.address_size 64
.shared .align 128 .b8 tile[2048];
.visible .entry k(.param .align 64 .b8 k_map[128])
{
  .reg .b32 %r<20>;
  .reg .pred %p<4>;
  mov.u32 %r0, %tid.x;
  mov.u32 %r1, tile;
  shl.b32 %r2, %r0, 2;
  add.u32 %r3, %r1, %r2;
  add.u32 %r4, %r0, 1000;
  st.shared.u32 [%r3], %r4;
  add.u32 %r3, %r3, 1024;
  add.u32 %r4, %r4, 256;
  st.shared.u32 [%r3], %r4;
)") + (fence ? "  fence.proxy.async.shared::cta;\n" : "") + R"(
  bar.sync 0;
  setp.eq.u32 %p1, %r0, 0;
  mov.u32 %r5, 40;
  mov.u32 %r6, 30;
  @%p1 cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [k_map, {%r5, %r6}], [%r1];
  @%p1 cp.async.bulk.commit_group;
  @%p1 cp.async.bulk.wait_group.read 0;
  ret;
}
)";
  };
  MapBytes map;
  ASSERT_EQ(encode(map, kU16, 2, dst.data(), {48, 40}, {96}, {32, 16},
                   {1, 1}, 0),
            "");
  for (bool fence : {true, false}) {
    std::fill(dst.begin(), dst.end(), 0x5555);
    std::string err;
    auto m = Module::parse(kernel(fence), err);
    ASSERT_TRUE(m) << err;
    Memory mem;
    mem.registerRange(dst.data(), dst.size() * 2);
    void *params[] = {map.b};
    bool ok = launch(*m, "k", {1, 1, 1}, {256, 1, 1}, 0, params, mem, err);
    if (!fence) {
      EXPECT_FALSE(ok);
      expectAll(err, {"the async proxy (TMA store source read)",
                      "which executed no fence.proxy.async after that write"});
      continue;
    }
    ASSERT_TRUE(ok) << err;
    // Box (x 40..71, y 30..45) clipped to x < 48, y < 40.
    for (int y = 0; y < 40; ++y)
      for (int xx = 0; xx < 48; ++xx) {
        uint16_t e = 0x5555;
        if (xx >= 40 && y >= 30) {
          unsigned i = unsigned((y - 30) * 32 + (xx - 40)); // element index
          uint32_t word = 1000 + i / 2; // shared word i/2 holds 1000 + i/2
          e = uint16_t(i % 2 ? word >> 16 : word);
        }
        ASSERT_EQ(dst[y * 48 + xx], e) << "x " << xx << " y " << y;
      }
  }
}

} // namespace
