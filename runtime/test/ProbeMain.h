//===- ProbeMain.h - shared scaffolding of the MPI probe programs -*- C++ -*-===//
//
// This file implements what the MPI probes (MpiProbe.cpp, NcclProbe.cpp)
// share: the rank and size of the world, the check that prints a failure
// with ringrt's last error, and the main that runs the mode named on the
// command line on every rank and prints "probe: rank R OK" when it passes.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_TEST_PROBEMAIN_H
#define RINGRT_TEST_PROBEMAIN_H

#include "ringrt/ringrt.h"

#include <mpi.h>

#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

namespace probe {

/// This process's world rank and the world size (set by run()).
inline int rank = 0, size = 1;

/// Returns 0 if `ok`, else prints what failed with ringrt's last error and
/// returns 1.
inline int check(bool ok, const std::string &what) {
  if (ok)
    return 0;
  std::printf("probe: rank %d FAILED: %s (last error: %s)\n", rank,
              what.c_str(), ringrt_last_error());
  std::fflush(stdout);
  return 1;
}

/// Runs the mode named by argv[1] among `modes` (each returns non-zero on
/// failure) between MPI_Init and MPI_Finalize; the process exit code.
inline int run(int argc, char **argv,
               std::initializer_list<std::pair<const char *, int (*)()>> modes) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::string mode = argc > 1 ? argv[1] : "";
  int bad = 1;
  bool known = false;
  for (const auto &[name, fn] : modes)
    if (mode == name) {
      known = true;
      bad = fn();
    }
  if (!known)
    std::printf("probe: unknown mode '%s'\n", mode.c_str());
  if (!bad)
    std::printf("probe: rank %d OK\n", rank);
  std::fflush(stdout);
  MPI_Finalize();
  return bad;
}

} // namespace probe

#endif // RINGRT_TEST_PROBEMAIN_H
