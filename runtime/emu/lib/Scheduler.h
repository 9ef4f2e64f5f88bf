//===- Scheduler.h - Warp scheduling of one CTA ---------------------*- C++ -*-===//
//
// This file declares runCta(): it runs the warps of the current CTA of an
// Exec to completion, interleaving them in a seeded random order, and
// reports deadlocks and runaway launches.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_LIB_SCHEDULER_H
#define RINGRT_EMU_LIB_SCHEDULER_H

#include "Exec.h"

namespace ringrt::emu {

struct SchedulerConfig {
  uint64_t seed = 1;
  uint64_t maxInstructions = uint64_t(1) << 31;
};

/// Runs the CTA `x.ctaid`; false with x.error set on a fault.
bool runCta(Exec &x, const SchedulerConfig &cfg);

} // namespace ringrt::emu

#endif // RINGRT_EMU_LIB_SCHEDULER_H
