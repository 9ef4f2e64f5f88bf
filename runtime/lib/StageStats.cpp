//===- StageStats.cpp - where the time of a ring stage goes -----*- C++ -*-===//
//
// This file implements the stage statistics of a context
// (ringrt_stage_stats_enable / ringrt_stage_stats_get) and the clocks they
// use. Stage t's span runs from the end of the last wait of the stage
// before (or the start of the call) to the end of its own last wait, so
// stage_ms − exposed_ms is the compute of the stage whichever the schedule
// (overlapped: the shift runs during that compute; --no-overlap: it runs
// after it).
//
//===----------------------------------------------------------------------===//

#include "StageStats.h"
#include "Comm.h"
#include "Context.h"
#include "Error.h"

#include <algorithm>
#include <chrono>
#include <time.h>

using namespace ringrt;

double ringrt::nowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double ringrt::threadCpuSeconds() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void StageStats::enable(bool enable) {
  on = enable;
  inCall = false;
  call.clear();
  total.clear();
}

void StageStats::beginCall() {
  if (!on)
    return;
  inCall = true;
  call.clear();
  callStart = nowSeconds();
  callStartCpu = threadCpuSeconds();
}

StageStats::CallStage &StageStats::callStage(int32_t stage) {
  if (static_cast<size_t>(stage) >= call.size())
    call.resize(static_cast<size_t>(stage) + 1);
  return call[static_cast<size_t>(stage)];
}

void StageStats::onStart(const ringrt_request &req) {
  if (!on || !inCall)
    return;
  CallStage &s = callStage(req.statStage);
  if (!s.used || req.startedAt < s.firstStart)
    s.firstStart = req.startedAt;
  s.used = true;
}

void StageStats::onWait(const ringrt_request &req, double enteredAt,
                        double enteredCpu) {
  if (!on || !inCall)
    return;
  double exit = nowSeconds(), exitCpu = threadCpuSeconds();
  CallStage &s = callStage(req.statStage);
  s.used = true;
  ++s.shifts;
  double done = req.completedAt != 0 ? req.completedAt : exit;
  if (done < enteredAt)
    ++s.doneBeforeWait;
  s.lastCompletion = std::max(s.lastCompletion, done);
  s.exposed += exit - enteredAt;
  s.exposedCpu += exitCpu - enteredCpu;
  s.lastWaitExit = exit;
  s.lastWaitExitCpu = exitCpu;
}

void StageStats::endCall() {
  if (!on || !inCall)
    return;
  inCall = false;
  double prev = callStart, prevCpu = callStartCpu;
  for (size_t t = 0; t < call.size(); ++t) {
    const CallStage &s = call[t];
    if (!s.used || s.shifts == 0)
      continue;
    if (total.size() <= t)
      total.resize(t + 1, ringrt_stage_stats{});
    ringrt_stage_stats &out = total[t];
    out.stage = static_cast<int32_t>(t);
    ++out.calls;
    out.shifts += s.shifts;
    out.done_before_wait += s.doneBeforeWait;
    out.stage_ms += 1e3 * (s.lastWaitExit - prev);
    out.stage_cpu_ms += 1e3 * (s.lastWaitExitCpu - prevCpu);
    out.transfer_ms += 1e3 * (s.lastCompletion - s.firstStart);
    out.exposed_ms += 1e3 * s.exposed;
    out.exposed_cpu_ms += 1e3 * s.exposedCpu;
    prev = s.lastWaitExit;
    prevCpu = s.lastWaitExitCpu;
  }
}

std::vector<ringrt_stage_stats> StageStats::totals() const {
  std::vector<ringrt_stage_stats> out;
  for (const ringrt_stage_stats &s : total)
    if (s.calls > 0)
      out.push_back(s);
  return out;
}

extern "C" {

ringrt_status ringrt_stage_stats_enable(ringrt_context *ctx, int32_t on) {
  if (!ctx)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_stage_stats_enable: null context");
  ctx->stats.enable(on != 0);
  return RINGRT_OK;
}

ringrt_status ringrt_stage_stats_get(const ringrt_context *ctx,
                                     ringrt_stage_stats *out,
                                     int32_t capacity, int32_t *count) {
  if (!ctx || !count || capacity < 0 || (capacity > 0 && !out))
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_stage_stats_get: null context or count, or no "
                    "room for `capacity` records");
  std::vector<ringrt_stage_stats> all = ctx->stats.totals();
  *count = static_cast<int32_t>(all.size());
  std::copy_n(all.begin(), std::min<size_t>(all.size(), capacity), out);
  return RINGRT_OK;
}

} // extern "C"
