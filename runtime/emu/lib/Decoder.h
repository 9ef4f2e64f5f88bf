//===- Decoder.h - PTX mnemonic decoding ----------------------------*- C++ -*-===//
//
// This file declares the decoding of an instruction mnemonic such as
// `ld.global.nc.v4.f32` into an Instr's opcode and typed modifiers, and the
// checks of its operands once they are parsed.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_EMU_LIB_DECODER_H
#define RINGRT_EMU_LIB_DECODER_H

#include "Instr.h"

#include <string>
#include <string_view>

namespace ringrt::emu {

/// Fills I.op and the modifiers from `mnemonic`. Returns false with `error`
/// naming the unsupported instruction or modifier.
bool decodeMnemonic(std::string_view mnemonic, Instr &I, std::string &error);

/// Checks operand counts and kinds for the decoded instruction and converts
/// floating-point literals to the operation type. Returns false with `error`.
bool finishOperands(Instr &I, const Kernel &K, std::string &error);

} // namespace ringrt::emu

#endif // RINGRT_EMU_LIB_DECODER_H
