// RUN: ring-opt %s -split-input-file -ring-verify-schedule -verify-diagnostics
// Deliberately broken sliding-window schedules (ring of 4, 4 tokens per
// rank, not causal, window left 2 / right 1): ring-schedule truncates the
// ring to stage 0, one forward and one backward stage. Each schedule must be
// rejected with the rank, the stage and what is wrong.


