//===- Passes.td - GPU code generation passes -------------*- tablegen -*-===//
//
// This file declares the passes of the GPU target (sm_90a / sm_80).
//
//===----------------------------------------------------------------------===//

#ifndef RINGC_CODEGEN_GPU_PASSES_TD
#define RINGC_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def RingGPUGenerateKernelsPass
    : Pass<"ring-gpu-generate-kernels", "ModuleOp"> {
  let summary = "Generate the gpu.module kernels of the per-rank ring program";
  let description = [{
    For every `ring.block_attention` variant (element type, local head dim,
    mask, layout, tiles) of the per-rank program, generates a fused
    FlashAttention-2 style kernel in a `gpu.module @ringc_kernels` carrying
    `#nvvm.target<chip = ..., features = "+ptxNN">`: one CTA per (query
    tile, head, batch), Q tile held in shared memory across the KV loop, K/V
    tiles double buffered through `nvvm.cp.async`, `nvvm.ldmatrix` +
    `nvvm.mma.sync` m16n8k16 with bf16/f16 operands and f32 accumulators,
    online softmax with ex2 on log2(e)-scaled scores, causal tiles skipped
    and masked from global positions, ragged tails masked, partial O and LSE
    written in fp32. `ring.fill_partial`, `ring.merge` and `ring.finalize`
    get small fp32 kernels. The kernels are then serialized by upstream
    `gpu-module-to-binary` (format isa: PTX text).

    A variant that cannot be generated (f32 inputs, a head dim that is not a
    multiple of 16, tiles over the shared-memory budget) is an error at the
    op, saying why and what works. Dim-slice ops (`ring.block_scores`,
    `ring.block_softmax_v`) are rejected on GPU targets for now.

    Example:

    ```mlir
    // ring-opt --ring-gpu-generate-kernels="target=sm_80"
    ring.block_attention ins(%q, %k, %v : ...) outs(%po, %pl : ...) ...
    // gives
    gpu.module @ringc_kernels [#nvvm.target<O = 3, chip = "sm_80", features = "+ptx70">] {
      gpu.func @ringc_attn_bf16_d64_none_none_w4_n64(...) kernel ...
    }
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", "\"sm_90a\"",
           "GPU target: sm_90a, sm_80 (any sm_NN[a] with NN >= 80)">,
    Option<"ptx", "ptx", "std::string", "\"\"",
           "PTX ISA version, e.g. ptx80 (default: the lowest the chip needs)">,
    Option<"warps", "warps", "int", "0",
           "Warps per CTA of the attention kernel (0: default per head dim)">,
    Option<"blockN", "block-n", "int", "0",
           "Keys per KV tile (0: default per head dim)">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect"
  ];
}

#endif // RINGC_CODEGEN_GPU_PASSES_TD
