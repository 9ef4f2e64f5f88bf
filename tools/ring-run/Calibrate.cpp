//===- Calibrate.cpp - measure this machine for the cost model -*- C++ -*-===//
//
// This file implements `ring-run --calibrate`. Every number is measured with
// all ranks active at once, as they are when an artifact runs:
//
//  * kernels: rank 0 compiles small artifacts with ringc (bf16, CPU target)
//    and every rank times them through the caller's --bench path. The fused
//    kernel: heads = W, head_groups = W (one head of full attention per
//    rank, no communication), 4·L²·D FLOPs per rank. The dim-slice kernels:
//    head_groups = W/2 × dim_slices 2, 2·2·L²·(D/2) FLOPs per rank, minus
//    the time of the score all-reduce (4·L² bytes, timed separately on the
//    same rank pairs). Rates are per compute unit: when W ranks share C < W
//    cores, a rank's rate is scaled by W/C (the model divides it again).
//  * projection GEMMs: a layer artifact with the fused kernel's first
//    attention shape (L = 1024, D = 64, one head per rank) and d_model =
//    2048: its time minus that attention's time minus an all-reduce of the
//    fp32 Y (4·L·d_model bytes over all W ranks, timed separately) is the
//    GEMMs' time, 8·L·d_model·D FLOPs per rank (QKV and output).
//  * memory: a triad a = b + s·c over 64 MB arrays on every rank.
//  * MPI: a ring shift (every rank sends to r+1 and receives from r−1, as a
//    ring stage does), an all-to-all and a pairwise all-reduce; latency from
//    8-byte messages, bandwidth from the slope to 8 MiB.
// Each measurement is the best of several repetitions: the machine may be
// shared, and the best run is the one least disturbed.
//
//===----------------------------------------------------------------------===//

#include "Calibrate.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace ringrun;

namespace {
struct World {
  int rank = 0, size = 1;
  World() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  double maxOver(double x) const {
    double m = 0;
    MPI_Allreduce(&x, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return m;
  }
  double minOver(double x) const {
    double m = 0;
    MPI_Allreduce(&x, &m, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    return m;
  }
};

/// Seconds per call of `op` (collective): the slowest rank's time, best of
/// `trials` runs of `reps` calls each.
template <typename F>
double timeCollective(const World &w, int trials, int reps, F op) {
  double best = 1e30;
  op(); // warm-up: connections, page faults
  for (int t = 0; t < trials; ++t) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < reps; ++i)
      op();
    best = std::min(best, w.maxOver((MPI_Wtime() - t0) / reps));
  }
  return best;
}

/// Ring shift of `bytes` per rank: send to r+1, receive from r−1.
double ringShift(const World &w, size_t bytes) {
  std::vector<char> send(bytes, 1), recv(bytes);
  int next = (w.rank + 1) % w.size, prev = (w.rank + w.size - 1) % w.size;
  return timeCollective(w, 5, bytes > 1 << 20 ? 5 : 50, [&] {
    MPI_Sendrecv(send.data(), static_cast<int>(bytes), MPI_BYTE, next, 7,
                 recv.data(), static_cast<int>(bytes), MPI_BYTE, prev, 7,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  });
}

/// All-to-all with `chunk` bytes to every other rank.
double allToAll(const World &w, size_t chunk) {
  std::vector<char> send(chunk * w.size, 1), recv(chunk * w.size);
  return timeCollective(w, 5, chunk > 1 << 20 ? 5 : 50, [&] {
    MPI_Alltoall(send.data(), static_cast<int>(chunk), MPI_BYTE, recv.data(),
                 static_cast<int>(chunk), MPI_BYTE, MPI_COMM_WORLD);
  });
}

/// Sum all-reduce of `bytes` of floats within rank pairs (2k, 2k+1): the
/// dim-slice axis of the calibration artifacts.
double pairAllReduce(const World &w, size_t bytes) {
  MPI_Comm pair;
  MPI_Comm_split(MPI_COMM_WORLD, w.rank / 2, w.rank, &pair);
  std::vector<float> buf(bytes / 4, 1.0f);
  double t = timeCollective(w, 3, bytes > 1 << 20 ? 3 : 20, [&] {
    MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(buf.size()),
                  MPI_FLOAT, MPI_SUM, pair);
  });
  MPI_Comm_free(&pair);
  return t;
}

/// Sum all-reduce of `bytes` of floats over every rank (the layer's Y).
double worldAllReduce(const World &w, size_t bytes) {
  std::vector<float> buf(bytes / 4, 1.0f);
  return timeCollective(w, 3, 3, [&] {
    MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(buf.size()),
                  MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  });
}

/// Triad bandwidth of one rank while every rank runs it, bytes/s (the
/// slowest rank's).
double triad(const World &w) {
  const size_t n = 16 << 20; // 64 MB per array
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  double t = timeCollective(w, 5, 1, [&] {
    for (size_t i = 0; i < n; ++i)
      a[i] = b[i] + 0.5f * c[i];
  });
  return 3.0 * n * sizeof(float) / t;
}

/// Latency and bandwidth from times at 8 bytes and at `big` bytes.
std::pair<double, double> fitLink(double tSmall, double tBig, double big) {
  double bw = big / std::max(tBig - tSmall, 1e-9);
  return {tSmall, bw};
}

std::string ringcNextToMe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0)
    return "ringc";
  std::string self(buf, static_cast<size_t>(n));
  return self.substr(0, self.rfind('/') + 1) + "ringc";
}

/// Rank 0 compiles `spec` into `dir`; every rank learns whether it worked.
bool compileArtifact(const World &w, const std::string &ringc,
                     const std::string &spec, const std::string &dir,
                     std::string &error) {
  int ok = 1;
  if (w.rank == 0) {
    std::string cmd = "'" + ringc + "' --spec '" + spec +
                      "' --target=cpu -o '" + dir + "' > '" + dir +
                      ".log' 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (!ok)
    error = "ringc failed on --spec \"" + spec + "\" (log: " + dir + ".log)";
  return ok;
}
} // namespace

int ringrun::runCalibrate(const std::string &outPath,
                          const std::string &ringcPath,
                          const BenchArtifactFn &bench) {
  World w;
  auto failAll = [&](const std::string &why) {
    if (w.rank == 0) {
      std::fprintf(stdout, "ring-run: FAIL --calibrate: %s\n", why.c_str());
      std::fflush(stdout);
    }
    return 1;
  };
  if (w.size < 2 || w.size % 2)
    return failAll("needs an even number of ranks, at least 2 (mpirun -np "
                   "2 ring-run --calibrate -o FILE.json); got " +
                   std::to_string(w.size));
  if (outPath.empty())
    return failAll("give -o FILE.json");
  const std::string ringc = ringcPath.empty() ? ringcNextToMe() : ringcPath;
  const int cores =
      std::max(1u, std::thread::hardware_concurrency());
  // Rates per compute unit: W ranks share `cores` cores.
  const double perUnit = std::max(1.0, double(w.size) / cores);

  // A scratch directory, named by rank 0.
  char dirBuf[256] = {};
  if (w.rank == 0) {
    std::snprintf(dirBuf, sizeof(dirBuf), "/tmp/ring-calibrate.XXXXXX");
    if (!::mkdtemp(dirBuf))
      dirBuf[0] = '\0';
  }
  MPI_Bcast(dirBuf, sizeof(dirBuf), MPI_CHAR, 0, MPI_COMM_WORLD);
  std::string tmp = dirBuf;
  if (tmp.empty())
    return failAll("cannot create a directory under /tmp");

  llvm::json::Array attention, slices, gemms, shifts, a2as, allreduces;
  std::string error;
  std::vector<double> attnRates, sliceRates;
  double attnMs = -1; // the first (L = 1024, D = 64) attention's time
  const int W = w.size;
  struct Size {
    int64_t seq, dim;
  };
  for (Size s : {Size{1024, 64}, Size{2048, 64}, Size{2048, 128}}) {
    std::string spec = "heads=" + std::to_string(W) +
                       ",seq=" + std::to_string(s.seq) +
                       ",head_dim=" + std::to_string(s.dim) +
                       ",head_groups=" + std::to_string(W) + ",dtype=bf16";
    std::string dir = tmp + "/attn_" + std::to_string(s.seq) + "_" +
                      std::to_string(s.dim);
    if (!compileArtifact(w, ringc, spec, dir, error))
      return failAll(error);
    double ms = bench(dir, error);
    if (ms < 0)
      return failAll(error);
    double flops = 4.0 * s.seq * s.seq * s.dim;
    double rate = flops / (ms * 1e-3) * perUnit;
    attnRates.push_back(rate);
    if (attnMs < 0)
      attnMs = ms;
    attention.push_back(llvm::json::Object{
        {"spec", spec}, {"ms", ms}, {"GFLOPs_per_unit", rate / 1e9}});
  }
  for (Size s : {Size{1024, 64}, Size{1024, 128}}) {
    std::string spec = "heads=" + std::to_string(W / 2) +
                       ",seq=" + std::to_string(s.seq) +
                       ",head_dim=" + std::to_string(s.dim) +
                       ",head_groups=" + std::to_string(W / 2) +
                       ",dim_slices=2,dtype=bf16";
    std::string dir = tmp + "/slice_" + std::to_string(s.seq) + "_" +
                      std::to_string(s.dim);
    if (!compileArtifact(w, ringc, spec, dir, error))
      return failAll(error);
    double ms = bench(dir, error);
    if (ms < 0)
      return failAll(error);
    double scoreBytes = 4.0 * s.seq * s.seq;
    double reduce = pairAllReduce(w, static_cast<size_t>(scoreBytes));
    double kernel = std::max(ms * 1e-3 - reduce, 1e-9);
    double flops = 2 * 2.0 * s.seq * s.seq * (s.dim / 2);
    double rate = flops / kernel * perUnit;
    sliceRates.push_back(rate);
    slices.push_back(llvm::json::Object{{"spec", spec},
                                        {"ms", ms},
                                        {"allreduce_ms", reduce * 1e3},
                                        {"GFLOPs_per_unit", rate / 1e9}});
  }
  // The projection GEMMs: the first attention shape inside a layer.
  double gemmRate = 0;
  {
    const int64_t seq = 1024, dim = 64, dModel = 2048;
    std::string spec = "heads=" + std::to_string(W) +
                       ",seq=" + std::to_string(seq) +
                       ",head_dim=" + std::to_string(dim) +
                       ",head_groups=" + std::to_string(W) +
                       ",d_model=" + std::to_string(dModel) + ",dtype=bf16";
    std::string dir = tmp + "/layer";
    if (!compileArtifact(w, ringc, spec, dir, error))
      return failAll(error);
    double ms = bench(dir, error);
    if (ms < 0)
      return failAll(error);
    double reduce = worldAllReduce(w, size_t(4 * seq * dModel));
    double gemm = std::max(ms * 1e-3 - attnMs * 1e-3 - reduce, 1e-9);
    double flops = 8.0 * seq * dModel * dim;
    gemmRate = flops / gemm * perUnit;
    gemms.push_back(llvm::json::Object{{"spec", spec},
                                       {"ms", ms},
                                       {"attention_ms", attnMs},
                                       {"allreduce_ms", reduce * 1e3},
                                       {"GFLOPs_per_unit", gemmRate / 1e9}});
  }
  if (w.rank == 0) // the artifacts are no longer needed
    std::system(("rm -rf '" + tmp + "'").c_str());

  const double big = 8 << 20;
  double shiftSmall = ringShift(w, 8), shiftBig = ringShift(w, 8 << 20);
  double a2aSmall = allToAll(w, 8), a2aBig = allToAll(w, (8 << 20) / W);
  auto [shiftLat, shiftBw] = fitLink(shiftSmall, shiftBig, big);
  // An all-to-all sends (W−1)/W of its buffer in W−1 messages.
  double a2aBytes = double((8 << 20) / W) * (W - 1);
  auto [a2aLat, a2aBw] = fitLink(a2aSmall, a2aBig, a2aBytes);
  a2aLat /= (W - 1);
  double arSmall = pairAllReduce(w, 8), arBig = pairAllReduce(w, 8 << 20);
  double memBw = triad(w) * perUnit;
  for (auto [b, t] : {std::pair{8.0, shiftSmall}, {big, shiftBig}})
    shifts.push_back(llvm::json::Object{{"bytes", b}, {"us", t * 1e6}});
  for (auto [b, t] : {std::pair{8.0 * (W - 1), a2aSmall}, {a2aBytes, a2aBig}})
    a2as.push_back(llvm::json::Object{{"bytes_sent", b}, {"us", t * 1e6}});
  for (auto [b, t] : {std::pair{8.0, arSmall}, {big, arBig}})
    allreduces.push_back(llvm::json::Object{{"bytes", b}, {"us", t * 1e6}});

  std::sort(attnRates.begin(), attnRates.end());
  std::sort(sliceRates.begin(), sliceRates.end());
  // The median size for the fused kernel; the slower slice size (the model
  // takes one rate for both).
  double attnRate = attnRates[attnRates.size() / 2];
  double sliceRate = sliceRates.front();
  long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  double memGB = pages > 0 && pageSize > 0
                     ? double(pages) * double(pageSize) / 1e9 / 2
                     : 8.0;

  int rc = 0;
  if (w.rank == 0) {
    char date[32];
    std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC",
                  std::gmtime(&now));
    std::string source = "ring-run --calibrate " + std::string(date) + ", " +
                         std::to_string(W) + " ranks on " +
                         std::to_string(cores) + " cores";
    llvm::json::Object root{
        {"name", "cpu-local (calibrated)"},
        {"nodes", 1},
        {"devices_per_node", 64},
        {"compute_units_per_node", cores},
        {"intra_node",
         llvm::json::Object{{"bandwidth_GBps", shiftBw / 1e9},
                            {"latency_us", shiftLat * 1e6}}},
        {"intra_node_alltoall",
         llvm::json::Object{{"bandwidth_GBps", a2aBw / 1e9},
                            {"latency_us", a2aLat * 1e6}}},
        {"device_memory_GB", memGB},
        {"default_target", "cpu"},
        // Open MPI over shared memory moves a large message inside MPI_Wait,
        // not while the kernel runs (bench/NOTES.md overlap_vs_blocking).
        {"comm_overlaps_compute", false},
        {"kernels",
         llvm::json::Object{
             {"cpu", llvm::json::Object{{"attention_GFLOPs", attnRate / 1e9},
                                        {"slice_GFLOPs", sliceRate / 1e9},
                                        {"memory_GBps", memBw / 1e9},
                                        {"gemm_GFLOPs", gemmRate / 1e9},
                                        {"source", source}}}}},
        {"measurements",
         llvm::json::Object{{"attention", std::move(attention)},
                            {"slices", std::move(slices)},
                            {"projection_gemms", std::move(gemms)},
                            {"ring_shift", std::move(shifts)},
                            {"alltoall", std::move(a2as)},
                            {"pair_allreduce", std::move(allreduces)},
                            {"triad_GBps_per_unit", memBw / 1e9}}}};
    std::error_code ec;
    llvm::raw_fd_ostream os(outPath, ec);
    if (ec) {
      std::fprintf(stdout, "ring-run: FAIL --calibrate: cannot write %s: %s\n",
                   outPath.c_str(), ec.message().c_str());
      rc = 1;
    } else {
      os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)))
         << "\n";
      std::fprintf(stdout,
                   "ring-run: CALIBRATED %s attention_GFLOPs=%.4g "
                   "slice_GFLOPs=%.4g gemm_GFLOPs=%.4g memory_GBps=%.4g "
                   "shift_GBps=%.4g shift_latency_us=%.3g "
                   "alltoall_GBps=%.4g\n",
                   outPath.c_str(), attnRate / 1e9, sliceRate / 1e9,
                   gemmRate / 1e9,
                   memBw / 1e9, shiftBw / 1e9, shiftLat * 1e6, a2aBw / 1e9);
    }
    std::fflush(stdout);
  }
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}
