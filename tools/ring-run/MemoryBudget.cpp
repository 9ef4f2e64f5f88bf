//===- MemoryBudget.cpp - what a ring-run needs, what a node has -*- C++ -*-===//
//
// This file implements the memory estimate of ring-run (see MemoryBudget.h).
// The figures follow what ring-run.cpp allocates; they are estimates, so
// they leave the allocator's and MPI's overheads out.
//
//===----------------------------------------------------------------------===//

#include "MemoryBudget.h"

#include "llvm/ADT/StringRef.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

using namespace ringrun;

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

/// a * b, saturating.
uint64_t mul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? kMax : r;
}

/// a + b, saturating.
uint64_t add(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? kMax : r;
}

uint64_t product(const int64_t *v, int n) {
  uint64_t p = 1;
  for (int i = 0; i < n; ++i)
    p = mul(p, static_cast<uint64_t>(v[i]));
  return p;
}

/// The first integer after `key` in `file`, times `unit`; 0 if absent.
uint64_t readKey(const char *file, const std::string &key, uint64_t unit) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size(), key) == 0) {
      unsigned long long v = 0;
      if (std::sscanf(line.c_str() + key.size(), "%llu", &v) == 1)
        return mul(v, unit);
    }
  return 0;
}

/// The estimate of a layer artifact (LayerCheck.cpp's buffers).
MemoryNeed layerMemory(const Manifest &m, bool check, int worldSize) {
  const AttentionSpec &s = m.spec;
  auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  uint64_t es = s.dtype == RINGRT_F32 ? 4 : 2;
  uint64_t B = u(s.batch), L = u(s.seq), Ll = u(s.rankSeq()), dm = u(s.dModel);
  uint64_t q = u(s.heads / s.headGroups * (s.headDim / s.dimSlices)),
           kv = u(s.kvHeads / s.headGroups * (s.headDim / s.dimSlices));
  // y holds this rank's share of the rows when Y is reduce-scattered.
  uint64_t nX = mul(mul(B, Ll), dm), nY = mul(mul(B, u(s.yRows())), dm),
           nL = product(m.local.lse, 3);
  MemoryNeed need;
  // x and y; wq, wk, wv, wo; biases; lse (f32).
  uint64_t elems =
      add(add(nX, nY), mul(dm, add(mul(2, q), mul(2, kv))));
  if (s.bias)
    elems = add(elems, add(add(q, mul(2, kv)), dm));
  need.local = add(mul(es, elems), mul(4, nL));
  // A CPU artifact's workspace is host memory: Q, K, V, O in the dtype and
  // the fp32 partial Y (the attention's own scratch is not counted, as for
  // attention artifacts).
  if (m.target == "cpu")
    need.local = add(need.local,
                     add(mul(es, add(mul(2, product(m.local.q, 4)),
                                     mul(2, product(m.local.k, 4)))),
                         mul(4, nX)));
  // --check: float copies of y and lse for the gather.
  if (check)
    need.local = add(need.local, mul(4, add(nY, nL)));
  if (!check)
    return need;
  uint64_t ranks = u(worldSize);
  uint64_t gX = mul(mul(B, L), dm), gH = u(s.heads), gKv = u(s.kvHeads),
           D = u(s.headDim);
  uint64_t gQ = mul(mul(mul(B, gH), L), D), gKV = mul(mul(mul(B, gKv), L), D),
           gL = mul(mul(B, gH), L);
  // Global inputs (float): x, wq, wk, wv, wo and biases.
  uint64_t in = add(gX, mul(dm, add(mul(2, mul(gH, D)), mul(2, mul(gKv, D)))));
  if (s.bias)
    in = add(in, add(add(mul(gH, D), mul(2, mul(gKv, D))), dm));
  need.checkRoot = mul(4, in);
  // The float64 reference: q, o, k, v, y and lse.
  need.checkRoot = add(need.checkRoot,
                       mul(8, add(add(mul(2, gQ), mul(2, gKV)), add(gX, gL))));
  // Assembled y and lse, and every rank's gathered y and lse (float).
  need.checkRoot = add(need.checkRoot, mul(4, add(gX, gL)));
  need.checkRoot = add(need.checkRoot,
                       mul(4, add(mul(nY, ranks), mul(nL, ranks))));
  return need;
}

} // namespace

MemoryNeed ringrun::estimateMemory(const Manifest &m, bool check,
                                   int64_t checkRows, int worldSize) {
  const AttentionSpec &s = m.spec;
  if (s.isLayer())
    return layerMemory(m, check, worldSize);
  uint64_t es = s.dtype == RINGRT_F32 ? 4 : 2;
  uint64_t nQ = product(m.local.q, 4), nKV = product(m.local.k, 4),
           nL = product(m.local.lse, 3);
  MemoryNeed need;
  // q, k, v, o in the dtype and lse in f32 (RankBuffers); with --check a
  // float copy of O for the gather.
  need.local = add(mul(es, add(mul(2, nQ), mul(2, nKV))), mul(4, nL));
  if (check)
    need.local = add(need.local, mul(4, nQ));
  if (!m.backwardEntry.empty()) {
    // GradBuffers: do, dq (Q's shape) and dk, dv (K's) in the dtype; with
    // --check float copies of dq, dk, dv for the gathers.
    need.local = add(need.local, mul(es, add(mul(2, nQ), mul(2, nKV))));
    if (check)
      need.local = add(need.local, mul(4, add(nQ, mul(2, nKV))));
  }
  if (check && checkRows == 0) {
    uint64_t gq = mul(mul(mul(static_cast<uint64_t>(s.batch),
                              static_cast<uint64_t>(s.heads)),
                          static_cast<uint64_t>(s.seq)),
                      static_cast<uint64_t>(s.headDim));
    uint64_t gkv = mul(mul(mul(static_cast<uint64_t>(s.batch),
                               static_cast<uint64_t>(s.kvHeads)),
                           static_cast<uint64_t>(s.seq)),
                       static_cast<uint64_t>(s.headDim));
    uint64_t gl = mul(mul(static_cast<uint64_t>(s.batch),
                          static_cast<uint64_t>(s.heads)),
                      static_cast<uint64_t>(s.seq));
    uint64_t ranks = static_cast<uint64_t>(worldSize);
    // Global q, k, v (float); assembled o and lse (float); gathered o and
    // lse of every rank (float); the float64 reference o and lse; scores.
    need.checkRoot = add(mul(4, add(gq, mul(2, gkv))), mul(4, add(gq, gl)));
    need.checkRoot = add(need.checkRoot,
                         mul(4, add(mul(nQ, ranks), mul(nL, ranks))));
    need.checkRoot = add(need.checkRoot, mul(8, add(gq, gl)));
    need.checkRoot = add(need.checkRoot, mul(8, static_cast<uint64_t>(s.seq)));
    if (!m.backwardEntry.empty()) {
      // GradCheck: global dO (float); assembled dq, dk, dv (float) and the
      // gathered every-rank buffer of one of them at a time; the float64
      // references dq, dk, dv.
      need.checkRoot = add(need.checkRoot, mul(4, add(mul(2, gq), mul(2, gkv))));
      need.checkRoot = add(need.checkRoot, mul(4, mul(nQ, ranks)));
      need.checkRoot = add(need.checkRoot, mul(8, add(gq, mul(2, gkv))));
    }
  }
  return need;
}

bool ringrun::availableMemory(uint64_t &bytes, std::string &source,
                              std::string &error) {
  bytes = readKey("/proc/meminfo", "MemAvailable:", 1024);
  source = "MemAvailable in /proc/meminfo";
  if (bytes == 0) {
    bytes = kMax;
    source = "unknown";
  }
  // cgroup v2: memory.max is "max" or a byte count.
  std::ifstream maxFile("/sys/fs/cgroup/memory.max");
  std::string limit;
  if (maxFile >> limit && limit != "max") {
    unsigned long long cap = std::strtoull(limit.c_str(), nullptr, 10);
    uint64_t used = readKey("/sys/fs/cgroup/memory.current", "", 1);
    uint64_t left = cap > used ? cap - used : 0;
    if (cap && left < bytes) {
      bytes = left;
      source = "the cgroup's memory.max less memory.current";
    }
  }
  if (const char *env = std::getenv("RINGRUN_MEMORY_LIMIT")) {
    unsigned long long v = 0;
    if (llvm::StringRef(env).getAsInteger(10, v) || v < 1 ||
        v > (1ull << 62)) {
      error = std::string("RINGRUN_MEMORY_LIMIT: expected a byte count in "
                          "[1, 2^62], got '") +
              env + "'";
      return false;
    }
    if (v < bytes) {
      bytes = v;
      source = "RINGRUN_MEMORY_LIMIT";
    }
  }
  return true;
}

std::string ringrun::formatBytes(uint64_t bytes) {
  if (bytes == kMax)
    return "more than 16 EiB";
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}
