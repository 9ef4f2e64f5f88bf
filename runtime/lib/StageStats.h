//===- StageStats.h - where the time of a ring stage goes -------*- C++ -*-===//
//
// This file declares the clocks ringrt times transfers with and the
// per-context recorder behind ringrt_stage_stats_get: for every stage of
// the generated entry's calls, the wall and CPU time of the stage, how long
// its shifts took from start to completion, and how much of that the
// caller spent blocked in ringrt_wait (the exposed part).
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_STAGESTATS_H
#define RINGRT_LIB_STAGESTATS_H

#include "ringrt/ringrt.h"

#include <vector>

struct ringrt_request;

namespace ringrt {

/// Seconds on the steady clock.
double nowSeconds();
/// The calling thread's CPU time in seconds (CLOCK_THREAD_CPUTIME_ID): on
/// a loaded machine it counts only the time this rank actually ran.
double threadCpuSeconds();

/// Accumulates ringrt_stage_stats over the calls between
/// ringrt_cg_begin and ringrt_cg_end while enabled.
class StageStats {
public:
  /// Turns recording on (clearing what was recorded) or off.
  void enable(bool on);
  bool enabled() const { return on; }

  void beginCall();
  /// A shift of `stage` started (`req` carries its start time).
  void onStart(const ringrt_request &req);
  /// ringrt_wait of `req` returned; it was entered at `enteredAt` (wall)
  /// and `enteredCpu` (thread CPU).
  void onWait(const ringrt_request &req, double enteredAt, double enteredCpu);
  /// Folds the call into the totals.
  void endCall();

  /// The totals by stage, stages without a shift left out.
  std::vector<ringrt_stage_stats> totals() const;

private:
  /// One stage of the call in progress.
  struct CallStage {
    bool used = false;
    int64_t shifts = 0, doneBeforeWait = 0;
    double firstStart = 0, lastCompletion = 0, lastWaitExit = 0,
           lastWaitExitCpu = 0, exposed = 0, exposedCpu = 0;
  };
  bool on = false, inCall = false;
  double callStart = 0, callStartCpu = 0;
  std::vector<CallStage> call;
  std::vector<ringrt_stage_stats> total;
  CallStage &callStage(int32_t stage);
};

} // namespace ringrt

#endif // RINGRT_LIB_STAGESTATS_H
