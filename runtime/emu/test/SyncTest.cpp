//===- SyncTest.cpp - Scheduling, barriers, mbarriers and checks --*- C++ -*-===//
//
// This file tests the CTA-level machinery of the emulator against the PTX
// ISA: named barriers (bar.sync/bar.arrive with id and thread count),
// mbarrier phases, arrival and tx counts, elect.sync, setmaxnreg, the
// seeded warp interleaving, and the checks that make the emulator stricter
// than a GPU: data races between warps, uninitialized registers, deadlocks,
// runaway launches and the per-target shared-memory limit.
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

#include <cstdlib>

using namespace emutest;

namespace {

/// "PTX line N" of the line holding `marker` in `ptx`.
std::string lineOf(const std::string &ptx, const std::string &marker) {
  size_t at = ptx.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  return "PTX line " +
         std::to_string(1 + std::count(ptx.begin(), ptx.begin() + at, '\n'));
}

const char *kShared = ".shared .align 16 .b8 buf[1024];\n"
                      ".shared .align 8 .b64 bar[4];\n";

/// Every warp but warp 0 reads what warp 0 wrote after `sync` (text run by
/// all threads); thread t stores buf word (t % 32) + 1 to out[t].
std::string producerConsumer(const std::string &sync) {
  return ctaKernel(kShared, R"(
  mov.u32 %r3, buf;
  shl.b32 %r4, %r2, 2;
  add.u32 %r5, %r3, %r4;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra SKIP;
  add.u32 %r6, %r2, 1;
  st.shared.u32 [%r5], %r6; // @W
SKIP:
)" + sync + R"(
  ld.shared.u32 %r7, [%r5]; // @R
  mul.wide.u32 %rd2, %r0, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r7;
)");
}

void expectProducerValues(const std::vector<uint32_t> &out, unsigned n) {
  for (unsigned t = 0; t < n; ++t)
    EXPECT_EQ(out[t], t % 32 + 1) << "thread " << t;
}

TEST(Sync, BarSyncOrdersWarpsUnderEverySeed) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    std::vector<uint32_t> out(128, 0xdeadbeef);
    LaunchOptions o;
    o.seed = seed;
    EXPECT_EQ(runCta(producerConsumer("  bar.sync 0;\n"), 128, out, o), "");
    expectProducerValues(out, 128);
  }
}

TEST(Sync, MissingBarrierIsARace) {
  std::string ptx = producerConsumer("");
  std::vector<uint32_t> out(64, 0);
  std::string err = runCta(ptx, 64, out);
  // Whichever order the warps ran in, the write of thread 0 and the read of
  // thread 32 of the same word conflict.
  expectAll(err, {"data race on shared memory address 0x0"});
  EXPECT_NE(err.find(lineOf(ptx, "@W")), std::string::npos) << err;
  EXPECT_NE(err.find(lineOf(ptx, "@R")), std::string::npos) << err;
  EXPECT_NE(err.find("thread (0,0,0)"), std::string::npos) << err;
  EXPECT_NE(err.find("thread (32,0,0)"), std::string::npos) << err;
}

/// Warp 0 writes buf word `lane`, a barrier publishes it, warp 1 reads it
/// (@R), then warp 0 refills the word with cp.async (@C) after `sync`; the
/// copy is waited for only after a second barrier. Thread t < 32 stores
/// nothing; the kernel is about the order of @R and @C.
std::string cpAsyncRefill(const std::string &sync) {
  return ctaKernel(kShared, R"(
  mov.u32 %r3, buf;
  shl.b32 %r4, %r2, 2;
  add.u32 %r5, %r3, %r4;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra W1;
  st.shared.u32 [%r5], %r2;
W1:
  bar.sync 0;
  setp.ne.u32 %p2, %r1, 1;
  @%p2 bra R1;
  ld.shared.u32 %r7, [%r5]; // @R
  mul.wide.u32 %rd2, %r0, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r7;
R1:
)" + sync + R"(
  @%p1 bra C1;
  cp.async.ca.shared.global [%r5], [%rd1], 4; // @C
  cp.async.commit_group;
C1:
  bar.sync 0;
  @%p1 bra DONE;
  cp.async.wait_all;
DONE:
)");
}

TEST(Sync, CpAsyncRefillRacesWithReadsBeforeIt) {
  // The copy may land as soon as it is issued, so a read that no barrier
  // orders before the issue races with it, although the wait comes after
  // a barrier that follows the read.
  std::string ptx = cpAsyncRefill("");
  std::vector<uint32_t> out(64, 0);
  std::string err = runCta(ptx, 64, out);
  expectAll(err, {"data race on shared memory address", "cp.async"});
  EXPECT_NE(err.find(lineOf(ptx, "@R")), std::string::npos) << err;
  EXPECT_NE(err.find(lineOf(ptx, "@C")), std::string::npos) << err;
  // A barrier between the read and the refill orders them.
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    LaunchOptions o;
    o.seed = seed;
    std::vector<uint32_t> ok(64, 0);
    EXPECT_EQ(runCta(cpAsyncRefill("  bar.sync 0;\n"), 64, ok, o), "");
    for (unsigned t = 32; t < 64; ++t)
      EXPECT_EQ(ok[t], t % 32) << "thread " << t;
  }
}

TEST(Sync, NamedBarriersPairWarps) {
  // Warp w writes its row, pairs (0,1) and (2,3) meet at barriers 1 and 2
  // with 64 threads each, and warp w reads the row of warp w ^ 1.
  std::string ptx = ctaKernel(kShared, R"(
  mov.u32 %r3, buf;
  shl.b32 %r4, %r0, 2;
  add.u32 %r5, %r3, %r4;
  st.shared.u32 [%r5], %r0;
  shr.u32 %r6, %r1, 1;
  add.u32 %r6, %r6, 1;
  bar.sync %r6, 64;
  xor.b32 %r7, %r0, 32;
  shl.b32 %r7, %r7, 2;
  add.u32 %r7, %r3, %r7;
  ld.shared.u32 %r8, [%r7];
  mul.wide.u32 %rd2, %r0, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r8;
)");
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    std::vector<uint32_t> out(128, 0xdeadbeef);
    LaunchOptions o;
    o.seed = seed;
    EXPECT_EQ(runCta(ptx, 128, out, o), "");
    for (unsigned t = 0; t < 128; ++t)
      EXPECT_EQ(out[t], t ^ 32) << t;
  }
  // Pairs (0,2) and (1,3) would not order the exchange.
  std::string bad = ptx;
  bad.replace(bad.find("shr.u32 %r6, %r1, 1;"), 20, "and.b32 %r6, %r1, 1;");
  std::vector<uint32_t> out(128);
  expectAll(runCta(bad, 128, out), {"data race"});
}

TEST(Sync, BarArriveReleasesToBarSync) {
  // Warp 0 produces and only arrives; warp 1 syncs and reads.
  std::vector<uint32_t> out(64, 0xdeadbeef);
  EXPECT_EQ(runCta(producerConsumer("  @!%p1 bar.arrive 1, 64;\n"
                                    "  @%p1 bar.sync 1, 64;\n"),
                   64, out),
            "");
  for (unsigned t = 32; t < 64; ++t)
    EXPECT_EQ(out[t], t % 32 + 1) << t;
}

TEST(Sync, BarArriveDoesNotAcquire) {
  // The consumer only arrives: the barrier completes, but its read is not
  // ordered after the producer's write.
  std::string ptx = producerConsumer("  bar.arrive 1, 64;\n");
  std::vector<uint32_t> out(64, 0);
  expectAll(runCta(ptx, 64, out), {"data race", "thread (0,0,0)"});
}

TEST(Sync, BarrierDeadlockNamesBarrierAndCount) {
  std::string ptx = ctaKernel(kShared, R"(
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra END;
  bar.sync 3, 64; // @B
END:
)");
  std::vector<uint32_t> out(1);
  std::string err = runCta(ptx, 64, out);
  expectAll(err, {"deadlock", "barrier 3", "32 of 64 threads arrived",
                  "warp 0 (threads 0-31)"});
  EXPECT_NE(err.find(lineOf(ptx, "@B")), std::string::npos) << err;
}

TEST(Sync, BarrierCountMustMatch) {
  std::string ptx = ctaKernel(kShared, R"(
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bar.sync 1, 96;
  @!%p1 bar.sync 1, 64;
)");
  std::vector<uint32_t> out(1);
  expectAll(runCta(ptx, 96, out), {"barrier 1 used with thread count"});
}

/// Warp 0 writes buf and arrives on the mbarrier (count 1, lane 0); the
/// other warps wait for parity 0 with `wait` then read.
std::string mbarrierKernel(const std::string &wait) {
  return ctaKernel(kShared, R"(
  mov.u32 %r3, buf;
  shl.b32 %r4, %r2, 2;
  add.u32 %r5, %r3, %r4;
  mov.u32 %r8, bar;
  setp.eq.u32 %p3, %r0, 0;
  @%p3 mbarrier.init.shared::cta.b64 [%r8], 1;
  bar.sync 0;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra CONSUME;
  add.u32 %r6, %r2, 1;
  st.shared.u32 [%r5], %r6; // @W
  setp.eq.u32 %p4, %r2, 0;
  @%p4 mbarrier.arrive.release.cta.shared::cta.b64 %rd5, [%r8]; // @A
  bra DONE;
CONSUME:
)" + wait + R"(
  ld.shared.u32 %r7, [%r5]; // @R
  mul.wide.u32 %rd2, %r0, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r7;
DONE:
)");
}

const char *kTryWait = R"(
WAIT:
  mbarrier.try_wait.parity.acquire.cta.shared::cta.b64 %p5, [%r8], 0; // @T
  @!%p5 bra WAIT;
)";

TEST(Sync, MbarrierPhaseOrdersProducerAndConsumers) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    std::vector<uint32_t> out(128, 0xdeadbeef);
    LaunchOptions o;
    o.seed = seed;
    Profile prof;
    EXPECT_EQ(runCta(mbarrierKernel(kTryWait), 128, out, o, 0, &prof), "");
    for (unsigned t = 32; t < 128; ++t)
      EXPECT_EQ(out[t], t % 32 + 1) << "thread " << t;
    EXPECT_GE(prof.mbarrierWaits, 96u);
  }
}

TEST(Sync, MbarrierTestWaitLoop) {
  std::vector<uint32_t> out(128, 0xdeadbeef);
  EXPECT_EQ(runCta(mbarrierKernel(R"(
WAIT:
  mbarrier.test_wait.parity.shared::cta.b64 %p5, [%r8], 0;
  @!%p5 bra WAIT;
)"),
                   128, out),
            "");
  for (unsigned t = 32; t < 128; ++t)
    EXPECT_EQ(out[t], t % 32 + 1) << "thread " << t;
}

TEST(Sync, MissingMbarrierWaitIsARace) {
  std::string ptx = mbarrierKernel("");
  std::vector<uint32_t> out(128, 0);
  std::string err = runCta(ptx, 128, out);
  expectAll(err, {"data race"});
  EXPECT_NE(err.find(lineOf(ptx, "@W")), std::string::npos) << err;
  EXPECT_NE(err.find(lineOf(ptx, "@R")), std::string::npos) << err;
}

TEST(Sync, WaitForAPhaseNobodyCompletesDeadlocks) {
  // The consumers wait for phase 0 (parity 0), then for phase 1 (parity 1),
  // which nothing arrives on.
  std::string ptx = mbarrierKernel(std::string(kTryWait) + R"(
WAIT2:
  mbarrier.try_wait.parity.acquire.cta.shared::cta.b64 %p5, [%r8], 1; // @T2
  @!%p5 bra WAIT2;
)");
  std::vector<uint32_t> out(128, 0);
  std::string err = runCta(ptx, 128, out);
  expectAll(err, {"deadlock: every unfinished warp of the CTA is blocked",
                  "warp 1 (threads 32-63) waits at",
                  "mbarrier at shared address 0x400 (current phase 1, "
                  "parity 1: 1 of 1 arrivals pending, tx-count 0)"});
  EXPECT_NE(err.find(lineOf(ptx, "@T2")), std::string::npos) << err;
}

TEST(Sync, TestWaitSpinDeadlock) {
  // Nobody arrives: the consumers spin in test_wait forever.
  std::string ptx = ctaKernel(kShared, R"(
  mov.u32 %r8, bar;
  setp.eq.u32 %p3, %r0, 0;
  @%p3 mbarrier.init.shared::cta.b64 [%r8], 1;
  bar.sync 0;
WAIT:
  mbarrier.test_wait.parity.shared::cta.b64 %p5, [%r8], 0;
  @!%p5 bra WAIT;
)");
  std::vector<uint32_t> out(1);
  expectAll(runCta(ptx, 64, out),
            {"deadlock: the only runnable warps spin", "spins in a wait loop",
             "1 of 1 arrivals pending"});
}

TEST(Sync, MbarrierTxCount) {
  // Phase 0 needs one arrival and 16 tx bytes: the arrive with expect_tx
  // alone does not complete it; complete_tx of 16 bytes does.
  std::string ptx = ctaKernel(kShared, R"(
  mov.u32 %r8, bar;
  mbarrier.init.shared::cta.b64 [%r8], 1;
  mbarrier.arrive.expect_tx.shared::cta.b64 %rd5, [%r8], 16;
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [%r8], 0;
  mbarrier.complete_tx.shared::cta.b64 [%r8], 8;
  mbarrier.test_wait.parity.shared::cta.b64 %p2, [%r8], 0;
  mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%r8], 4;
  mbarrier.complete_tx.shared::cta.b64 [%r8], 12;
  mbarrier.test_wait.parity.shared::cta.b64 %p3, [%r8], 0;
  mbarrier.test_wait.shared::cta.b64 %p4, [%r8], %rd5;
  selp.u32 %r3, 1, 0, %p1;
  selp.u32 %r4, 2, 0, %p2;
  selp.u32 %r5, 4, 0, %p3;
  selp.u32 %r6, 8, 0, %p4;
  or.b32 %r3, %r3, %r4;
  or.b32 %r3, %r3, %r5;
  or.b32 %r3, %r3, %r6;
  cvt.u32.u64 %r7, %rd5;
  st.global.u32 [%rd1], %r3;
  st.global.u32 [%rd1+4], %r7;
)");
  std::vector<uint32_t> out(2, 0xdeadbeef);
  EXPECT_EQ(runCta(ptx, 1, out), "");
  EXPECT_EQ(out[0], 4u | 8u); // complete only after all 16 + 4 bytes
  EXPECT_EQ(out[1], 0u);      // the state of an arrive in phase 0
}

TEST(Sync, MbarrierArriveBeyondPendingIsAnError) {
  std::string ptx = ctaKernel(kShared, R"(
  mov.u32 %r8, bar;
  setp.eq.u32 %p3, %r0, 0;
  @%p3 mbarrier.init.shared::cta.b64 [%r8], 1;
  bar.sync 0;
  mbarrier.arrive.expect_tx.shared::cta.b64 %rd5, [%r8], 64;
)");
  std::vector<uint32_t> out(1);
  expectAll(runCta(ptx, 32, out),
            {"arrive count 1 exceeds the 0 arrivals pending in phase 0"});
}

TEST(Sync, MbarrierUseBeforeInit) {
  std::string ptx = ctaKernel(kShared, R"(
  mov.u32 %r8, bar;
  mbarrier.arrive.shared::cta.b64 %rd5, [%r8];
)");
  std::vector<uint32_t> out(1);
  // `bar` is the only shared variable the kernel uses: it is at 0.
  expectAll(runCta(ptx, 32, out), {"no initialized mbarrier at shared "
                                   "address 0x0"});
}

TEST(Sync, MbarrierInitNeedsABarrierBeforeUse) {
  // Thread 0 initializes; warp 1 arrives with no bar.sync in between.
  std::string ptx = ctaKernel(kShared, R"(
  mov.u32 %r8, bar;
  setp.eq.u32 %p3, %r0, 0;
  @%p3 mbarrier.init.shared::cta.b64 [%r8], 64;
  @!%p3 mbarrier.arrive.shared::cta.b64 %rd5, [%r8];
)");
  std::vector<uint32_t> out(1);
  // Either warp 1 arrives first (no mbarrier yet) or it races the init.
  std::string err = runCta(ptx, 64, out);
  EXPECT_TRUE(err.find("data race") != std::string::npos ||
              err.find("no initialized mbarrier") != std::string::npos)
      << err;
}

TEST(Sync, ElectSyncPicksLowestActiveLane) {
  std::string ptx = ctaKernel("", R"(
  setp.ge.u32 %p1, %r2, 5;
  mov.u32 %r3, 99;
  mov.u32 %r4, 7;
  @!%p1 bra SKIP;
  elect.sync %r3|%p2, 0xffffffe0;
  selp.u32 %r4, 1, 0, %p2;
SKIP:
  mul.wide.u32 %rd2, %r0, 8;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v2.u32 [%rd3], {%r3, %r4};
)");
  std::vector<uint32_t> out(64, 0xdeadbeef);
  EXPECT_EQ(runCta(ptx, 32, out), "");
  for (unsigned l = 0; l < 32; ++l) {
    EXPECT_EQ(out[2 * l], l >= 5 ? 5u : 99u) << l;
    EXPECT_EQ(out[2 * l + 1], l == 5 ? 1u : l >= 5 ? 0u : 7u) << l;
  }
}

TEST(Sync, ElectSyncNeedsEveryMember) {
  std::string ptx = ctaKernel("", R"(
  setp.ge.u32 %p1, %r2, 5;
  @%p1 elect.sync _|%p2, 0xffffffff;
)");
  std::vector<uint32_t> out(1);
  expectAll(runCta(ptx, 32, out), {"member lanes 0x1f of the membermask do "
                                   "not execute it"});
}

TEST(Sync, Setmaxnreg) {
  std::vector<uint32_t> out(1);
  EXPECT_EQ(runCta(ctaKernel("", "  setmaxnreg.dec.sync.aligned.u32 40;\n"
                                 "  setmaxnreg.inc.sync.aligned.u32 232;\n"),
                   128, out),
            "");
  expectAll(runCta(ctaKernel("", "  setmaxnreg.inc.sync.aligned.u32 250;\n"),
                   32, out),
            {"setmaxnreg register count 250 must be a multiple of 8 in "
             "[24, 256]"});
}

TEST(Sync, SetmaxnregPoolFA3Split) {
  // 384 threads start with 168 registers each (64K / 384, rounded down to
  // 8), leaving 1024 in the pool. The producer warpgroup gives 128 per
  // thread back (16384), the two consumer warpgroups take 64 more each
  // (16384): it fits. Taking 72 more each (18432) never can.
  auto kernel = [](unsigned consumerRegs) {
    return ctaKernel("", R"(
  setp.lt.u32 %p1, %r1, 4;
  @%p1 bra PRODUCER;
  setmaxnreg.inc.sync.aligned.u32 )" + std::to_string(consumerRegs) + R"(; // @INC
  bra END;
PRODUCER:
  setmaxnreg.dec.sync.aligned.u32 40;
END:
)");
  };
  std::vector<uint32_t> out(1);
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    LaunchOptions o;
    o.seed = seed;
    EXPECT_EQ(runCta(kernel(232), 384, out, o), "");
  }
  std::string ptx = kernel(240);
  std::string err = runCta(ptx, 384, out);
  expectAll(err, {"deadlock", "for 240 registers per thread (it holds 168; "
                              "the CTA's free pool has"});
  EXPECT_NE(err.find(lineOf(ptx, "@INC")), std::string::npos) << err;
}

TEST(Sync, SetmaxnregNeedsTheWholeWarpgroup) {
  // Only warp 0 of the warpgroup lowers its registers.
  std::string ptx = ctaKernel("", R"(
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra END;
  setmaxnreg.dec.sync.aligned.u32 40;
END:
)");
  std::vector<uint32_t> out(1);
  expectAll(runCta(ptx, 128, out),
            {"the warps of warpgroup 0 hold different register counts "
             "(warp 0: 40, warp 1: 256)"});
}

TEST(Sync, GenericAccessToAnMbarrierObject) {
  std::string ptx = ctaKernel(kShared, R"(
  mov.u32 %r8, bar;
  mbarrier.init.shared::cta.b64 [%r8], 1;
  st.shared.u32 [%r8+4], %r0;
)");
  std::vector<uint32_t> out(1);
  expectAll(runCta(ptx, 1, out),
            {"this write of shared memory address 0x4 touches an "
             "initialized mbarrier object"});
  // After mbarrier.inval the memory is ordinary again.
  ptx = ctaKernel(kShared, R"(
  mov.u32 %r8, bar;
  mbarrier.init.shared::cta.b64 [%r8], 1;
  mbarrier.inval.shared::cta.b64 [%r8];
  st.shared.u32 [%r8+4], %r0;
)");
  EXPECT_EQ(runCta(ptx, 1, out), "");
}

TEST(Sync, LabelsAreScopedToTheirBlock) {
  // Inlined asm (e.g. NVVM's mbarrier wait loops) repeats label names in
  // separate { } blocks; each branch must go to its own block's label.
  std::string ptx = ctaKernel("", R"(
  {
    .reg .pred P1;
    mov.u32 %r3, 0;
  LAB:
    add.u32 %r3, %r3, 1;
    setp.lt.u32 P1, %r3, 3;
    @P1 bra LAB;
    bra DONE;
  DONE:
  }
  {
    .reg .pred P1;
    mov.u32 %r4, 0;
  LAB:
    add.u32 %r4, %r4, 2;
    setp.lt.u32 P1, %r4, 10;
    @P1 bra.uni LAB;
    bra.uni DONE;
  DONE:
  }
  prefetch.tensormap [%rd1];
  bar.warp.sync -1;
  mov.u32 %r5, %cluster_ctarank;
  add.u32 %r3, %r3, %r5;
  st.global.v2.u32 [%rd1], {%r3, %r4};
)");
  std::vector<uint32_t> out(2, 0xdeadbeef);
  EXPECT_EQ(runCta(ptx, 1, out), "");
  EXPECT_EQ(out[0], 3u);
  EXPECT_EQ(out[1], 10u);
}

TEST(Sync, UninitializedRegisterRead) {
  std::string ptx = ctaKernel("", R"(
  add.u32 %r5, %r2, %r9; // @U
)");
  std::vector<uint32_t> out(1);
  std::string err = runCta(ptx, 32, out);
  expectAll(err, {"reads register %r9 before any write to it",
                  "thread (0,0,0)"});
  EXPECT_NE(err.find(lineOf(ptx, "@U")), std::string::npos) << err;
}

TEST(Sync, PredicatedOffLanesDoNotReadRegisters) {
  // Only even lanes write %r9; only even lanes read it.
  std::string ptx = ctaKernel("", R"(
  and.b32 %r3, %r2, 1;
  setp.eq.u32 %p1, %r3, 0;
  @%p1 mov.u32 %r9, 5;
  @%p1 add.u32 %r5, %r2, %r9;
  @%p1 st.global.u32 [%rd1], %r5;
  @!%p1 add.u32 %r6, %r2, %r9; // @U
)");
  std::vector<uint32_t> out(1);
  std::string err = runCta(ptx, 32, out);
  expectAll(err, {"reads register %r9", "thread (1,0,0)"});
  EXPECT_NE(err.find(lineOf(ptx, "@U")), std::string::npos) << err;
}

TEST(Sync, UninitializedGuard) {
  std::vector<uint32_t> out(1);
  expectAll(runCta(ctaKernel("", "  @%p6 mov.u32 %r3, 1;\n"), 32, out),
            {"reads guard predicate %p6 before any write"});
}

TEST(Sync, SeedDecidesTheInterleaving) {
  // Each warp records the clock (instructions issued so far by the CTA)
  // when it gets there: the values depend on the order of the warps.
  std::string ptx = ctaKernel("", R"(
  mov.u32 %r3, %clock;
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  setp.eq.u32 %p1, %r2, 0;
  @%p1 st.global.u32 [%rd3], %r3;
)");
  auto run = [&](uint64_t seed) {
    std::vector<uint32_t> out(8, 0);
    LaunchOptions o;
    o.seed = seed;
    EXPECT_EQ(runCta(ptx, 256, out, o), "");
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  bool differs = false;
  for (uint64_t s = 2; s < 10 && !differs; ++s)
    differs = run(s) != run(1);
  EXPECT_TRUE(differs);
  // Seed 0 takes RINGRT_EMU_SEED, or 1 without it.
  const char *saved = std::getenv("RINGRT_EMU_SEED");
  std::string savedValue = saved ? saved : "";
  ::unsetenv("RINGRT_EMU_SEED");
  EXPECT_EQ(run(0), run(1));
  ::setenv("RINGRT_EMU_SEED", "7", 1);
  EXPECT_EQ(run(0), run(7));
  if (saved)
    ::setenv("RINGRT_EMU_SEED", savedValue.c_str(), 1);
  else
    ::unsetenv("RINGRT_EMU_SEED");
}

TEST(Sync, RunawayLaunchStops) {
  std::string ptx = ctaKernel("", "LOOP:\n  bra LOOP;\n");
  std::vector<uint32_t> out(1);
  LaunchOptions o;
  o.maxInstructions = 10000;
  expectAll(runCta(ptx, 32, out, o), {"more than 10000 warp instructions",
                                      "runaway"});
}

TEST(Sync, SharedMemoryLimitIsTheTargets) {
  std::string body = "  mov.u32 %r3, dyn;\n  st.shared.u32 [%r3], %r0;\n";
  std::string decl = ".extern .shared .align 16 .b8 dyn[];\n";
  std::vector<uint32_t> out(1);
  LaunchOptions o;
  o.maxDynamicSharedBytes = 232448;
  EXPECT_EQ(runCta(ctaKernel(decl, body), 32, out, o, 232448), "");
  expectAll(runCta(ctaKernel(decl, body), 32, out, o, 232449),
            {"232449 bytes of shared memory exceed the 232448-byte limit "
             "of sm_90a"});
  o.maxDynamicSharedBytes = 166912;
  EXPECT_EQ(runCta(ctaKernel(decl, body, "sm_80"), 32, out, o, 166912), "");
  o.maxDynamicSharedBytes = 200000;
  expectAll(runCta(ctaKernel(decl, body, "sm_80"), 32, out, o, 170000),
            {"exceeds the 166912-byte limit of sm_80"});
  // Above 48 KiB only with an opt-in that covers the request.
  o.maxDynamicSharedBytes = 0;
  expectAll(runCta(ctaKernel(decl, body), 32, out, o, 50000),
            {"opted into only 0 bytes", "MAX_DYNAMIC_SHARED_SIZE_BYTES"});
  EXPECT_EQ(runCta(ctaKernel(decl, body), 32, out, o, 49152), "");
}

} // namespace
