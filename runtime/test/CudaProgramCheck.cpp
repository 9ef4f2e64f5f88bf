//===- CudaProgramCheck.cpp - overlap ordering checks over a fake driver -*- C++ -*-===//
//
// This file implements the ring program and the ordering checker of
// CudaProgramCheck.h.
//
//===----------------------------------------------------------------------===//

#include "CudaProgramCheck.h"
#include "ringrt/codegen_abi.h"

#include <map>
#include <sstream>

using namespace ringrt;

namespace {

bool startsWithAny(const std::string &line,
                   const std::vector<std::string> &prefixes) {
  for (const std::string &p : prefixes)
    if (line.compare(0, p.size(), p) == 0)
      return true;
  return false;
}

void launch(ringrt_context *ctx, int32_t *status, void *module,
            const char *kernel, void *a, void *b) {
  void *params[] = {&a, &b};
  ringrt_cg_launch(ctx, status, module, kernel, 4, 1, 1, 128, 1, 1, 0, params);
}

} // namespace

namespace {

/// runRingProgram, or with `asEntry` runEntryProgram on `stream`.
int32_t runProgram(ringrt_context *ctx, std::vector<std::string> &log,
                   int stages, int64_t bytes, bool asEntry, void *stream) {
  int32_t status = RINGRT_OK;
  void *module = nullptr;
  ringrt_cg_module_load(ctx, &status, "// fake PTX", &module);
  // The K/V double buffer lives in the workspace (the context's), at the
  // 256-byte aligned offsets codegen/Workspace.cpp assigns.
  int64_t slot = (bytes + 255) / 256 * 256;
  char *ws = static_cast<char *>(
      ringrt_cg_workspace(ctx, &status, nullptr, 2 * slot));
  void *kv[2] = {ws, ws ? ws + slot : nullptr};
  if (asEntry) {
    log.push_back("--- begin");
    ringrt_cg_begin(ctx, &status, stream);
  }
  launch(ctx, &status, module, "init", kv[0], kv[1]);
  for (int t = 0; t < stages; ++t) {
    ringrt_request *req = nullptr;
    if (t + 1 < stages) {
      log.push_back("--- shift_start stage=" + std::to_string(t + 1));
      ringrt_cg_shift_start(ctx, &status, kv[t % 2], kv[(t + 1) % 2], bytes,
                            t + 1, 0, &req);
    }
    launch(ctx, &status, module, "attn", kv[t % 2], nullptr);
    if (t + 1 < stages) {
      log.push_back("--- shift_wait stage=" + std::to_string(t + 1));
      ringrt_cg_shift_wait(ctx, &status, &req);
    }
  }
  launch(ctx, &status, module, "finalize", nullptr, nullptr);
  if (asEntry) {
    log.push_back("--- end");
    ringrt_cg_end(ctx, &status);
    return status;
  }
  log.push_back("--- synchronize");
  ringrt_cg_synchronize(ctx, &status);
  return status;
}

} // namespace

int32_t fake::runRingProgram(ringrt_context *ctx,
                             std::vector<std::string> &log, int stages,
                             int64_t bytes) {
  return runProgram(ctx, log, stages, bytes, false, nullptr);
}

int32_t fake::runEntryProgram(ringrt_context *ctx,
                              std::vector<std::string> &log, int stages,
                              int64_t bytes, void *stream) {
  return runProgram(ctx, log, stages, bytes, true, stream);
}

std::vector<std::string>
fake::checkOverlapOrdering(const std::vector<std::string> &log,
                           const std::string &commStream,
                           const std::vector<std::string> &transferOut,
                           const std::vector<std::string> &transferIn) {
  std::vector<std::string> problems;
  auto problem = [&](size_t i, const std::string &what) {
    problems.push_back("line " + std::to_string(i) + " '" + log[i] +
                       "': " + what);
  };
  enum { Other, Start, Wait, Done } segment = Other;
  size_t segmentBegin = 0;
  // Event -> (stream, line) of its latest record.
  std::map<std::string, std::pair<std::string, size_t>> recorded;
  bool commWaitedOnCompute = false, computeWaitedOnComm = false;
  size_t lastTransferIn = 0;
  auto endSegment = [&](size_t i) {
    if (segment == Wait && !computeWaitedOnComm)
      problem(i, "the shift_wait before it did not make s1 wait on the "
                 "transfer's event");
  };
  for (size_t i = 0; i < log.size(); ++i) {
    std::istringstream words(log[i]);
    std::string op, a, b;
    words >> op >> a >> b;
    if (op == "---") {
      endSegment(i);
      segment = a == "shift_start" ? Start : a == "shift_wait" ? Wait : Done;
      segmentBegin = i;
      commWaitedOnCompute = computeWaitedOnComm = false;
      continue;
    }
    if (op == "cuEventRecord")
      recorded[a] = {b, i};
    if (startsWithAny(log[i], transferIn))
      lastTransferIn = i;
    if (op == "cuStreamWaitEvent" && recorded.count(b)) {
      auto [stream, line] = recorded[b];
      if (a == commStream && stream == "s1" && line > segmentBegin)
        commWaitedOnCompute = true;
      if (a == "s1" && stream == commStream && line > lastTransferIn)
        computeWaitedOnComm = true;
    }
    if (segment == Start && startsWithAny(log[i], transferOut) &&
        !commWaitedOnCompute)
      problem(i, "transfer issued before " + commStream +
                     " waited on an event recorded on s1");
    if (op == "cuLaunchKernel" && b != "s1")
      problem(i, "kernel not on the compute stream s1");
    if (segment != Done &&
        (op == "cuStreamSynchronize" || op == "cuCtxSynchronize"))
      problem(i, "host-side synchronize in the steady state");
    if (segment == Wait && op == "cuEventSynchronize")
      problem(i, "shift_wait blocks the host on the device");
  }
  endSegment(log.size() ? log.size() - 1 : 0);
  return problems;
}
