//===- WgmmaTest.cpp - wgmma.mma_async against the PTX ISA layouts -*- C++ -*-===//
//
// This file tests wgmma.mma_async.m64nNk16 with expectations written from
// the PTX ISA text, independently of the emulator's code:
//  - the shared-memory images of A and B are laid out by the canonical
//    layouts of the ISA ("Shared Memory Matrix Layout"): swizzle atoms of 8
//    rows of W bytes (W = 32/64/128, 16 for no swizzle), K-major or
//    MN-major, atoms spaced by the LBO/SBO of the descriptor, and 16-byte
//    chunks XOR-swizzled by address bits 7.. into bits 4..;
//  - descriptors are packed by the ISA's "Matrix Descriptor Format";
//  - A fragments in registers and the D fragments follow the ISA's
//    register fragment figures for m64nNk16;
//  - results are compared with a float64 GEMM of exactly representable
//    inputs, so the f32 result must be exact.
// The negative tests check the asynchronous rules: accumulators read
// before wgmma.wait_group, a missing wgmma.fence or fence.proxy.async, a
// shared write under an in-flight wgmma, and a diverged warpgroup.
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

using namespace emutest;

namespace {

/// An exactly representable 16-bit value n/64, |n| in [1, 255].
struct Value {
  int n;
  double value() const { return n / 64.0; }
  uint16_t bf16() const { return uint16_t(fbits(float(value())) >> 16); }
  uint16_t f16() const {
    unsigned a = unsigned(std::abs(n)), p = 0;
    while ((a >> (p + 1)) != 0)
      ++p;
    unsigned mant = (a << (10 - p)) & 0x3ff;
    return uint16_t((n < 0 ? 0x8000 : 0) | ((p + 9) << 10) | mant);
  }
};

Value randomValue(std::mt19937 &rng) {
  std::uniform_int_distribution<int> d(1, 255);
  return Value{d(rng) * (rng() & 1 ? 1 : -1)};
}

/// Swizzle of the ISA: bits [4, 4+b) ^= bits [7, 7+b); b = log2(W/16).
uint32_t swizzle(uint32_t addr, unsigned W) {
  unsigned b = W == 128 ? 3 : W == 64 ? 2 : W == 32 ? 1 : 0;
  return addr ^ ((addr >> 3) & (((1u << b) - 1) << 4));
}

/// Descriptor swizzle field: 0 none, 1 128B, 2 64B, 3 32B.
uint64_t descriptor(uint32_t start, uint32_t lbo, uint32_t sbo, unsigned W) {
  uint64_t mode = W == 128 ? 1 : W == 64 ? 2 : W == 32 ? 3 : 0;
  return uint64_t(start >> 4) | (uint64_t(lbo >> 4) << 16) |
         (uint64_t(sbo >> 4) << 32) | (mode << 62);
}

/// Where a 16-bit operand element (mn, k) lives, for a tile of `mnSize`
/// rows (MN) by `kSize` columns (K) at `base`, with swizzle width W.
struct Placement {
  bool mnMajor;
  unsigned W; ///< 16: no swizzle
  uint32_t base, lbo, sbo;
  uint32_t at(unsigned mn, unsigned k) const {
    uint32_t off;
    if (!mnMajor && W == 16) // core matrices: 8 rows of 16 bytes
      off = (mn % 8) * 16 + (k % 8) * 2 + (mn / 8) * sbo + (k / 8) * lbo;
    else if (!mnMajor) // rows of W bytes along K, 8-row atoms by SBO
      off = (mn % 8) * W + k * 2 + (mn / 8) * sbo;
    else if (W == 16) // core matrices: 8 K-rows of 8 MN elements
      off = (mn % 8) * 2 + (k % 8) * 16 + (mn / 8) * sbo + (k / 8) * lbo;
    else // rows of W bytes along MN, atoms of 8 K-rows; LBO along MN
      off = (mn % (W / 2)) * 2 + (k % 8) * W + (mn / (W / 2)) * lbo +
            (k / 8) * sbo;
    return swizzle(base + off, W);
  }
  uint64_t desc() const { return descriptor(base, lbo, sbo, W); }
};

/// A placement of an mnSize x 16 operand at `base` with natural strides.
Placement place(bool mnMajor, unsigned W, uint32_t base, unsigned mnSize) {
  Placement p{mnMajor, W, base, 0, 0};
  if (!mnMajor && W == 16) {
    p.lbo = 128;                 // K core matrices adjacent
    p.sbo = 256;                 // then the next 8 rows
  } else if (!mnMajor) {
    p.lbo = 16;                  // unused (assumed 1)
    p.sbo = 8 * W;               // 8-row atoms back to back
  } else if (W == 16) {
    p.lbo = (mnSize / 8) * 128;  // next 8 K after all MN core matrices
    p.sbo = 128;                 // MN core matrices adjacent
  } else {
    p.sbo = 8 * W;               // next 8 K-rows
    p.lbo = 2 * 8 * W;           // next W/2 MN after both K halves
  }
  (void)mnSize;
  return p;
}

struct Config {
  unsigned N = 64;
  bool f16 = false;
  bool aRegs = false;
  bool transA = false, transB = false;
  unsigned W = 128;
  bool scaleD = false;
  int scaleA = 1, scaleB = 1;
  bool chain = false; // a second wgmma on the next K slice (K-major 128B)
};

constexpr uint32_t kBBase = 16384; ///< B after A's 16 KiB region (B may
                                   ///< take 32 KiB: 256 rows of 128 B)

/// The kernel: copies `img` into shared memory, runs the wgmma(s), stores
/// the N/2 accumulators of thread t to out[t * N/2 + j]. `edit` may alter
/// the text for the negative tests.
std::string wgmmaKernel(const Config &c) {
  const unsigned nd = c.N / 2;
  std::string dregs;
  for (unsigned j = 0; j < nd; ++j)
    dregs += (j ? ", %d" : "%d") + std::to_string(j);
  std::string type = c.f16 ? "f16" : "bf16";
  std::string mma = "wgmma.mma_async.sync.aligned.m64n" + std::to_string(c.N) +
                    "k16.f32." + type + "." + type + " {" + dregs + "}, " +
                    (c.aRegs ? "{%r20, %r21, %r22, %r23}" : "%rd10") +
                    ", %rd11, %p2, " + std::to_string(c.scaleA) + ", " +
                    std::to_string(c.scaleB) + ", " +
                    (c.aRegs ? "" : std::to_string(c.transA) + ", ") +
                    std::to_string(c.transB) + "; // @MMA\n";
  std::string s = R"(.version 8.0
.target sm_90a
.address_size 64
.extern .shared .align 1024 .b8 smem[];
.visible .entry k(.param .u64 k_img, .param .u64 k_out, .param .u64 k_da,
                  .param .u64 k_db, .param .u64 k_afrag, .param .u64 k_c)
{
  .reg .b32 %r<40>;
  .reg .b64 %rd<40>;
  .reg .pred %p<8>;
  .reg .f32 %d<130>;
  ld.param.u64 %rd1, [k_img];
  ld.param.u64 %rd2, [k_out];
  ld.param.u64 %rd10, [k_da];
  ld.param.u64 %rd11, [k_db];
  ld.param.u64 %rd3, [k_afrag];
  ld.param.u64 %rd4, [k_c];
  mov.u32 %r0, %tid.x;
  mov.u32 %r1, smem;
  shl.b32 %r3, %r0, 2;
COPY:
  setp.ge.u32 %p1, %r3, 65536;
  @%p1 bra COPIED;
  cvt.u64.u32 %rd5, %r3;
  add.s64 %rd6, %rd1, %rd5;
  ld.global.u32 %r4, [%rd6];
  add.u32 %r5, %r1, %r3;
  st.shared.u32 [%r5], %r4; // @ST
  add.u32 %r3, %r3, 512;
  bra COPY;
COPIED:
  fence.proxy.async.shared::cta; // @FENCE
  bar.sync 0;
  mul.wide.u32 %rd7, %r0, 16;
  add.s64 %rd8, %rd3, %rd7;
  ld.global.v4.u32 {%r20, %r21, %r22, %r23}, [%rd8];
  setp.ne.u32 %p2, )" + std::string(c.scaleD ? "1" : "0") + R"(, 0;
  mul.wide.u32 %rd12, %r0, )" + std::to_string(nd * 4) + R"(;
  add.s64 %rd13, %rd4, %rd12;
  add.s64 %rd14, %rd2, %rd12;
)";
  if (c.scaleD)
    for (unsigned j = 0; j < nd; ++j)
      s += "  ld.global.f32 %d" + std::to_string(j) + ", [%rd13+" +
           std::to_string(4 * j) + "];\n";
  s += "  wgmma.fence.sync.aligned; // @WFENCE\n" + mma;
  if (c.chain) {
    // The next 16 K of a 128B-swizzled K-major tile start 32 bytes later.
    s += "  add.s64 %rd10, %rd10, 2;\n  add.s64 %rd11, %rd11, 2;\n";
    // The second accumulates: scale-d is an always-true predicate.
    std::string second = mma;
    second.replace(second.find("%p2"), 3, "%p3");
    second.replace(second.find("@MMA"), 4, "@MMA2");
    s += "  setp.eq.u32 %p3, 0, 0;\n" + second;
  }
  s += "  wgmma.commit_group.sync.aligned;\n"
       "  wgmma.wait_group.sync.aligned 0; // @WAIT\n";
  for (unsigned j = 0; j < nd; ++j)
    s += "  st.global.f32 [%rd14+" + std::to_string(4 * j) + "], %d" +
         std::to_string(j) + ";\n";
  s += "  ret;\n}\n";
  return s;
}

/// Runs configuration `c` and checks D against a float64 GEMM; returns the
/// launch error for the negative tests (after `edit` of the kernel text).
std::string runWgmma(const Config &c, unsigned seed,
                     std::string (*edit)(std::string) = nullptr) {
  std::mt19937 rng(seed);
  const unsigned N = c.N, K = c.chain ? 32 : 16;
  std::vector<Value> A(64 * K), B(K * N);
  for (auto &v : A)
    v = randomValue(rng);
  for (auto &v : B)
    v = randomValue(rng);
  std::vector<uint8_t> img(65536, 0);
  auto put = [&](uint32_t addr, const Value &v) {
    uint16_t bits = c.f16 ? v.f16() : v.bf16();
    std::memcpy(&img[addr], &bits, 2);
  };
  // K slice s of a chained pair sits 32 bytes further along each row.
  for (unsigned s = 0; s < K / 16; ++s) {
    Placement pa = place(c.transA, c.W, 32 * s, 64);
    Placement pb = place(c.transB, c.W, kBBase + 32 * s, N);
    for (unsigned m = 0; m < 64; ++m)
      for (unsigned k = 0; k < 16; ++k)
        put(pa.at(m, k), A[m * K + 16 * s + k]);
    for (unsigned n = 0; n < N; ++n)
      for (unsigned k = 0; k < 16; ++k)
        put(pb.at(n, k), B[(16 * s + k) * N + n]);
  }
  uint64_t da = place(c.transA, c.W, 0, 64).desc();
  uint64_t db = place(c.transB, c.W, kBBase, N).desc();
  // A fragments of thread t (ISA figure "WGMMA .m64nNk16 register fragment
  // layout for matrix A"): a_e at row 16*warp + lane/4 + 8*(e%4 >= 2),
  // column 2*(lane%4) + (e&1) + 8*(e >= 4), two per register.
  std::vector<uint32_t> afrag(128 * 4);
  for (unsigned t = 0; t < 128; ++t)
    for (unsigned e = 0; e < 8; ++e) {
      unsigned w = t / 32, l = t % 32;
      unsigned row = 16 * w + l / 4 + ((e % 4) >= 2 ? 8 : 0);
      unsigned col = 2 * (l % 4) + (e & 1) + (e >= 4 ? 8 : 0);
      const Value &v = A[row * K + col];
      uint32_t bits = c.f16 ? v.f16() : v.bf16();
      afrag[t * 4 + e / 2] |= bits << (16 * (e & 1));
    }
  // D fragments (ISA figure "WGMMA .m64nNk16 register fragment layout for
  // accumulator matrix D"): d_j of thread t is row 16*warp + lane/4 +
  // 8*(j%4 >= 2), column 8*(j/4) + 2*(lane%4) + (j&1).
  const unsigned nd = N / 2;
  auto rowCol = [&](unsigned t, unsigned j, unsigned &row, unsigned &col) {
    unsigned w = t / 32, l = t % 32;
    row = 16 * w + l / 4 + ((j % 4) >= 2 ? 8 : 0);
    col = 8 * (j / 4) + 2 * (l % 4) + (j & 1);
  };
  std::vector<float> cInit(128 * nd);
  for (auto &v : cInit)
    v = float(randomValue(rng).value());
  std::vector<float> out(128 * nd, bitsf(0xdeadbeef));
  std::string text = wgmmaKernel(c);
  if (edit)
    text = edit(text);
  std::string err;
  auto m = Module::parse(text, err);
  if (!m)
    return "parse: " + err;
  Memory mem;
  mem.registerRange(img.data(), img.size());
  mem.registerRange(out.data(), out.size() * 4);
  mem.registerRange(afrag.data(), afrag.size() * 4);
  mem.registerRange(cInit.data(), cInit.size() * 4);
  uint64_t pimg = uint64_t(img.data()), pout = uint64_t(out.data()),
           pa = uint64_t(afrag.data()), pc = uint64_t(cInit.data());
  void *params[] = {&pimg, &pout, &da, &db, &pa, &pc};
  Profile prof;
  if (!launch(*m, "k", {1, 1, 1}, {128, 1, 1}, 65536, params, mem, err,
              &prof))
    return err;
  EXPECT_EQ(prof.wgmma, c.chain ? 2u : 1u);
  EXPECT_EQ(prof.wgmmaFlops, (c.chain ? 2u : 1u) * 2ull * 64 * N * 16);
  for (unsigned t = 0; t < 128; ++t)
    for (unsigned j = 0; j < nd; ++j) {
      unsigned row, col;
      rowCol(t, j, row, col);
      double ref = c.scaleD ? cInit[t * nd + j] : 0.0;
      for (unsigned k = 0; k < K; ++k)
        ref += c.scaleA * A[row * K + k].value() * c.scaleB *
               B[k * N + col].value();
      if (double(out[t * nd + j]) != ref)
        return "D[" + std::to_string(row) + "][" + std::to_string(col) +
               "] = " + std::to_string(out[t * nd + j]) + ", expected " +
               std::to_string(ref);
    }
  return "";
}

TEST(Wgmma, SharedOperandsSwizzle128AllN) {
  for (unsigned N : {8u, 16u, 24u, 64u, 80u, 96u, 128u, 192u, 256u}) {
    Config c;
    c.N = N;
    EXPECT_EQ(runWgmma(c, N), "") << "N=" << N;
  }
}

TEST(Wgmma, SwizzleModesAndMajorness) {
  for (unsigned W : {16u, 32u, 64u, 128u})
    for (bool tA : {false, true})
      for (bool tB : {false, true}) {
        Config c;
        c.W = W;
        c.transA = tA;
        c.transB = tB;
        EXPECT_EQ(runWgmma(c, W + 2 * tA + tB), "")
            << "W=" << W << " transA=" << tA << " transB=" << tB;
      }
}

TEST(Wgmma, MnMajorTwoAtomsAlongN) {
  Config c;
  c.N = 128;
  c.transB = true;
  EXPECT_EQ(runWgmma(c, 5), "");
  c.W = 64; // four 32-element atoms along N
  EXPECT_EQ(runWgmma(c, 6), "");
}

TEST(Wgmma, ARegistersF16AndBf16) {
  for (bool f16 : {false, true})
    for (unsigned N : {16u, 64u, 80u, 96u, 192u}) {
      Config c;
      c.N = N;
      c.f16 = f16;
      c.aRegs = true;
      c.transB = N == 64;
      EXPECT_EQ(runWgmma(c, N + f16), "") << "N=" << N << " f16=" << f16;
    }
}

TEST(Wgmma, ScaleDAndNegation) {
  Config c;
  c.scaleD = true;
  c.scaleA = -1;
  EXPECT_EQ(runWgmma(c, 11), "");
  c.scaleA = 1;
  c.scaleB = -1;
  c.aRegs = true;
  EXPECT_EQ(runWgmma(c, 12), "");
}

TEST(Wgmma, ChainedAccumulationOverK) {
  Config c;
  c.chain = true;
  EXPECT_EQ(runWgmma(c, 13), "");
  c.N = 256;
  EXPECT_EQ(runWgmma(c, 14), "");
}

TEST(Wgmma, ReadingAccumulatorsBeforeWaitGroupIsAnError) {
  Config c;
  std::string err = runWgmma(c, 21, [](std::string s) {
    // Move the wait after the stores of the accumulators.
    s.replace(s.find("  wgmma.wait_group.sync.aligned 0; // @WAIT\n"), 44,
              "");
    return s;
  });
  expectAll(err, {"reads register %d0, an accumulator of the in-flight",
                  "wgmma.mma_async", "that no wgmma.wait_group has retired"});
}

TEST(Wgmma, WaitGroupOneLeavesTheNewestInFlight) {
  Config c;
  std::string err = runWgmma(c, 22, [](std::string s) {
    s.replace(s.find("wait_group.sync.aligned 0"), 25,
              "wait_group.sync.aligned 1");
    return s;
  });
  expectAll(err, {"reads register %d0, an accumulator of the in-flight"});
}

TEST(Wgmma, MissingWgmmaFence) {
  Config c;
  c.scaleD = true;
  std::string err = runWgmma(c, 23, [](std::string s) {
    s.replace(s.find("  wgmma.fence.sync.aligned; // @WFENCE\n"), 39, "");
    return s;
  });
  expectAll(err, {"no wgmma.fence before the first wgmma.mma_async"});
  // A fence before the accumulators are loaded does not order them.
  err = runWgmma(c, 24, [](std::string s) {
    s.replace(s.find("  wgmma.fence.sync.aligned; // @WFENCE\n"), 39, "");
    s.insert(s.find("  ld.global.f32 %d0"), "  wgmma.fence.sync.aligned;\n");
    return s;
  });
  expectAll(err, {"register %d", "(accumulator) was written after the "
                                 "warp's last wgmma.fence"});
}

TEST(Wgmma, MissingProxyFence) {
  Config c;
  std::string err = runWgmma(c, 25, [](std::string s) {
    s.replace(s.find("  fence.proxy.async.shared::cta; // @FENCE\n"), 43, "");
    return s;
  });
  expectAll(err, {"the async proxy (wgmma.mma_async operand read) reads "
                  "shared memory address",
                  "written through the generic proxy by thread",
                  "which executed no fence.proxy.async after that write"});
}

TEST(Wgmma, SharedWriteUnderInFlightWgmma) {
  Config c;
  std::string err = runWgmma(c, 26, [](std::string s) {
    s.insert(s.find("  wgmma.commit_group"),
             "  st.shared.u32 [%r1], %r0; // @OVERWRITE\n");
    return s;
  });
  expectAll(err, {"this write of shared memory address 0x",
                  "overwrites an operand of the in-flight PTX line",
                  "a wgmma.wait_group must retire it first"});
}

TEST(Wgmma, DivergedWarpgroupIsAnError) {
  Config c;
  std::string err = runWgmma(c, 27, [](std::string s) {
    // Warp 3 skips the wgmma.
    s.insert(s.find("  wgmma.fence"),
             "  setp.ge.u32 %p4, %r0, 96;\n  @%p4 bra SKIP;\n");
    s.insert(s.find("  wgmma.commit_group"), "SKIP:\n");
    return s;
  });
  // Warp 3 runs ahead and reads its accumulators, which nothing wrote; had
  // it not read them, the others would wait at the wgmma forever.
  EXPECT_TRUE(err.find("deadlock") != std::string::npos ||
              err.find("warpgroup 0 diverge") != std::string::npos ||
              err.find("reads register %d0 before any write") !=
                  std::string::npos)
      << err;
}

TEST(Wgmma, PartialWarpIsAnError) {
  Config c;
  std::string err = runWgmma(c, 28, [](std::string s) {
    s.replace(s.find("  wgmma.fence.sync.aligned; // @WFENCE\n"), 39,
              "  wgmma.fence.sync.aligned;\n  setp.eq.u32 %p4, %r0, 5;\n"
              "  @%p4 bra SKIP;\n");
    s.insert(s.find("  wgmma.commit_group"), "SKIP:\n");
    return s;
  });
  expectAll(err, {"needs all 32 threads"});
}

} // namespace
