//===- GradCheck.cpp - ring-run for the backward entry ----------*- C++ -*-===//
//
// This file implements ring-run's check and benchmark of a grad artifact
// (GradCheck.h). Inputs come from the same seeded generator as the forward
// check (dO is input #3); every output is NaN-poisoned before the run, so an
// element the artifact never writes fails the comparison.
//
//===----------------------------------------------------------------------===//

#include "Documents.h"
#include "GradCheck.h"
#include "GradReference.h"
#include "LocalTensor.h"
#include "Npy.h"
#include "Reference.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <dlfcn.h>
#include <limits>
#include <sys/stat.h>
#include <vector>

using namespace ringrun;

namespace {

/// Host bytes with an optional device copy (LocalTensor.h).
using Local = LocalTensor;

/// The tensors of both entries on one rank.
struct GradBuffers {
  Local q, k, v, o, lse, dout, dq, dk, dv;

  GradBuffers(const GradRun &run) {
    const Manifest &m = run.manifest;
    const AttentionSpec &s = m.spec;
    int32_t dt = s.dtype;
    for (Local *t : {&q, &o, &dout, &dq})
      t->init(dt, 4, m.local.q);
    for (Local *t : {&k, &v, &dk, &dv})
      t->init(dt, 4, m.local.k);
    lse.init(RINGRT_F32, 3, m.local.lse);
    auto fill = [&](Local &t, int which, int64_t heads) {
      std::vector<float> global =
          generateInput(run.seed, which, {s.batch, heads, s.seq, s.headDim},
                        dt, which < 2 ? run.inputScale : 1.0);
      // Padding rows of the layout get 1000, as in the forward check.
      forEachLocal(
          s, heads, true, run.coords,
          [&](int64_t l, int64_t g) {
            storeElement(t.bytes.data(), dt, l,
                         global[static_cast<size_t>(g)]);
          },
          [&](int64_t l) {
            storeElement(t.bytes.data(), dt, l, 1000.0f);
          });
    };
    fill(q, 0, s.heads);
    fill(k, 1, s.kvHeads);
    fill(v, 2, s.kvHeads);
    fill(dout, 3, s.heads);
    for (Local *t : {&o, &lse, &dq, &dk, &dv})
      t->poison();
  }

  /// GPU artifacts: every tensor (inputs and poisoned outputs) gets a
  /// device copy, and the entries see those. Returns "" or the error.
  std::string toDevice(const GradRun &run) {
    if (run.manifest.target == "cpu")
      return "";
    // GPU entries cannot scan device memory; the host copies are checked
    // here instead (as ring-run's forward check does).
    if (ringrt_check_logit_range(&q.t, &k.t, run.manifest.spec.scale,
                                 run.manifest.spec.headDim) != RINGRT_OK)
      return ringrt_last_error();
    for (Local *t : {&q, &k, &v, &o, &lse, &dout, &dq, &dk, &dv})
      if (int32_t st = t->toDevice(run.ctx); st != RINGRT_OK)
        return std::string("device buffers: ") +
               ringrt_status_string(static_cast<ringrt_status>(st)) + ": " +
               ringrt_last_error();
    return "";
  }
  /// Copies the outputs back from the device (no-op for host tensors).
  std::string fromDevice() {
    for (Local *t : {&o, &lse, &dq, &dk, &dv})
      if (int32_t st = t->fromDevice(); st != RINGRT_OK)
        return std::string("copying the outputs back: ") +
               ringrt_status_string(static_cast<ringrt_status>(st)) + ": " +
               ringrt_last_error();
    return "";
  }

  int32_t forward(const GradRun &run) {
    // A null workspace: the context's (ringrt_cg_workspace).
    return callForwardEntry(run.forward, run.manifest.spec, run.ctx, &q.t,
                            &k.t, &v.t, &o.t, &lse.t);
  }
  int32_t backward(const GradRun &run) {
    const AttentionSpec &s = run.manifest.spec;
    if (s.hasDocuments()) // the varlen form takes cu_seqlens last
      return entryAs<VarlenBackwardEntry>(run.backward)(
          run.ctx, &q.t, &k.t, &v.t, &o.t, &lse.t, &dout.t, &dq.t, &dk.t,
          &dv.t, s.cuSeqlens.data(), nullptr, nullptr);
    return run.backward(run.ctx, &q.t, &k.t, &v.t, &o.t, &lse.t, &dout.t,
                        &dq.t, &dk.t, &dv.t, nullptr, nullptr);
  }
};

std::string statusError(const std::string &what, int32_t st) {
  return what + " failed (" +
         ringrt_status_string(static_cast<ringrt_status>(st)) +
         "): " + ringrt_last_error();
}

/// Gathers every rank's `local` (as float) into the global tensor of
/// `heads` heads on rank 0 (empty elsewhere). `withDim`: [B,H,L,D], else
/// [B,H,L] taken from dim slice 0. Padding rows of the layout (uneven
/// parts) hold no token: each must be exactly `padWant` (the outputs are
/// poisoned before the run, storePoison), and a2a padding rows must keep
/// the poison bit for bit, else rank 0 sets `*padFailure`.
std::vector<float> gatherGlobal(const GradRun &run, const Local &local,
                                int64_t heads, bool withDim, const char *name,
                                float padWant, std::string *padFailure) {
  const AttentionSpec &s = run.manifest.spec;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<float> mine = local.asFloat(), all;
  int64_t n = local.count;
  int64_t coords[4] = {run.coords.ring, run.coords.headGroup,
                       run.coords.dimSlice, run.coords.a2a};
  std::vector<int64_t> allCoords;
  if (rank == 0) {
    all.resize(static_cast<size_t>(n) * size);
    allCoords.resize(4 * static_cast<size_t>(size));
  }
  MPI_Gather(mine.data(), static_cast<int>(n), MPI_FLOAT, all.data(),
             static_cast<int>(n), MPI_FLOAT, 0, MPI_COMM_WORLD);
  MPI_Gather(coords, 4, MPI_INT64_T, allCoords.data(), 4, MPI_INT64_T, 0,
             MPI_COMM_WORLD);
  std::vector<float> global;
  if (rank != 0)
    return global;
  global.assign(static_cast<size_t>(s.batch * heads * s.seq *
                                    (withDim ? s.headDim : 1)),
                std::numeric_limits<float>::quiet_NaN());
  for (int r = 0; r < size; ++r) {
    RankCoords c{allCoords[4 * r], allCoords[4 * r + 1], allCoords[4 * r + 2],
                 allCoords[4 * r + 3]};
    if (!withDim && c.dimSlice != 0)
      continue;
    const float *src = &all[static_cast<size_t>(r) * n];
    forEachLocal(
        s, heads, withDim, c,
        [&](int64_t l, int64_t g) { global[static_cast<size_t>(g)] = src[l]; },
        [&](int64_t l) {
          if (src[l] != padWant && padFailure->empty())
            *padFailure = std::string(name) + " of rank " + std::to_string(r) +
                          " is " + std::to_string(src[l]) +
                          " in a padding row (the layout's parts are "
                          "uneven); expected " +
                          std::to_string(padWant);
        },
        [&](int64_t l) {
          // a2a padding rows (past the rank's share) keep the poison, bit
          // for bit: a NaN written there is a write.
          if (padFailure->empty())
            *padFailure = a2aPaddingFailure(name, r, src[l], local.dtype);
        });
  }
  return global;
}

} // namespace

BackwardEntry ringrun::findBackwardEntry(const std::string &dir,
                                        const Manifest &m) {
  // The library is already loaded (RTLD_LOCAL); RTLD_NOLOAD returns its
  // handle without loading anything.
  void *lib = dlopen((dir + "/" + m.library).c_str(),
                     RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (!lib)
    return nullptr;
  auto entry = reinterpret_cast<BackwardEntry>(
      dlsym(lib, backwardEntryName(m.entry).c_str()));
  dlclose(lib); // drops the reference RTLD_NOLOAD took
  return entry;
}

int ringrun::runGradCheck(const GradRun &run) {
  const Manifest &m = run.manifest;
  const AttentionSpec &s = m.spec;
  GradBuffers bufs(run);
  std::string devErr = bufs.toDevice(run);
  if (!run.agree(devErr.empty(), devErr))
    return 1;
  int32_t st = bufs.forward(run);
  if (!run.agree(st == RINGRT_OK, statusError("entry '" + m.entry + "'", st)))
    return 1;
  if (run.profile)
    run.profile("forward");
  st = bufs.backward(run);
  if (!run.agree(st == RINGRT_OK,
                 statusError("entry '" + backwardEntryName(m.entry) + "'", st)))
    return 1;
  if (run.profile)
    run.profile("backward");
  devErr = bufs.fromDevice();
  if (!run.agree(devErr.empty(), devErr))
    return 1;

  // O = 0, LSE = −inf and zero gradients in padding rows.
  std::string failure;
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> o =
      gatherGlobal(run, bufs.o, s.heads, true, "o", 0.0f, &failure);
  std::vector<float> lse =
      gatherGlobal(run, bufs.lse, s.heads, false, "lse", -inf, &failure);
  std::vector<float> dq =
      gatherGlobal(run, bufs.dq, s.heads, true, "dq", 0.0f, &failure);
  std::vector<float> dk =
      gatherGlobal(run, bufs.dk, s.kvHeads, true, "dk", 0.0f, &failure);
  std::vector<float> dv =
      gatherGlobal(run, bufs.dv, s.kvHeads, true, "dv", 0.0f, &failure);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank == 0) {
    std::vector<int64_t> qShape = {s.batch, s.heads, s.seq, s.headDim};
    std::vector<int64_t> kvShape = {s.batch, s.kvHeads, s.seq, s.headDim};
    std::vector<int64_t> lseShape = {s.batch, s.heads, s.seq};
    std::vector<float> q =
        generateInput(run.seed, 0, qShape, s.dtype, run.inputScale);
    std::vector<float> k =
        generateInput(run.seed, 1, kvShape, s.dtype, run.inputScale);
    std::vector<float> v = generateInput(run.seed, 2, kvShape, s.dtype);
    std::vector<float> dout = generateInput(run.seed, 3, qShape, s.dtype);
    std::vector<double> refO, refL, refDq, refDk, refDv;
    referenceAttention(s, q, k, v, refO, refL);
    referenceAttentionBackward(s, q, k, v, dout, refDq, refDk, refDv);
    struct Item {
      const char *name;
      const std::vector<float> &got;
      const std::vector<double> &ref;
      const std::vector<int64_t> &shape;
      double err = 0;
    } items[] = {{"o", o, refO, qShape},      {"lse", lse, refL, lseShape},
                 {"dq", dq, refDq, qShape},   {"dk", dk, refDk, kvShape},
                 {"dv", dv, refDv, kvShape}};
    double bound = s.dtype == RINGRT_F32 ? 1e-4 : 1e-2, maxErr = 0;
    std::string errs;
    for (Item &it : items) {
      Comparison c = compareOutput(it.name, it.got.data(), it.ref.data(),
                                   it.shape);
      if (!c.ok && failure.empty())
        failure = c.why;
      it.err = c.relErr;
      maxErr = std::max(maxErr, c.relErr);
      char buf[64];
      std::snprintf(buf, sizeof buf, " %s_rel_err=%.3e", it.name, c.relErr);
      errs += buf;
    }
    if (failure.empty() && !(maxErr <= bound))
      failure = "max_rel_err=" + std::to_string(maxErr) + " exceeds the " +
                ringrt_dtype_name(s.dtype) + " bound " +
                std::to_string(bound) + " (" + errs.substr(1) + ")";
    if (!run.dumpDir.empty()) {
      ::mkdir(run.dumpDir.c_str(), 0755);
      std::string err;
      std::string d = run.dumpDir + "/";
      bool ok = writeDocumentsNpy(run.dumpDir, s, err) &&
                writeNpyF32(d + "q.npy", q.data(), qShape, err) &&
                writeNpyF32(d + "k.npy", k.data(), kvShape, err) &&
                writeNpyF32(d + "v.npy", v.data(), kvShape, err) &&
                writeNpyF32(d + "o.npy", o.data(), qShape, err) &&
                writeNpyF32(d + "lse.npy", lse.data(), lseShape, err) &&
                writeNpyF32(d + "do.npy", dout.data(), qShape, err) &&
                writeNpyF32(d + "dq.npy", dq.data(), qShape, err) &&
                writeNpyF32(d + "dk.npy", dk.data(), kvShape, err) &&
                writeNpyF32(d + "dv.npy", dv.data(), kvShape, err);
      if (!ok && failure.empty())
        failure = "--dump: " + err;
    }
    if (failure.empty())
      std::fprintf(stdout, "ring-run: PASS max_rel_err=%.3e%s ranks=%d\n",
                   maxErr, errs.c_str(), size);
    else
      std::fprintf(stdout, "ring-run: FAIL %s\n", failure.c_str());
    std::fflush(stdout);
  }
  int rc = failure.empty() ? 0 : 1;
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}

int ringrun::runGradBench(const GradRun &run) {
  const AttentionSpec &s = run.manifest.spec;
  std::string name = "entry '" + backwardEntryName(run.manifest.entry) + "'";
  GradBuffers bufs(run);
  std::string devErr = bufs.toDevice(run);
  if (!run.agree(devErr.empty(), devErr))
    return 1;
  int32_t st = bufs.forward(run);
  for (int i = 0; i < 2 && st == RINGRT_OK; ++i)
    st = bufs.backward(run);
  if (!run.agree(st == RINGRT_OK, statusError(name + " (warm-up)", st)))
    return 1;
  // GPU entries return without waiting: the device is drained before each
  // clock reading.
  if (st == RINGRT_OK)
    st = ringrt_device_synchronize(run.ctx);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (int64_t i = 0; i < run.iters && st == RINGRT_OK; ++i)
    st = bufs.backward(run);
  if (st == RINGRT_OK)
    st = ringrt_device_synchronize(run.ctx);
  double elapsed = MPI_Wtime() - t0, maxElapsed = 0;
  if (!run.agree(st == RINGRT_OK, statusError(name, st)))
    return 1;
  MPI_Reduce(&elapsed, &maxElapsed, 1, MPI_DOUBLE, MPI_MAX, 0,
             MPI_COMM_WORLD);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    double perIter = maxElapsed / static_cast<double>(run.iters);
    double L = static_cast<double>(s.seq);
    double flops = 2.5 * 4.0 * s.batch * s.heads * s.scorePairs() * s.headDim;
    std::fprintf(stdout,
                 "ring-run: BENCH backward ms_per_iter=%.4f tokens_per_s=%.6g "
                 "gflops=%.6g\n",
                 perIter * 1e3, s.batch * L / perIter, flops / perIter / 1e9);
    std::fflush(stdout);
  }
  return 0;
}
