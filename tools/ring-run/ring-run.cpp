//===- ring-run.cpp - run, check or benchmark a ringc artifact --*- C++ -*-===//
//
// This file implements ring-run, the host program of DESIGN.md section 4:
//
//   mpirun -np N ring-run DIR --check [--device=D] [--seed S] [--dump OUT]
//   mpirun -np N ring-run DIR --bench [--iters K] [--device=D]
//
// It reads DIR/manifest.json, dlopen()s the artifact's library, creates a
// ringrt context, gives every rank its block of seeded global inputs, runs
// the entry point, and either gathers O and LSE to rank 0 and compares them
// with a float64 reference (or, with --check-rows, every rank checks a
// sample of its rows), or times the entry. Every failure is agreed on by all
// ranks so that every rank exits, and rank 0's last line is
// `ring-run: PASS ...`, `ring-run: FAIL ...` or `ring-run: BENCH ...`. A rank
// that dies, freezes or times out ends the whole job (MPI_Abort) within the
// timeout plus a margin, with a message naming the rank, stage and peer.
//
//===----------------------------------------------------------------------===//

#include "Calibrate.h"
#include "Documents.h"
#include "GradCheck.h"
#include "LayerCheck.h"
#include "HostData.h"
#include "Library.h"
#include "Manifest.h"
#include "MemoryBudget.h"
#include "Npy.h"
#include "Options.h"
#include "Reference.h"
#include "SampledCheck.h"
#include "ringrt/ringrt.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sched.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

using namespace ringrun;

namespace {

/// How long past the timeout ranks wait for each other in an agreement.
constexpr int64_t kMarginMs = 5000;

/// What a rank reports to an agreement (fixed size: sent as bytes).
struct Report {
  int32_t ok = 1;
  int32_t fatal = 0;
  char message[2040] = {};
};

/// Tags of the agreement's messages on MPI_COMM_WORLD (ringrt talks on
/// communicators of its own).
enum : int { kReportTag = 31001, kVerdictTag = 31002 };

/// The MPI world and the all-ranks agreement on failures.
///
/// agree() is point to point with deadlines rather than a collective, so
/// that rank 0 learns which ranks never report (killed, frozen, or blocked
/// in a wait of their own) and can name them: every rank sends its report
/// to rank 0, which answers with the verdict. Rank 0 waits for the reports
/// up to the timeout plus a margin, and only a margin once some rank
/// reported a fatal failure (a timeout: every live rank is then at most a
/// margin away); the others wait for the verdict up to the timeout plus two
/// margins, or two margins after a fatal failure of their own. A missing rank, or a fatal failure (timeouts and communication
/// errors may leave MPI requests pending, so MPI_Finalize could hang), ends
/// the job with MPI_Abort after rank 0 (or the rank that gave up waiting)
/// printed the `ring-run: FAIL` line.
class World {
public:
  World() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }

  int rank = 0, size = 1;
  /// The wait bound of ringrt (RINGRT_TIMEOUT_MS or its default).
  int64_t timeoutMs = 300000;

  /// Returns true if every rank is `ok`. Otherwise rank 0 prints the
  /// failure (the first non-timeout message, as the root cause, else the
  /// first) as `ring-run: FAIL ...` and every rank returns false, or the job
  /// is aborted (see above).
  bool agree(bool ok, const std::string &message, bool fatal = false) {
    Report mine;
    mine.ok = ok;
    mine.fatal = !ok && fatal;
    std::snprintf(mine.message, sizeof(mine.message), "%s",
                  ok ? "" : message.c_str());
    return rank == 0 ? decide(mine) : report(mine);
  }

private:
  using Clock = std::chrono::steady_clock;

  static void pause() { std::this_thread::sleep_for(std::chrono::microseconds(200)); }

  [[noreturn]] void abortJob(const std::string &line) {
    std::fprintf(stdout, "ring-run: FAIL %s\n", line.c_str());
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1); // MPI_Abort does not return; be sure.
  }

  bool report(const Report &mine) {
    int verdict = 0;
    MPI_Request reqs[2];
    MPI_Isend(&mine, sizeof(Report), MPI_BYTE, 0, kReportTag, MPI_COMM_WORLD,
              &reqs[0]);
    MPI_Irecv(&verdict, 1, MPI_INT, 0, kVerdictTag, MPI_COMM_WORLD, &reqs[1]);
    // A rank that failed by itself timing out knows the others are at most
    // a margin behind; otherwise rank 0 may legitimately take the timeout
    // plus a margin to decide.
    int64_t waitMs = mine.fatal ? 2 * kMarginMs : timeoutMs + 2 * kMarginMs;
    auto deadline = Clock::now() + std::chrono::milliseconds(waitMs);
    for (int done = 0;;) {
      MPI_Testall(2, reqs, &done, MPI_STATUSES_IGNORE);
      if (done)
        return verdict == 1;
      if (Clock::now() > deadline)
        abortJob("rank " + std::to_string(rank) + ": " +
                 (mine.ok ? std::string() : mine.message + std::string("; ")) +
                 "rank 0 gave no verdict within " + std::to_string(waitMs) +
                 " ms (it died, froze or is blocked); aborting the job");
      pause();
    }
  }

  bool decide(const Report &mine) {
    std::vector<Report> all(static_cast<size_t>(size));
    all[0] = mine;
    std::vector<MPI_Request> reqs(static_cast<size_t>(size), MPI_REQUEST_NULL);
    std::vector<bool> arrived(static_cast<size_t>(size), false);
    arrived[0] = true;
    for (int r = 1; r < size; ++r)
      MPI_Irecv(&all[r], sizeof(Report), MPI_BYTE, r, kReportTag,
                MPI_COMM_WORLD, &reqs[r]);
    auto now = Clock::now();
    auto deadline = now + std::chrono::milliseconds(timeoutMs + kMarginMs);
    auto margin = std::chrono::milliseconds(kMarginMs);
    if (mine.fatal)
      deadline = std::min(deadline, now + margin);
    for (int missing = size - 1; missing > 0;) {
      for (int r = 1; r < size; ++r) {
        if (arrived[r])
          continue;
        int flag = 0;
        MPI_Test(&reqs[r], &flag, MPI_STATUS_IGNORE);
        if (!flag)
          continue;
        arrived[r] = true;
        --missing;
        if (all[r].fatal)
          deadline = std::min(deadline, Clock::now() + margin);
      }
      if (missing == 0)
        break;
      if (Clock::now() > deadline) {
        std::string absent;
        for (int r = 1; r < size; ++r)
          if (!arrived[r])
            absent += (absent.empty() ? "" : ",") + std::to_string(r);
        std::string cause = failureLine(all, arrived);
        abortJob((cause.empty() ? "" : cause + "; ") + "rank" +
                 (absent.find(',') == std::string::npos ? " " : "s ") +
                 absent + " did not report within " +
                 std::to_string(std::chrono::duration_cast<
                                    std::chrono::milliseconds>(
                                    Clock::now() - now)
                                    .count()) +
                 " ms (died, froze or blocked); aborting the job");
      }
      pause();
    }
    bool allOk = true, anyFatal = false;
    for (const Report &r : all) {
      allOk = allOk && r.ok;
      anyFatal = anyFatal || r.fatal;
    }
    if (!allOk) {
      std::string line = failureLine(all, arrived);
      for (int r = 0; r < size; ++r)
        if (!all[r].ok && line.find(all[r].message) == std::string::npos)
          std::fprintf(stderr, "ring-run: rank %d: %s\n", r, all[r].message);
      std::fflush(stderr);
      if (anyFatal)
        abortJob(line);
      std::fprintf(stdout, "ring-run: FAIL %s\n", line.c_str());
      std::fflush(stdout);
    }
    int verdict = allOk ? 1 : 0;
    for (int r = 1; r < size; ++r)
      MPI_Send(&verdict, 1, MPI_INT, r, kVerdictTag, MPI_COMM_WORLD);
    return allOk;
  }

  /// The failure to print: the first message that is not a timeout (the
  /// root cause; a timeout is usually its echo on a peer), else the first.
  /// "rank R: " prefixes it unless every rank reports the same.
  std::string failureLine(const std::vector<Report> &all,
                          const std::vector<bool> &arrived) {
    int pick = -1;
    for (int pass = 0; pass < 2 && pick < 0; ++pass)
      for (int r = 0; r < size && pick < 0; ++r)
        if (arrived[r] && !all[r].ok &&
            (pass == 1 || !std::strstr(all[r].message, "RINGRT_ERR_TIMEOUT")))
          pick = r;
    if (pick < 0)
      return "";
    bool same = true;
    for (int r = 0; r < size; ++r)
      same = same && arrived[r] && !all[r].ok &&
             std::strcmp(all[r].message, all[pick].message) == 0;
    return (same && size > 1) || size == 1
               ? std::string(all[pick].message)
               : "rank " + std::to_string(pick) + ": " + all[pick].message;
  }
};

/// Whether a ringrt failure may leave MPI requests pending (the job must
/// then end with MPI_Abort, not MPI_Finalize).
bool isFatal(int32_t status) {
  return status == RINGRT_ERR_TIMEOUT || status == RINGRT_ERR_COMM;
}

std::string ringrtError(const char *what, int32_t status) {
  return std::string(what) + " failed (" +
         ringrt_status_string(static_cast<ringrt_status>(status)) +
         "): " + ringrt_last_error();
}

std::vector<int64_t> globalShape(const AttentionSpec &s, int64_t heads,
                                 bool withDim) {
  if (withDim)
    return {s.batch, heads, s.seq, s.headDim};
  return {s.batch, heads, s.seq};
}

int64_t product(const int64_t *v, int n) {
  int64_t p = 1;
  for (int i = 0; i < n; ++i)
    p *= v[i];
  return p;
}

/// One rank's buffers of the entry's five tensors. For GPU artifacts the
/// host vectors stage the data and the tensors point at device copies.
struct RankBuffers {
  std::vector<unsigned char> q, k, v, o;
  std::vector<float> lse;
  ringrt_tensor tq, tk, tv, to, tlse;
  ringrt_context *deviceCtx = nullptr;
  void *dq = nullptr, *dk = nullptr, *dv = nullptr, *dout = nullptr,
       *dlse = nullptr;

  RankBuffers() = default;
  RankBuffers(const RankBuffers &) = delete;
  RankBuffers &operator=(const RankBuffers &) = delete;
  ~RankBuffers() {
    for (void *p : {dq, dk, dv, dout, dlse})
      if (p)
        ringrt_device_free(deviceCtx, p);
  }

  /// Allocates the device tensors, copies the host data (inputs and the
  /// poisoned outputs) in, and points the tensors at them. Returns "" or
  /// the error.
  std::string toDevice(const Manifest &m, ringrt_context *ctx) {
    // GPU entries cannot scan device memory; the host copies are checked
    // here instead (a CPU entry checks its inputs itself).
    if (ringrt_check_logit_range(&tq, &tk, m.spec.scale, m.spec.headDim) !=
        RINGRT_OK)
      return ringrt_last_error();
    deviceCtx = ctx;
    struct Item {
      void **dev;
      void *host;
      size_t bytes;
      ringrt_tensor *t;
    } items[] = {{&dq, q.data(), q.size(), &tq},
                 {&dk, k.data(), k.size(), &tk},
                 {&dv, v.data(), v.size(), &tv},
                 {&dout, o.data(), o.size(), &to},
                 {&dlse, lse.data(), lse.size() * sizeof(float), &tlse}};
    for (Item &it : items) {
      int32_t st = ringrt_device_alloc(ctx, static_cast<int64_t>(it.bytes),
                                       it.dev);
      if (st == RINGRT_OK)
        st = ringrt_memcpy_to_device(ctx, *it.dev, it.host,
                                     static_cast<int64_t>(it.bytes));
      if (st != RINGRT_OK)
        return std::string("device buffers: ") +
               ringrt_status_string(static_cast<ringrt_status>(st)) + ": " +
               ringrt_last_error();
      it.t->data = *it.dev;
    }
    return "";
  }

  /// Copies O and LSE back from the device (no-op for host tensors).
  std::string fromDevice() {
    if (!deviceCtx)
      return "";
    int32_t st = ringrt_memcpy_to_host(deviceCtx, o.data(), dout,
                                       static_cast<int64_t>(o.size()));
    if (st == RINGRT_OK)
      st = ringrt_memcpy_to_host(deviceCtx, lse.data(), dlse,
                                 static_cast<int64_t>(lse.size() *
                                                      sizeof(float)));
    if (st != RINGRT_OK)
      return std::string("copying O and LSE back: ") +
             ringrt_status_string(static_cast<ringrt_status>(st)) + ": " +
             ringrt_last_error();
    return "";
  }

  void init(const Manifest &m) {
    int32_t dt = m.spec.dtype;
    int64_t es = ringrt_dtype_size(dt);
    q.assign(static_cast<size_t>(product(m.local.q, 4) * es), 0);
    k.assign(static_cast<size_t>(product(m.local.k, 4) * es), 0);
    v.assign(static_cast<size_t>(product(m.local.v, 4) * es), 0);
    o.assign(static_cast<size_t>(product(m.local.o, 4) * es), 0);
    lse.assign(static_cast<size_t>(product(m.local.lse, 3)), 0.0f);
    ringrt_tensor_init(&tq, q.data(), dt, 4, m.local.q);
    ringrt_tensor_init(&tk, k.data(), dt, 4, m.local.k);
    ringrt_tensor_init(&tv, v.data(), dt, 4, m.local.v);
    ringrt_tensor_init(&to, o.data(), dt, 4, m.local.o);
    ringrt_tensor_init(&tlse, lse.data(), RINGRT_F32, 3, m.local.lse);
  }

  /// Fills O and LSE with the poison (storePoison) so that unwritten
  /// outputs fail the check and padding that must stay unwritten can be
  /// told apart from any NaN a kernel writes.
  void poison(const Manifest &m) {
    for (int64_t i = 0, n = product(m.local.o, 4); i < n; ++i)
      storePoison(o.data(), m.spec.dtype, i);
    for (size_t i = 0; i < lse.size(); ++i)
      storePoison(lse.data(), RINGRT_F32, static_cast<int64_t>(i));
  }
};

/// Writes the rank's block of global input `which` (0 = q, 1 = k, 2 = v),
/// generated element by element, into the typed local `dst`: no rank holds
/// a global tensor it does not need. Padding rows of the layout (uneven
/// parts) get `pad`, a large value, so that a kernel that lets one into a
/// result fails the check (padding must be finite: runtime/README.md).
void fillLocalInput(const AttentionSpec &s, const Options &opt, int which,
                    const RankCoords &c, void *dst, float pad) {
  int64_t heads = which == 0 ? s.heads : s.kvHeads;
  double scale = which == 2 ? 1.0 : opt.inputScale;
  forEachLocal(
      s, heads, true, c,
      [&](int64_t l, int64_t g) {
        storeElement(dst, s.dtype, l,
                     inputElement(opt.seed, which, g, s.dtype, scale));
      },
      [&](int64_t l) { storeElement(dst, s.dtype, l, pad); });
}

/// Whether the artifact was compiled for a GPU target (its tensors are
/// device pointers).
bool isGpuTarget(const Manifest &m) { return m.target != "cpu"; }

/// What fillLocalInput writes into padding rows.
float paddingValue(const Manifest &) { return 1000.0f; }

/// Prints (rank 0) every rank's emulator counters. Collective.
/// Prints every rank's device counters (cumulative since the context was
/// created); `after`, if given, names what ran last ("forward").
void printProfiles(World &w, ringrt_context *ctx, const char *after = nullptr) {
  ringrt_device_profile p{};
  ringrt_device_get_profile(ctx, &p);
  constexpr int kN = 15;
  uint64_t mine[kN] = {p.launches,       p.instructions,    p.mma,
                       p.ldmatrix,       p.cp_async_bytes,  p.shared_bytes,
                       p.global_bytes,   p.barriers,        p.wgmma,
                       p.wgmma_flops,    p.tma_load_bytes,  p.tma_store_bytes,
                       p.mbarrier_waits, p.ex2,             p.stmatrix};
  std::vector<uint64_t> all(kN * static_cast<size_t>(w.size));
  MPI_Gather(mine, kN, MPI_UINT64_T, all.data(), kN, MPI_UINT64_T, 0,
             MPI_COMM_WORLD);
  if (w.rank != 0)
    return;
  for (int r = 0; r < w.size; ++r) {
    const uint64_t *c = &all[kN * static_cast<size_t>(r)];
    auto u = [&](int i) { return (unsigned long long)c[i]; };
    std::fprintf(stdout,
                 "ring-run: profile rank %d%s%s%s: launches=%llu instructions=%llu "
                 "mma=%llu ldmatrix=%llu cp_async_bytes=%llu "
                 "shared_bytes=%llu global_bytes=%llu barriers=%llu "
                 "wgmma=%llu wgmma_flops=%llu tma_load_bytes=%llu "
                 "tma_store_bytes=%llu mbarrier_waits=%llu ex2=%llu "
                 "stmatrix=%llu\n",
                 r, after ? " (cumulative, after the " : "", after ? after : "",
                 after ? ")" : "", u(0), u(1), u(2), u(3), u(4), u(5), u(6),
                 u(7), u(8),
                 u(9), u(10), u(11), u(12), u(13), u(14));
  }
  std::fflush(stdout);
}

/// " bound=B (fp32 logit conditioning C)" when the reference's
/// conditioning (Reference.h) raised the bound noticeably above the
/// dtype's, else "".
std::string boundNote(const AttentionSpec &s, double bound) {
  double base = checkBound(s, Conditioning(), 1, 1);
  if (bound <= base * 1.1)
    return "";
  char buf[96];
  std::snprintf(buf, sizeof(buf), " bound=%.3g (fp32 logit conditioning %.3g)",
                bound, bound - base);
  return buf;
}

/// --check-rows: every rank checks the sampled rows it holds; the squared
/// error sums meet on rank 0.
int checkSampled(World &w, const Options &opt, const Manifest &m,
                 const RankCoords &coords, const RankBuffers &bufs) {
  const AttentionSpec &s = m.spec;
  std::vector<int64_t> tokens = sampledTokens(s.seq, opt.checkRows);
  SampledErrors e = checkSampledRows(s, coords, opt.seed, opt.inputScale,
                                     tokens, bufs.o.data(), bufs.lse.data());
  if (!w.agree(e.failure.empty(), e.failure))
    return 1;
  double mine[5] = {e.oDiff2, e.oRef2, e.lseDiff2, e.lseRef2,
                    static_cast<double>(e.rows)};
  double sum[5] = {}, condMine[2] = {e.cond.oErr2, e.cond.lseErr2},
         condSum[2] = {};
  MPI_Reduce(mine, sum, 5, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  MPI_Reduce(condMine, condSum, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  int rc = 0;
  if (w.rank == 0) {
    auto rel = [](double diff2, double ref2) {
      return ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
    };
    double oErr = rel(sum[0], sum[1]), lErr = rel(sum[2], sum[3]);
    Conditioning cond;
    cond.oErr2 = condSum[0];
    cond.lseErr2 = condSum[1];
    double maxErr = std::max(oErr, lErr),
           bound = checkBound(s, cond, sum[1], sum[3]);
    // Rows are counted once per dim slice; report (batch, head, token) rows.
    long long rows = static_cast<long long>(sum[4]) / s.dimSlices;
    if (maxErr <= bound) {
      std::fprintf(stdout,
                   "ring-run: PASS max_rel_err=%.3e o_rel_err=%.3e "
                   "lse_rel_err=%.3e ranks=%d checked_rows=%lld of %lld%s\n",
                   maxErr, oErr, lErr, w.size, rows,
                   static_cast<long long>(s.batch * s.heads * s.seq),
                   boundNote(s, bound).c_str());
    } else {
      std::fprintf(stdout,
                   "ring-run: FAIL max_rel_err=%.3e exceeds the %s bound %g "
                   "(o_rel_err=%.3e lse_rel_err=%.3e over %lld sampled "
                   "rows)\n",
                   maxErr, ringrt_dtype_name(s.dtype), bound, oErr, lErr,
                   rows);
      rc = 1;
    }
    std::fflush(stdout);
  }
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}

/// Which ISA variant of the kernels the last call ran (multi-variant CPU
/// artifacts; rank 0's).
void printCpuVariant(World &w, ringrt_context *ctx) {
  if (w.rank == 0 && *ringrt_cpu_variant(ctx)) {
    std::fprintf(stdout, "ring-run: CPU variant=%s\n",
                 ringrt_cpu_variant(ctx));
    std::fflush(stdout);
  }
}

int runCheck(World &w, const Options &opt, const Manifest &m,
             ringrt_attention_entry entry, ringrt_context *ctx,
             const RankCoords &coords) {
  const AttentionSpec &s = m.spec;
  auto qShape = globalShape(s, s.heads, true);
  auto kvShape = globalShape(s, s.kvHeads, true);
  auto lseShape = globalShape(s, s.heads, false);

  RankBuffers bufs;
  bufs.init(m);
  for (int which = 0; which < 3; ++which)
    fillLocalInput(s, opt, which, coords,
                   which == 0 ? bufs.q.data()
                   : which == 1 ? bufs.k.data()
                                : bufs.v.data(),
                   paddingValue(m));
  bufs.poison(m);
  // GPU artifacts: the poisoned outputs are copied to the device too.
  std::string devErr = isGpuTarget(m) ? bufs.toDevice(m, ctx) : "";
  if (!w.agree(devErr.empty(), devErr))
    return 1;

  int32_t st = callForwardEntry(entry, s, ctx, &bufs.tq, &bufs.tk, &bufs.tv,
                                &bufs.to, &bufs.tlse);
  if (!w.agree(st == RINGRT_OK,
               ringrtError(("entry '" + m.entry + "'").c_str(), st),
               isFatal(st)))
    return 1;
  printCpuVariant(w, ctx);
  devErr = bufs.fromDevice();
  if (!w.agree(devErr.empty(), devErr))
    return 1;
  if (opt.profile)
    printProfiles(w, ctx);
  if (opt.checkRows > 0)
    return checkSampled(w, opt, m, coords, bufs);

  // Gather every rank's O (as float), LSE and coordinates to rank 0.
  int64_t nO = product(m.local.o, 4), nL = product(m.local.lse, 3);
  std::vector<float> localO(static_cast<size_t>(nO));
  for (int64_t i = 0; i < nO; ++i)
    localO[static_cast<size_t>(i)] = loadElement(bufs.o.data(), s.dtype, i);
  int64_t myCoords[4] = {coords.ring, coords.headGroup, coords.dimSlice,
                         coords.a2a};
  std::vector<float> allO, allL;
  std::vector<int64_t> allC;
  if (w.rank == 0) {
    allO.resize(static_cast<size_t>(nO) * w.size);
    allL.resize(static_cast<size_t>(nL) * w.size);
    allC.resize(4 * static_cast<size_t>(w.size));
  }
  MPI_Gather(localO.data(), static_cast<int>(nO), MPI_FLOAT, allO.data(),
             static_cast<int>(nO), MPI_FLOAT, 0, MPI_COMM_WORLD);
  MPI_Gather(bufs.lse.data(), static_cast<int>(nL), MPI_FLOAT, allL.data(),
             static_cast<int>(nL), MPI_FLOAT, 0, MPI_COMM_WORLD);
  MPI_Gather(myCoords, 4, MPI_INT64_T, allC.data(), 4, MPI_INT64_T, 0,
             MPI_COMM_WORLD);

  std::string failure;
  double oErr = 0, lErr = 0, bound = 0;
  if (w.rank == 0) {
    float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> o(static_cast<size_t>(product(qShape.data(), 4)), nan);
    std::vector<float> lse(static_cast<size_t>(product(lseShape.data(), 3)),
                           nan);
    // LSE comes from dim slice 0; the other slices must agree with it.
    for (int pass = 0; pass < 2; ++pass)
      for (int r = 0; r < w.size && failure.empty(); ++r) {
        RankCoords c{allC[4 * r], allC[4 * r + 1], allC[4 * r + 2],
                     allC[4 * r + 3]};
        if ((c.dimSlice == 0) != (pass == 0))
          continue;
        const float *ro = &allO[static_cast<size_t>(r) * nO];
        const float *rl = &allL[static_cast<size_t>(r) * nL];
        // Padding rows hold no token: O = 0 and LSE = −inf there.
        auto padding = [&](const char *what, float got, float want) {
          if (got != want && failure.empty())
            failure = std::string(what) + " of rank " + std::to_string(r) +
                      " is " + std::to_string(got) + " in a padding row " +
                      "(the layout's parts are uneven); expected " +
                      std::to_string(want);
        };
        // a2a padding rows (past the rank's share) are never written: they
        // keep the poison.
        auto untouched = [&](const char *what, float got, int32_t dtype) {
          if (failure.empty())
            failure = a2aPaddingFailure(what, r, got, dtype);
        };
        forEachLocal(
            s, s.heads, true, c,
            [&](int64_t l, int64_t g) { o[static_cast<size_t>(g)] = ro[l]; },
            [&](int64_t l) { padding("o", ro[l], 0.0f); },
            [&](int64_t l) { untouched("o", ro[l], s.dtype); });
        forEachLocal(
            s, s.heads, false, c,
            [&](int64_t l, int64_t g) {
          float &dst = lse[static_cast<size_t>(g)];
          if (pass == 0) {
            dst = rl[l];
            return;
          }
          if (!lseAgreesAcrossSlices(dst, rl[l]) && failure.empty())
            failure = "lse of rank " + std::to_string(r) + " (dim slice " +
                      std::to_string(c.dimSlice) + ") disagrees with dim " +
                      "slice 0 at flat index " + std::to_string(g) + ": " +
                      std::to_string(rl[l]) + " vs " + std::to_string(dst);
            },
            [&](int64_t l) {
              padding("lse", rl[l], -std::numeric_limits<float>::infinity());
            },
            [&](int64_t l) { untouched("lse", rl[l], RINGRT_F32); });
      }

    std::vector<float> q = generateInput(opt.seed, 0, qShape, s.dtype,
                                         opt.inputScale);
    std::vector<float> k = generateInput(opt.seed, 1, kvShape, s.dtype,
                                         opt.inputScale);
    std::vector<float> v = generateInput(opt.seed, 2, kvShape, s.dtype);
    std::vector<double> refO, refL;
    Conditioning cond = referenceAttention(s, q, k, v, refO, refL);
    if (failure.empty()) {
      Comparison co = compareOutput("o", o.data(), refO.data(), qShape);
      Comparison cl = compareOutput("lse", lse.data(), refL.data(), lseShape);
      oErr = co.relErr;
      lErr = cl.relErr;
      bound = checkBound(s, cond, co.ref2, cl.ref2);
      if (!co.ok)
        failure = co.why;
      else if (!cl.ok)
        failure = cl.why;
    }
    double maxErr = std::max(oErr, lErr);
    if (failure.empty() && !(maxErr <= bound))
      failure = "max_rel_err=" + std::to_string(maxErr) + " exceeds the " +
                ringrt_dtype_name(s.dtype) + " bound " +
                std::to_string(bound) + " (o_rel_err=" + std::to_string(oErr) +
                " lse_rel_err=" + std::to_string(lErr) + ")" +
                boundNote(s, bound);

    if (!opt.dumpDir.empty()) {
      ::mkdir(opt.dumpDir.c_str(), 0755);
      std::string err;
      bool ok = writeDocumentsNpy(opt.dumpDir, s, err) &&
                writeNpyF32(opt.dumpDir + "/q.npy", q.data(), qShape, err) &&
                writeNpyF32(opt.dumpDir + "/k.npy", k.data(), kvShape, err) &&
                writeNpyF32(opt.dumpDir + "/v.npy", v.data(), kvShape, err) &&
                writeNpyF32(opt.dumpDir + "/o.npy", o.data(), qShape, err) &&
                writeNpyF32(opt.dumpDir + "/lse.npy", lse.data(), lseShape,
                            err);
      if (!ok && failure.empty())
        failure = "--dump: " + err;
    }
    if (failure.empty())
      std::fprintf(stdout,
                   "ring-run: PASS max_rel_err=%.3e o_rel_err=%.3e "
                   "lse_rel_err=%.3e ranks=%d%s\n",
                   maxErr, oErr, lErr, w.size,
                   boundNote(s, bound).c_str());
    else
      std::fprintf(stdout, "ring-run: FAIL %s\n", failure.c_str());
    std::fflush(stdout);
  }
  int rc = failure.empty() ? 0 : 1;
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}

/// --stage-stats: every rank's stage records, gathered to rank 0 and
/// printed in rank order, per call.
void printStageStats(World &w, ringrt_context *ctx) {
  constexpr int kMaxStages = 64, kFields = 10;
  std::vector<ringrt_stage_stats> recs(kMaxStages);
  int32_t count = 0;
  if (ringrt_stage_stats_get(ctx, recs.data(), kMaxStages, &count) !=
      RINGRT_OK)
    count = 0;
  count = std::min(count, kMaxStages);
  std::vector<double> mine(kMaxStages * kFields + 1, 0.0);
  mine[0] = count;
  for (int i = 0; i < count; ++i) {
    const ringrt_stage_stats &r = recs[i];
    double n = r.calls > 0 ? static_cast<double>(r.calls) : 1.0;
    double *f = &mine[1 + i * kFields];
    f[0] = r.stage;
    f[1] = r.stage_ms / n;
    f[2] = (r.stage_ms - r.exposed_ms) / n;
    f[3] = r.transfer_ms / n;
    f[4] = r.exposed_ms / n;
    f[5] = r.stage_cpu_ms / n;
    f[6] = (r.stage_cpu_ms - r.exposed_cpu_ms) / n;
    f[7] = static_cast<double>(r.done_before_wait);
    f[8] = static_cast<double>(r.shifts);
    f[9] = static_cast<double>(r.calls);
  }
  std::vector<double> all(w.rank == 0 ? mine.size() * w.size : 0);
  MPI_Gather(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE,
             all.data(), static_cast<int>(mine.size()), MPI_DOUBLE, 0,
             MPI_COMM_WORLD);
  if (w.rank != 0)
    return;
  for (int r = 0; r < w.size; ++r) {
    const double *rec = &all[static_cast<size_t>(r) * mine.size()];
    for (int i = 0; i < static_cast<int>(rec[0]); ++i) {
      const double *f = &rec[1 + i * kFields];
      std::fprintf(stdout,
                   "ring-run: STAGE rank=%d stage=%d stage_ms=%.3f "
                   "compute_ms=%.3f transfer_ms=%.3f exposed_ms=%.3f "
                   "stage_cpu_ms=%.3f compute_cpu_ms=%.3f "
                   "done_before_wait=%.0f/%.0f\n",
                   r, static_cast<int>(f[0]), f[1], f[2], f[3], f[4], f[5],
                   f[6], f[7], f[8]);
    }
  }
  std::fflush(stdout);
}

/// --bench's per-call host overhead: on each rank the entry's wall time per
/// call (`elapsed` over `iters` calls, the final device synchronize
/// included) minus the time inside its kernels (`kernelMs`), printed for
/// the rank where it is largest, with the host time until the entry
/// returned (`returnSeconds`; less than the wall time where the entry
/// returns before its GPU work ends).
void printOverhead(World &w, double elapsed, double returnSeconds,
                   double kernelMs, int64_t iters) {
  double n = static_cast<double>(iters);
  double mine[4] = {1e3 * elapsed / n - kernelMs / n, 1e3 * elapsed / n,
                    kernelMs / n, 1e3 * returnSeconds / n};
  std::vector<double> all(w.rank == 0 ? 4 * w.size : 0);
  MPI_Gather(mine, 4, MPI_DOUBLE, all.data(), 4, MPI_DOUBLE, 0,
             MPI_COMM_WORLD);
  if (w.rank != 0)
    return;
  int worst = 0;
  for (int r = 1; r < w.size; ++r)
    if (all[4 * r] > all[4 * worst])
      worst = r;
  const double *f = &all[4 * worst];
  std::fprintf(stdout,
               "ring-run: OVERHEAD ms_per_call=%.4f entry_ms=%.4f "
               "kernel_ms=%.4f return_ms=%.4f rank=%d (the entry's wall time "
               "minus its kernels'; the rank with the most)\n",
               f[0], f[1], f[2], f[3], worst);
  std::fflush(stdout);
}

int runBench(World &w, const Options &opt, const Manifest &m,
             ringrt_attention_entry entry, ringrt_context *ctx,
             const RankCoords &coords) {
  const AttentionSpec &s = m.spec;
  RankBuffers bufs;
  bufs.init(m);
  for (int which = 0; which < 3; ++which)
    fillLocalInput(s, opt, which, coords,
                   which == 0 ? bufs.q.data()
                   : which == 1 ? bufs.k.data()
                                : bufs.v.data(),
                   paddingValue(m));
  std::string devErr = isGpuTarget(m) ? bufs.toDevice(m, ctx) : "";
  if (!w.agree(devErr.empty(), devErr))
    return 1;
  auto run = [&] {
    return callForwardEntry(entry, s, ctx, &bufs.tq, &bufs.tk, &bufs.tv,
                            &bufs.to, &bufs.tlse);
  };
  int32_t st = RINGRT_OK;
  for (int i = 0; i < 3 && st == RINGRT_OK; ++i)
    st = run();
  if (!w.agree(st == RINGRT_OK,
               ringrtError(("entry '" + m.entry + "' (warm-up)").c_str(), st),
               isFatal(st)))
    return 1;
  // The kernels alone: on a GPU by CUDA events (no launch overhead or host
  // work between them), on the CPU by the host clock around each kernel
  // call. The entry's time minus theirs is the per-call overhead.
  bool cpuTarget = !isGpuTarget(m);
  bool timeKernels = opt.device == "cuda" || cpuTarget;
  if (timeKernels)
    st = ringrt_device_time_kernels(ctx, 1);
  if (!w.agree(st == RINGRT_OK, ringrtError("timing kernels", st)))
    return 1;
  if (opt.stageStats)
    st = ringrt_stage_stats_enable(ctx, 1);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime(), returnSeconds = 0;
  for (int64_t i = 0; i < opt.iters && st == RINGRT_OK; ++i) {
    double c0 = MPI_Wtime();
    st = run();
    returnSeconds += MPI_Wtime() - c0;
  }
  if (st == RINGRT_OK && isGpuTarget(m))
    st = ringrt_device_synchronize(ctx);
  double elapsed = MPI_Wtime() - t0;
  if (!w.agree(st == RINGRT_OK,
               ringrtError(("entry '" + m.entry + "'").c_str(), st),
               isFatal(st)))
    return 1;
  double kernelMs = 0;
  int64_t launches = 0;
  if (timeKernels)
    st = ringrt_device_kernel_time(ctx, &kernelMs, &launches);
  if (!w.agree(st == RINGRT_OK, ringrtError("timing kernels", st)))
    return 1;
  double maxKernelMs = 0;
  MPI_Reduce(&kernelMs, &maxKernelMs, 1, MPI_DOUBLE, MPI_MAX, 0,
             MPI_COMM_WORLD);
  if (timeKernels && w.rank == 0)
    std::fprintf(stdout,
                 "ring-run: KERNEL ms_per_iter=%.4f launches_per_iter=%.6g "
                 "(%s, summed; max over ranks)\n",
                 maxKernelMs / static_cast<double>(opt.iters),
                 static_cast<double>(launches) /
                     static_cast<double>(opt.iters),
                 cpuTarget ? "host clock around each kernel call"
                           : "CUDA events around each launch");
  if (timeKernels)
    printOverhead(w, elapsed, returnSeconds, kernelMs, opt.iters);
  // (A grad artifact's BENCH backward line comes before these.)
  if (opt.stageStats) {
    printStageStats(w, ctx);
    printCpuVariant(w, ctx);
  }
  double maxElapsed = 0;
  MPI_Allreduce(&elapsed, &maxElapsed, 1, MPI_DOUBLE, MPI_MAX,
                MPI_COMM_WORLD);
  if (opt.benchMs)
    *opt.benchMs = maxElapsed / static_cast<double>(opt.iters) * 1e3;
  if (w.rank == 0) {
    double perIter = maxElapsed / static_cast<double>(opt.iters);
    double L = static_cast<double>(s.seq);
    double flops = 4.0 * s.batch * s.heads * s.scorePairs() * s.headDim;
    std::fprintf(stdout,
                 "ring-run: BENCH ms_per_iter=%.4f tokens_per_s=%.6g "
                 "gflops=%.6g\n",
                 perIter * 1e3, s.batch * L / perIter, flops / perIter / 1e9);
    std::fflush(stdout);
  }
  return 0;
}

int runArtifact(World &w, const Options &opt);

int runMain(int argc, char **argv) {
  World w;
  Options opt;
  // A bad RINGRT_TIMEOUT_MS is an error on every rank, before anything
  // waits (ringrt_context_create would refuse it too).
  std::string err;
  if (ringrt_timeout_from_env(&w.timeoutMs) != RINGRT_OK)
    err = ringrt_last_error();
  std::string argErr = parseOptions(argc, argv, opt);
  if (err.empty())
    err = argErr;
  if (!w.agree(err.empty(), err))
    return 2;
  if (opt.help) {
    if (w.rank == 0)
      std::fputs(kHelp, stdout);
    return 0;
  }
  if (opt.calibrate)
    return runCalibrate(
        opt.output, "", [&](const std::string &dir, std::string &error) {
          Options o = opt;
          o.calibrate = false;
          o.dir = dir;
          o.bench = true;
          o.iters = 5;
          double ms = -1;
          o.benchMs = &ms;
          if (runArtifact(w, o) != 0) {
            error = "ring-run --bench " + dir + " failed (see above)";
            return -1.0;
          }
          return ms;
        });
  return runArtifact(w, opt);
}

/// Loads the artifact in opt.dir and runs --check or --bench on it.
int runArtifact(World &w, const Options &opt) {
  std::string err;

  Manifest m;
  bool ok = loadManifest(opt.dir + "/manifest.json", m, err);
  if (!w.agree(ok, err))
    return 1;
  // Packed documents: the run's boundaries (the same on every rank).
  err = setDocuments(m.spec, opt.seqlens, opt.cuSeqlens, opt.seed);
  if (err.empty() && opt.reportBalance && !m.spec.hasDocuments())
    err = "--report-balance needs a varlen artifact (ringc spec key "
          "max_docs)";
  if (!w.agree(err.empty(), err))
    return 1;
  const AttentionSpec &s = m.spec;
  if (s.hasDocuments() && w.rank == 0 &&
      ringrt_check_cu_seqlens(s.cuSeqlens.data(), s.maxDocs, s.seq) ==
          RINGRT_OK) {
    std::fprintf(stdout, "ring-run: DOCS %s\n", describeDocuments(s).c_str());
    if (opt.reportBalance)
      std::fputs(balanceReport(s).c_str(), stdout);
    std::fflush(stdout);
  }
  // GPU artifacts take device pointers: they run on emu or cuda; CPU
  // artifacts run on host memory only.
  bool gpuArtifact = isGpuTarget(m);
  if (!w.agree(gpuArtifact != (opt.device == "cpu"),
               "device '" + opt.device + "' cannot run this artifact (target " +
                   m.target + "): " +
                   (gpuArtifact ? "GPU artifacts run with --device=emu or "
                                  "--device=cuda"
                                : "CPU artifacts run with --device=cpu")))
    return 1;
  if (!w.agree(s.ranks() == w.size,
               "this artifact needs " + std::to_string(s.ranks()) +
                   " ranks (ring " + std::to_string(s.ring) +
                   " x head_groups " + std::to_string(s.headGroups) +
                   " x dim_slices " + std::to_string(s.dimSlices) +
                   (s.a2a > 1 ? " x a2a " + std::to_string(s.a2a) : "") +
                   "), mpirun started " + std::to_string(w.size)))
    return 1;

  // Memory: the ranks of a node share its memory; refuse, with the figures,
  // a run that cannot fit rather than die in bad_alloc on every rank.
  MemoryNeed need = estimateMemory(m, opt.check, opt.checkRows, w.size);
  uint64_t mine = w.rank == 0 ? need.local + need.checkRoot : need.local;
  if (mine < need.local)
    mine = UINT64_MAX;
  uint64_t avail = 0;
  std::string availFrom;
  bool availOk = availableMemory(avail, availFrom, err);
  if (!w.agree(availOk, err))
    return 1;
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, w.rank,
                      MPI_INFO_NULL, &node);
  // Summed as doubles: a saturated estimate must not wrap around.
  double mineD = static_cast<double>(mine), nodeNeed = 0;
  int nodeRanks = 0, one = 1;
  MPI_Allreduce(&mineD, &nodeNeed, 1, MPI_DOUBLE, MPI_SUM, node);
  MPI_Allreduce(&one, &nodeRanks, 1, MPI_INT, MPI_SUM, node);
  MPI_Comm_free(&node);
  err.clear();
  if (nodeNeed > static_cast<double>(avail)) {
    uint64_t total = nodeNeed >= 1.8e19 ? UINT64_MAX
                                        : static_cast<uint64_t>(nodeNeed);
    err = "not enough memory: this run needs about " + formatBytes(total) +
          " on this node (" + std::to_string(nodeRanks) + " ranks x " +
          formatBytes(need.local) + " of local tensors";
    if (need.checkRoot)
      err += ", plus " + formatBytes(need.checkRoot) +
             " on rank 0 for --check: the float64 reference and the gathered "
             "global tensors";
    err += "), but " + formatBytes(avail) + " is available (" + availFrom +
           ")";
    if (need.checkRoot && !m.spec.isLayer() &&
        nodeNeed - static_cast<double>(need.checkRoot) <=
            static_cast<double>(avail))
      err += "; --check-rows K checks K query rows per head instead, in "
             "O(K*L*D) per head without the global tensors";
  }
  if (!w.agree(err.empty(), err))
    return 1;
  // The full check gathers whole local tensors with int counts.
  if (opt.check && opt.checkRows == 0 &&
      (product(m.local.o, 4) > INT_MAX || product(m.local.lse, 3) > INT_MAX))
    err = "--check gathers every rank's O, but " +
          std::to_string(product(m.local.o, 4)) +
          " elements per rank exceed MPI's int counts; use --check-rows K";
  if (!w.agree(err.empty(), err))
    return 1;

  ringrt_attention_entry entry = nullptr;
  err = loadArtifactEntry(opt.dir, m, entry);
  if (!w.agree(entry != nullptr, err))
    return 1;

  ringrt_context_options co{};
  co.comm = opt.comm.c_str();
  co.device = opt.device.c_str();
  co.grid_rank = m.gridRank;
  for (int a = 0; a < 4; ++a)
    co.grid_shape[a] = m.gridShape[a];
  for (int r = 0; r < 3; ++r)
    co.axis_of_role[r] = m.axisOfRole[r];
  co.has_a2a_axis = m.a2aAxis >= 0;
  co.a2a_axis = m.a2aAxis;
  co.plan_hash = m.planHash;
  ringrt_context *ctx = nullptr;
  ringrt_status st = ringrt_context_create(&co, &ctx);
  if (!w.agree(st == RINGRT_OK,
               st == RINGRT_OK ? "" : ringrtError("creating the context", st),
               isFatal(st)))
    return 1;
  w.timeoutMs = ringrt_timeout_ms(ctx);
  RankCoords coords{ringrt_coord(ctx, RINGRT_AXIS_RING),
                    ringrt_coord(ctx, RINGRT_AXIS_HEAD_GROUP),
                    ringrt_coord(ctx, RINGRT_AXIS_DIM_SLICE),
                    ringrt_coord(ctx, RINGRT_AXIS_A2A)};
  // A layer artifact (LayerCheck.h): NAME_layer takes X and the weights.
  if (s.isLayer()) {
    if (opt.checkRows > 0)
      err = "--check-rows: a layer artifact's check compares the whole Y; "
            "run --check without --check-rows";
    if (!w.agree(err.empty(), err)) {
      ringrt_context_destroy(ctx);
      return 1;
    }
    LayerRun run{m,
                 ctx,
                 coords,
                 reinterpret_cast<void *>(entry),
                 opt.seed,
                 opt.dumpDir,
                 opt.iters,
                 opt.inputScale,
                 [&](bool ok, const std::string &msg) {
                   return w.agree(ok, msg);
                 },
                 opt.benchMs};
    int rc = opt.check ? runLayerCheck(run) : runLayerBench(run);
    if (rc == 0 && opt.profile)
      printProfiles(w, ctx);
    ringrt_context_destroy(ctx);
    return rc;
  }
  // A grad artifact also exports the backward entry (GradCheck.h).
  BackwardEntry backward = findBackwardEntry(opt.dir, m);
  int rc;
  if (backward && opt.checkRows > 0)
    err = "--check-rows: a grad artifact's check compares the whole dq, dk "
          "and dv; run --check without --check-rows";
  if (!w.agree(err.empty(), err)) {
    ringrt_context_destroy(ctx);
    return 1;
  }
  if (backward) {
    GradRun g{m,        ctx,       coords,          entry,
              backward, opt.seed,  opt.dumpDir,     opt.iters,
              opt.inputScale,
              [&](bool ok, const std::string &msg) { return w.agree(ok, msg); }};
    if (opt.profile)
      g.profile = [&](const char *after) { printProfiles(w, ctx, after); };
    rc = opt.check ? runGradCheck(g) : runGradBench(g);
    if (rc == 0 && opt.bench)
      rc = runBench(w, opt, m, entry, ctx, coords);
  } else {
    rc = opt.check ? runCheck(w, opt, m, entry, ctx, coords)
                   : runBench(w, opt, m, entry, ctx, coords);
  }
  ringrt_context_destroy(ctx);
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rc = runMain(argc, argv);
  MPI_Finalize();
  return rc;
}
