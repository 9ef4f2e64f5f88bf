//===- Passes.td - ringc code generation passes ------------*- tablegen -*-===//
//
// This file declares the conversion passes of ringc's code generators.
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_PASSES_TD
#define RINGC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertRingToCPUPass : Pass<"convert-ring-to-cpu", "ModuleOp"> {
  let summary = "Lower the overlapped per-rank ring program to scf/vector "
                "kernels and ringrt codegen-ABI calls";
  let description = [{
    Lowers every per-rank function (a `func.func` carrying `ring.plan`) of
    the overlapped phase for the host CPU:

    * `ring.block_attention` becomes a call to a private blockwise
      flash-attention kernel (`func.func private @ring_cpu_block_attention_N`,
      one per distinct variant: buffer types, row ranges, mask, layout, ring
      size and scale). The kernel tiles query rows (`q-tile`) and key rows
      (16, one `vector<16xf32>`), keeps an online softmax in fp32, widens
      bf16/f16 to f32, maps GQA heads, masks from global positions and skips
      key tiles that are fully masked for the whole query tile.
    * `ring.fill_partial`, `ring.merge`, `ring.finalize`,
      `ring.block_scores` and `ring.block_softmax_v` become scf/vector loop
      kernels, also one private function per variant.
    * `ring.shift`, `ring.shift_start`, `ring.shift_wait`, `ring.all_reduce`
      and `shard.process_multi_index` become calls to the ringrt codegen ABI
      (`ringrt/codegen_abi.h`); every call receives the context and the
      status cell, which the per-rank function gets as two new leading
      `!llvm.ptr` arguments.
    * `ring.stage` is inlined; buffers the program allocates are freed
      before it returns.
    * With `emit-entry`, adds `NAME_attention(ctx, q, k, v, o, lse)`, the C
      ABI of ringrt.h, which validates every `ringrt_tensor` against the
      plan and calls the per-rank function.

    Example:

    ```mlir
    ring.block_attention ins(%q, %k, %v : ...) outs(%po, %pl : ...)
        q_owner(%p) kv_owner(%p) q_rows = [0, 64] kv_rows = [0, 64]
        mask<causal> layout<zigzag> ring_size = 2 scale = 0.125
    // becomes
    func.call @ring_cpu_block_attention_0(%q, %k, %v, %po, %pl, %p, %p) : ...
    ```
  }];
  let options = [
    Option<"queryTile", "q-tile", "int64_t", "6",
           "Query rows per tile of the attention kernel (1 to 16)">,
    Option<"emitEntry", "emit-entry", "bool", "true",
           "Add the C-ABI entry point NAME_attention of every per-rank "
           "function">,
    Option<"hostFeatures", "host-features", "std::string", "\"\"",
           "Comma-separated x86 features (LLVM names) the entry point "
           "checks the running CPU for before anything else; empty: no "
           "check">,
    Option<"cpuVariants", "cpu-variants", "std::string", "\"\"",
           "Comma-separated ISA variants (avx512bf16, avx512, avx2), best "
           "first (avx512bf16 only for bf16 tensors): each "
           "gets its own copy of the per-rank function and kernels (tile "
           "shapes of its own, compiled for its CPU) and the entry runs the "
           "best one the running CPU supports; empty: one set of kernels "
           "with q-tile">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::x86vector::X86VectorDialect"
  ];
}

#endif // RINGC_CODEGEN_PASSES_TD
