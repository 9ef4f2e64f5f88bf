//===- Library.h - loading an artifact's shared library ---------*- C++ -*-===//
//
// This file declares how ring-run loads libNAME.so: the file is validated
// with llvm::object before dlopen (a truncated or overwritten library must
// be an error, not a SIGBUS inside the dynamic loader), then the artifact
// descriptor NAME_artifact_info is checked against the manifest before
// anything in the library is called.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_LIBRARY_H
#define RINGRUN_LIBRARY_H

#include "Manifest.h"
#include "ringrt/ringrt.h"

#include <string>

namespace ringrun {

/// "" if `path` is a well-formed x86-64 ELF shared object whose headers and
/// sections lie within the file; else what is wrong with it.
std::string validateSharedObject(const std::string &path);

/// "" if the descriptor `info` (a ringrt_artifact_info) matches manifest
/// `m`: magic, format version, entry kind, entry name and plan hash.
std::string checkArtifactInfo(const void *info, const Manifest &m);

/// Validates, dlopen()s DIR/m.library, checks its descriptor and looks up
/// the entry. Returns "" and sets `entry` (the library stays loaded), or
/// the error.
std::string loadArtifactEntry(const std::string &dir, const Manifest &m,
                              ringrt_attention_entry &entry);

} // namespace ringrun

#endif // RINGRUN_LIBRARY_H
