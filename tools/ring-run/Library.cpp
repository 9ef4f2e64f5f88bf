//===- Library.cpp - loading an artifact's shared library -------*- C++ -*-===//
//
// This file implements the checks ring-run makes before it calls into an
// artifact's library: llvm::object's ELFFile parses the file (header,
// program headers, section table) so that a damaged file is refused with a
// message instead of being mapped; then NAME_artifact_info must say that the library
// was built for the manifest's plan and entry.
//
//===----------------------------------------------------------------------===//

#include "Library.h"
#include "ringrt/codegen_abi.h"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/BinaryFormat/Magic.h"
#include "llvm/Object/ELF.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdio>
#include <cstring>
#include <dlfcn.h>

using namespace ringrun;

std::string ringrun::validateSharedObject(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return "cannot read it: " + buffer.getError().message();
  if ((*buffer)->getBufferSize() == 0)
    return "the file is empty";
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (llvm::identify_magic(bytes) != llvm::file_magic::elf_shared_object)
    return "not a valid shared library (not an ELF shared object)";
  if (bytes[llvm::ELF::EI_CLASS] != llvm::ELF::ELFCLASS64 ||
      bytes[llvm::ELF::EI_DATA] != llvm::ELF::ELFDATA2LSB)
    return "not a 64-bit little-endian ELF file";
  auto parsed = llvm::object::ELF64LEFile::create(bytes);
  if (!parsed)
    return "not a valid shared library (" +
           llvm::toString(parsed.takeError()) + ")";
  const llvm::object::ELF64LEFile &file = *parsed;
  if (file.getHeader().e_type != llvm::ELF::ET_DYN)
    return "an ELF file but not a shared object";
  if (file.getHeader().e_machine != llvm::ELF::EM_X86_64)
    return "a shared object for another machine than x86-64";
  // Both tables must lie inside the file: a truncated library fails here.
  auto phdrs = file.program_headers();
  if (!phdrs)
    return "damaged (" + llvm::toString(phdrs.takeError()) + ")";
  for (const auto &ph : *phdrs)
    if (ph.p_type == llvm::ELF::PT_LOAD &&
        ph.p_offset + ph.p_filesz > (*buffer)->getBufferSize())
      return "truncated: a loadable segment ends at byte " +
             std::to_string(ph.p_offset + ph.p_filesz) + " of a " +
             std::to_string((*buffer)->getBufferSize()) + "-byte file";
  auto sections = file.sections();
  if (!sections)
    return "damaged (" + llvm::toString(sections.takeError()) + ")";
  for (const auto &sec : *sections)
    if (sec.sh_type != llvm::ELF::SHT_NOBITS &&
        sec.sh_offset + sec.sh_size > (*buffer)->getBufferSize())
      return "truncated: a section ends at byte " +
             std::to_string(sec.sh_offset + sec.sh_size) + " of a " +
             std::to_string((*buffer)->getBufferSize()) + "-byte file";
  return "";
}

std::string ringrun::checkArtifactInfo(const void *raw, const Manifest &m) {
  const auto *info = static_cast<const ringrt_artifact_info *>(raw);
  std::string problem = ringrt_artifact_info_problem(info);
  if (!problem.empty())
    return problem;
  if (m.entry != info->entry)
    return "the manifest's entry '" + m.entry +
           "' is not the library's entry point '" + info->entry +
           "' (the only function of the ringrt_tensor ABI)";
  if (info->plan_hash != m.planHash) {
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "the library was compiled for plan hash %016llx, but the "
                  "manifest says %016llx",
                  static_cast<unsigned long long>(info->plan_hash),
                  static_cast<unsigned long long>(m.planHash));
    return std::string(buf) + ": the library belongs to another artifact "
                              "(recompile, or copy the whole artifact "
                              "directory)";
  }
  return "";
}

std::string ringrun::loadArtifactEntry(const std::string &dir,
                                       const Manifest &m,
                                       ringrt_attention_entry &entry) {
  entry = nullptr;
  std::string path = dir + "/" + m.library;
  if (m.library.find('/') != std::string::npos)
    return "manifest.json: library '" + m.library +
           "' must be a file name in the artifact directory";
  std::string why = validateSharedObject(path);
  if (!why.empty())
    return path + ": " + why;
  void *lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *err = dlerror();
    return "cannot load " + path + ": " + (err ? err : "unknown error");
  }
  std::string infoName = m.name + "_artifact_info";
  const void *info = dlsym(lib, infoName.c_str());
  if (!info)
    return path + ": no artifact descriptor '" + infoName +
           "' (not a library ringc built for the manifest's name '" + m.name +
           "', or built by an older ringc; recompile the artifact)";
  why = checkArtifactInfo(info, m);
  if (!why.empty())
    return path + ": " + why;
  entry = reinterpret_cast<ringrt_attention_entry>(dlsym(lib, m.entry.c_str()));
  if (!entry)
    return path + ": no entry point '" + m.entry + "'";
  return "";
}
