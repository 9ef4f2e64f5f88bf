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
// with a float64 reference, or times the entry. Every failure is agreed on
// by all ranks so that every rank exits, and rank 0's last line is
// `ring-run: PASS ...`, `ring-run: FAIL ...` or `ring-run: BENCH ...`.
//
//===----------------------------------------------------------------------===//

#include "HostData.h"
#include "Manifest.h"
#include "Npy.h"
#include "Reference.h"
#include "ringrt/ringrt.h"

#include <mpi.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <limits>
#include <sched.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

using namespace ringrun;

namespace {

const char *const kHelp =
    "usage: mpirun -np N ring-run DIR --check [--device=cpu|emu|cuda] "
    "[--comm=mpi|nccl] [--seed S] [--dump OUTDIR]\n"
    "       mpirun -np N ring-run DIR --bench [--iters K] "
    "[--device=cpu|emu|cuda] [--comm=mpi|nccl] [--seed S]\n"
    "\n"
    "Runs the ringc artifact in DIR (manifest.json + the shared library it\n"
    "names) on N = ring x head_groups x dim_slices MPI ranks.\n"
    "\n"
    "  --check          run once on seeded random inputs, gather O and LSE to\n"
    "                   rank 0 and compare with a float64 reference; the last\n"
    "                   line is `ring-run: PASS max_rel_err=<x> o_rel_err=<a>\n"
    "                   lse_rel_err=<b> ranks=<N>` (exit 0) or `ring-run:\n"
    "                   FAIL <why>` (exit 1). Relative error is\n"
    "                   ||out-ref||_2/||ref||_2; bounds f32 1e-4, bf16/f16\n"
    "                   1e-2.\n"
    "  --bench          time the entry (warm-up, then K iterations; max over\n"
    "                   ranks); last line `ring-run: BENCH ms_per_iter=<x>\n"
    "                   tokens_per_s=<y> gflops=<z>` (FLOPs 4*B*Hq*L^2*D,\n"
    "                   halved when causal). With --device=cuda the line\n"
    "                   before it is the kernels' time alone, by CUDA events:\n"
    "                   `ring-run: KERNEL ms_per_iter=<k> launches_per_iter=<n>`.\n"
    "  --device=D       device backend: cpu (default; CPU artifacts), emu\n"
    "                   (PTX emulator) or cuda (GPU artifacts, whose tensors\n"
    "                   ring-run allocates with ringrt_device_alloc).\n"
    "  --comm=C         communicator: nccl (default with --device=cuda:\n"
    "                   shifts of device buffers on a CUDA stream of their\n"
    "                   own) or mpi (default otherwise; with --device=cuda\n"
    "                   shifts are staged through page-locked host memory).\n"
    "  --profile        with --check and --device=emu: print each rank's\n"
    "                   emulator counters summed over its launches.\n"
    "  --seed S         input seed (default 0); inputs are uniform in [-1,1)\n"
    "                   from splitmix64, rounded to the artifact's dtype.\n"
    "  --dump OUTDIR    with --check: write q.npy k.npy v.npy [B,H,L,D],\n"
    "                   o.npy [B,Hq,L,D] and lse.npy [B,Hq,L] as float32,\n"
    "                   natural token order.\n"
    "  --iters K        with --bench: timed iterations (default 20).\n"
    "  --help           print this help.\n"
    "\n"
    "Environment: RINGRT_TIMEOUT_MS bounds every wait (default 300000).\n";

struct Options {
  std::string dir;
  bool check = false, bench = false, help = false, profile = false;
  std::string device = "cpu";
  /// "mpi" or "nccl"; empty until parseArgs picks the device's default.
  std::string comm;
  uint64_t seed = 0;
  std::string dumpDir;
  int64_t iters = 20;
};

bool parseUnsigned(const std::string &s, uint64_t &out) {
  if (s.empty() || s[0] == '-')
    return false;
  char *end = nullptr;
  out = std::strtoull(s.c_str(), &end, 0);
  return *end == '\0';
}

/// Parses argv; returns "" or the error.
std::string parseArgs(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    // Flags taking a value accept both `--flag=V` and `--flag V`.
    auto value = [&](const char *flag, std::string &out) -> int {
      std::string f = flag;
      if (a == f) {
        if (i + 1 >= argc)
          return -1;
        out = argv[++i];
        return 1;
      }
      if (a.compare(0, f.size() + 1, f + "=") == 0) {
        out = a.substr(f.size() + 1);
        return 1;
      }
      return 0;
    };
    std::string v;
    int r;
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (a == "--check") {
      o.check = true;
    } else if (a == "--bench") {
      o.bench = true;
    } else if (a == "--profile") {
      o.profile = true;
    } else if ((r = value("--device", v)) != 0) {
      if (r < 0)
        return "--device needs a value";
      if (v != "cpu" && v != "emu" && v != "cuda")
        return "--device: expected cpu, emu or cuda, got '" + v + "'";
      o.device = v;
    } else if ((r = value("--comm", v)) != 0) {
      if (r < 0)
        return "--comm needs a value";
      if (v != "mpi" && v != "nccl")
        return "--comm: expected mpi or nccl, got '" + v + "'";
      o.comm = v;
    } else if ((r = value("--seed", v)) != 0) {
      if (r < 0 || !parseUnsigned(v, o.seed))
        return "--seed needs a non-negative integer";
    } else if ((r = value("--dump", v)) != 0) {
      if (r < 0 || v.empty())
        return "--dump needs a directory";
      o.dumpDir = v;
    } else if ((r = value("--iters", v)) != 0) {
      uint64_t k = 0;
      if (r < 0 || !parseUnsigned(v, k) || k == 0)
        return "--iters needs a positive integer";
      o.iters = static_cast<int64_t>(k);
    } else if (!a.empty() && a[0] == '-') {
      return "unknown option '" + a + "' (see --help)";
    } else if (o.dir.empty()) {
      o.dir = a;
    } else {
      return "unexpected argument '" + a + "' (one artifact directory only)";
    }
  }
  if (o.comm.empty())
    o.comm = o.device == "cuda" ? "nccl" : "mpi";
  if (o.help)
    return "";
  if (o.dir.empty())
    return "missing the artifact directory (see --help)";
  if (o.check == o.bench)
    return "give exactly one of --check and --bench";
  if (!o.dumpDir.empty() && !o.check)
    return "--dump needs --check";
  if (o.profile && (!o.check || o.device != "emu"))
    return "--profile needs --check and --device=emu";
  return "";
}

/// The MPI world and the all-ranks agreement on failures.
class World {
public:
  World() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }

  int rank = 0, size = 1;
  int64_t agreeTimeoutMs = 310000;

  /// Collective: returns true if every rank is `ok`. Otherwise rank 0 prints
  /// the failing ranks' messages (the first as `ring-run: FAIL ...`) and
  /// every rank returns false. Aborts if the other ranks never arrive.
  bool agree(bool ok, const std::string &message) {
    int mine = ok ? 1 : 0, all = 0;
    MPI_Request req;
    MPI_Iallreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req);
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(agreeTimeoutMs);
    for (int flag = 0;;) {
      MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
      if (flag)
        break;
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stdout,
                     "ring-run: FAIL rank %d: the other ranks did not "
                     "respond within %lld ms%s%s; aborting\n",
                     rank, static_cast<long long>(agreeTimeoutMs),
                     ok ? "" : " after: ", ok ? "" : message.c_str());
        std::fflush(stdout);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (all)
      return true;
    const int kLen = 2048;
    std::vector<char> buf(kLen, '\0'), gathered;
    std::snprintf(buf.data(), kLen, "%s", ok ? "" : message.c_str());
    if (rank == 0)
      gathered.resize(static_cast<size_t>(kLen) * size);
    MPI_Gather(buf.data(), kLen, MPI_CHAR, gathered.data(), kLen, MPI_CHAR, 0,
               MPI_COMM_WORLD);
    if (rank == 0) {
      std::string first, firstAt;
      int distinct = 0;
      for (int r = 0; r < size; ++r) {
        std::string m(&gathered[static_cast<size_t>(r) * kLen]);
        if (m.empty() || m == first)
          continue;
        if (first.empty()) {
          first = m;
          firstAt = size > 1 ? "rank " + std::to_string(r) + ": " : "";
        } else {
          ++distinct;
          std::fprintf(stderr, "ring-run: rank %d: %s\n", r, m.c_str());
        }
      }
      std::fflush(stderr);
      // An error every rank reports alike needs no rank prefix.
      bool same = true;
      for (int r = 0; r < size; ++r)
        same = same && first == &gathered[static_cast<size_t>(r) * kLen];
      std::fprintf(stdout, "ring-run: FAIL %s%s\n", same ? "" : firstAt.c_str(),
                   first.c_str());
      std::fflush(stdout);
    }
    return false;
  }
};

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
  std::string toDevice(ringrt_context *ctx) {
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

  /// Fills O and LSE with NaN so that unwritten outputs fail the check.
  void poison(const Manifest &m) {
    float nan = std::numeric_limits<float>::quiet_NaN();
    for (int64_t i = 0, n = product(m.local.o, 4); i < n; ++i)
      storeElement(o.data(), m.spec.dtype, i, nan);
    for (float &x : lse)
      x = nan;
  }
};

/// Copies the rank's block of global `src` into the typed local `dst`.
void scatterLocal(const AttentionSpec &s, int64_t heads,
                  const RankCoords &c, const std::vector<float> &src,
                  void *dst) {
  forEachLocal(s, heads, true, c, [&](int64_t l, int64_t g) {
    storeElement(dst, s.dtype, l, src[static_cast<size_t>(g)]);
  });
}

/// Whether the artifact was compiled for a GPU target (its tensors are
/// device pointers).
bool isGpuTarget(const Manifest &m) { return m.target != "cpu"; }

/// Prints (rank 0) every rank's emulator counters. Collective.
void printProfiles(World &w, ringrt_context *ctx) {
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
                 "ring-run: profile rank %d: launches=%llu instructions=%llu "
                 "mma=%llu ldmatrix=%llu cp_async_bytes=%llu "
                 "shared_bytes=%llu global_bytes=%llu barriers=%llu "
                 "wgmma=%llu wgmma_flops=%llu tma_load_bytes=%llu "
                 "tma_store_bytes=%llu mbarrier_waits=%llu ex2=%llu "
                 "stmatrix=%llu\n",
                 r, u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7), u(8),
                 u(9), u(10), u(11), u(12), u(13), u(14));
  }
  std::fflush(stdout);
}

int runCheck(World &w, const Options &opt, const Manifest &m,
             ringrt_attention_entry entry, ringrt_context *ctx,
             const RankCoords &coords) {
  const AttentionSpec &s = m.spec;
  auto qShape = globalShape(s, s.heads, true);
  auto kvShape = globalShape(s, s.kvHeads, true);
  auto lseShape = globalShape(s, s.heads, false);
  std::vector<float> q = generateInput(opt.seed, 0, qShape, s.dtype);
  std::vector<float> k = generateInput(opt.seed, 1, kvShape, s.dtype);
  std::vector<float> v = generateInput(opt.seed, 2, kvShape, s.dtype);

  RankBuffers bufs;
  bufs.init(m);
  scatterLocal(s, s.heads, coords, q, bufs.q.data());
  scatterLocal(s, s.kvHeads, coords, k, bufs.k.data());
  scatterLocal(s, s.kvHeads, coords, v, bufs.v.data());
  bufs.poison(m);
  // GPU artifacts: the poisoned outputs are copied to the device too.
  std::string devErr = isGpuTarget(m) ? bufs.toDevice(ctx) : "";
  if (!w.agree(devErr.empty(), devErr))
    return 1;

  int32_t st = entry(ctx, &bufs.tq, &bufs.tk, &bufs.tv, &bufs.to, &bufs.tlse);
  if (!w.agree(st == RINGRT_OK,
               ringrtError(("entry '" + m.entry + "'").c_str(), st)))
    return 1;
  devErr = bufs.fromDevice();
  if (!w.agree(devErr.empty(), devErr))
    return 1;
  if (opt.profile)
    printProfiles(w, ctx);

  // Gather every rank's O (as float), LSE and coordinates to rank 0.
  int64_t nO = product(m.local.o, 4), nL = product(m.local.lse, 3);
  std::vector<float> localO(static_cast<size_t>(nO));
  for (int64_t i = 0; i < nO; ++i)
    localO[static_cast<size_t>(i)] = loadElement(bufs.o.data(), s.dtype, i);
  int64_t myCoords[3] = {coords.ring, coords.headGroup, coords.dimSlice};
  std::vector<float> allO, allL;
  std::vector<int64_t> allC;
  if (w.rank == 0) {
    allO.resize(static_cast<size_t>(nO) * w.size);
    allL.resize(static_cast<size_t>(nL) * w.size);
    allC.resize(3 * static_cast<size_t>(w.size));
  }
  MPI_Gather(localO.data(), static_cast<int>(nO), MPI_FLOAT, allO.data(),
             static_cast<int>(nO), MPI_FLOAT, 0, MPI_COMM_WORLD);
  MPI_Gather(bufs.lse.data(), static_cast<int>(nL), MPI_FLOAT, allL.data(),
             static_cast<int>(nL), MPI_FLOAT, 0, MPI_COMM_WORLD);
  MPI_Gather(myCoords, 3, MPI_INT64_T, allC.data(), 3, MPI_INT64_T, 0,
             MPI_COMM_WORLD);

  std::string failure;
  double oErr = 0, lErr = 0;
  if (w.rank == 0) {
    float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> o(static_cast<size_t>(product(qShape.data(), 4)), nan);
    std::vector<float> lse(static_cast<size_t>(product(lseShape.data(), 3)),
                           nan);
    // LSE comes from dim slice 0; the other slices must agree with it.
    for (int pass = 0; pass < 2; ++pass)
      for (int r = 0; r < w.size && failure.empty(); ++r) {
        RankCoords c{allC[3 * r], allC[3 * r + 1], allC[3 * r + 2]};
        if ((c.dimSlice == 0) != (pass == 0))
          continue;
        const float *ro = &allO[static_cast<size_t>(r) * nO];
        const float *rl = &allL[static_cast<size_t>(r) * nL];
        forEachLocal(s, s.heads, true, c, [&](int64_t l, int64_t g) {
          o[static_cast<size_t>(g)] = ro[l];
        });
        forEachLocal(s, s.heads, false, c, [&](int64_t l, int64_t g) {
          float &dst = lse[static_cast<size_t>(g)];
          if (pass == 0) {
            dst = rl[l];
            return;
          }
          bool agreeVal = (std::isnan(dst) && std::isnan(rl[l])) ||
                          dst == rl[l] ||
                          std::fabs(dst - rl[l]) <=
                              1e-5f * (1.0f + std::fabs(dst));
          if (!agreeVal && failure.empty())
            failure = "lse of rank " + std::to_string(r) + " (dim slice " +
                      std::to_string(c.dimSlice) + ") disagrees with dim " +
                      "slice 0 at flat index " + std::to_string(g) + ": " +
                      std::to_string(rl[l]) + " vs " + std::to_string(dst);
        });
      }

    std::vector<double> refO, refL;
    referenceAttention(s, q, k, v, refO, refL);
    if (failure.empty()) {
      Comparison co = compareOutput("o", o.data(), refO.data(), qShape);
      Comparison cl = compareOutput("lse", lse.data(), refL.data(), lseShape);
      oErr = co.relErr;
      lErr = cl.relErr;
      if (!co.ok)
        failure = co.why;
      else if (!cl.ok)
        failure = cl.why;
    }
    double bound = s.dtype == RINGRT_F32 ? 1e-4 : 1e-2;
    double maxErr = std::max(oErr, lErr);
    if (failure.empty() && !(maxErr <= bound))
      failure = "max_rel_err=" + std::to_string(maxErr) + " exceeds the " +
                ringrt_dtype_name(s.dtype) + " bound " +
                std::to_string(bound) + " (o_rel_err=" + std::to_string(oErr) +
                " lse_rel_err=" + std::to_string(lErr) + ")";

    if (!opt.dumpDir.empty()) {
      ::mkdir(opt.dumpDir.c_str(), 0755);
      std::string err;
      bool ok = writeNpyF32(opt.dumpDir + "/q.npy", q.data(), qShape, err) &&
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
                   "lse_rel_err=%.3e ranks=%d\n",
                   maxErr, oErr, lErr, w.size);
    else
      std::fprintf(stdout, "ring-run: FAIL %s\n", failure.c_str());
    std::fflush(stdout);
  }
  int rc = failure.empty() ? 0 : 1;
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}

int runBench(World &w, const Options &opt, const Manifest &m,
             ringrt_attention_entry entry, ringrt_context *ctx,
             const RankCoords &coords) {
  const AttentionSpec &s = m.spec;
  RankBuffers bufs;
  bufs.init(m);
  scatterLocal(s, s.heads, coords,
               generateInput(opt.seed, 0, globalShape(s, s.heads, true),
                             s.dtype),
               bufs.q.data());
  scatterLocal(s, s.kvHeads, coords,
               generateInput(opt.seed, 1, globalShape(s, s.kvHeads, true),
                             s.dtype),
               bufs.k.data());
  scatterLocal(s, s.kvHeads, coords,
               generateInput(opt.seed, 2, globalShape(s, s.kvHeads, true),
                             s.dtype),
               bufs.v.data());
  std::string devErr = isGpuTarget(m) ? bufs.toDevice(ctx) : "";
  if (!w.agree(devErr.empty(), devErr))
    return 1;
  auto run = [&] {
    return entry(ctx, &bufs.tq, &bufs.tk, &bufs.tv, &bufs.to, &bufs.tlse);
  };
  int32_t st = RINGRT_OK;
  for (int i = 0; i < 3 && st == RINGRT_OK; ++i)
    st = run();
  if (!w.agree(st == RINGRT_OK,
               ringrtError(("entry '" + m.entry + "' (warm-up)").c_str(), st)))
    return 1;
  // On a GPU, CUDA events also time the kernels alone (no launch overhead
  // or host work between them).
  bool timeKernels = opt.device == "cuda";
  if (timeKernels)
    st = ringrt_device_time_kernels(ctx, 1);
  if (!w.agree(st == RINGRT_OK, ringrtError("timing kernels", st)))
    return 1;
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (int64_t i = 0; i < opt.iters && st == RINGRT_OK; ++i)
    st = run();
  if (st == RINGRT_OK && isGpuTarget(m))
    st = ringrt_device_synchronize(ctx);
  double elapsed = MPI_Wtime() - t0;
  if (!w.agree(st == RINGRT_OK,
               ringrtError(("entry '" + m.entry + "'").c_str(), st)))
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
                 "(CUDA events around each launch, summed; max over "
                 "ranks)\n",
                 maxKernelMs / static_cast<double>(opt.iters),
                 static_cast<double>(launches) /
                     static_cast<double>(opt.iters));
  double maxElapsed = 0;
  MPI_Reduce(&elapsed, &maxElapsed, 1, MPI_DOUBLE, MPI_MAX, 0,
             MPI_COMM_WORLD);
  if (w.rank == 0) {
    double perIter = maxElapsed / static_cast<double>(opt.iters);
    double L = static_cast<double>(s.seq);
    double flops = 4.0 * s.batch * s.heads * L * L * s.headDim;
    if (s.causal)
      flops /= 2;
    std::fprintf(stdout,
                 "ring-run: BENCH ms_per_iter=%.4f tokens_per_s=%.6g "
                 "gflops=%.6g\n",
                 perIter * 1e3, s.batch * L / perIter, flops / perIter / 1e9);
    std::fflush(stdout);
  }
  return 0;
}

int runMain(int argc, char **argv) {
  World w;
  Options opt;
  std::string err = parseArgs(argc, argv, opt);
  if (!w.agree(err.empty(), err))
    return 2;
  if (opt.help) {
    if (w.rank == 0)
      std::fputs(kHelp, stdout);
    return 0;
  }

  Manifest m;
  bool ok = loadManifest(opt.dir + "/manifest.json", m, err);
  if (!w.agree(ok, err))
    return 1;
  const AttentionSpec &s = m.spec;
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
                   "), mpirun started " + std::to_string(w.size)))
    return 1;

  std::string libPath = opt.dir + "/" + m.library;
  void *lib = dlopen(libPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  ringrt_attention_entry entry = nullptr;
  if (lib) {
    entry = reinterpret_cast<ringrt_attention_entry>(
        dlsym(lib, m.entry.c_str()));
    if (!entry)
      err = libPath + ": no entry point '" + m.entry + "'";
  } else {
    const char *why = dlerror();
    err = "cannot load " + libPath + ": " + (why ? why : "unknown error");
  }
  if (!w.agree(entry != nullptr, err))
    return 1;

  ringrt_context_options co{};
  co.comm = opt.comm.c_str();
  co.device = opt.device.c_str();
  co.grid_rank = m.gridRank;
  for (int a = 0; a < 3; ++a) {
    co.grid_shape[a] = m.gridShape[a];
    co.axis_of_role[a] = m.axisOfRole[a];
  }
  co.plan_hash = m.planHash;
  ringrt_context *ctx = nullptr;
  ringrt_status st = ringrt_context_create(&co, &ctx);
  if (!w.agree(st == RINGRT_OK,
               st == RINGRT_OK ? "" : ringrtError("creating the context", st)))
    return 1;
  w.agreeTimeoutMs = ringrt_timeout_ms(ctx) + 10000;
  RankCoords coords{ringrt_coord(ctx, RINGRT_AXIS_RING),
                    ringrt_coord(ctx, RINGRT_AXIS_HEAD_GROUP),
                    ringrt_coord(ctx, RINGRT_AXIS_DIM_SLICE)};
  int rc = opt.check ? runCheck(w, opt, m, entry, ctx, coords)
                     : runBench(w, opt, m, entry, ctx, coords);
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
