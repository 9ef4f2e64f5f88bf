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
    written in fp32. The dim-slice ops get two kernels: `ring.block_scores`
    (partial scores Q_slice · K_sliceᵀ on ldmatrix + mma.sync, fp32 out)
    and `ring.block_softmax_v` (scale, causal mask from global positions,
    fp32 softmax with LSE, P · V_slice; SIMT, one warp per row).
    `ring.fill_partial`, `ring.merge` and `ring.finalize` get small fp32
    kernels. The backward (`grad`): `ring.block_attention_backward` gets two
    FlashAttention-2 style mma.sync kernels (dQ per query tile; dK/dV per key
    tile over the query heads of its GQA group; P recomputed from the LSE,
    fp32 accumulators, one writer per accumulator row, no atomics; with dim
    slices two SIMT kernels on the all-reduced scores, one warp per row); with
    the wgmma kernel kind (sm_90a) the same two kernels run their GEMMs on
    `wgmma.mma_async` from 128-byte-swizzled shared tiles (cp.async-filled,
    one warpgroup per 64 resident rows), and
    `ring.grad_delta`, `ring.zero`, `ring.accumulate`, `ring.convert` small
    SIMT kernels. The whole layer's `ring.project` (the three of one X fused
    into one launch writing Q/K/V in the attention layout) and
    `ring.out_project` (reading O in place) get projection GEMMs on mma.sync
    (128x128x32 tiles, 8 warps) or, with the wgmma kernel kind (sm_90a), on
    `wgmma.mma_async` m64n256k16 (128x256x64 tiles, two warpgroups, three
    cp.async stages of 128-byte-swizzled tiles); `ring.output_all_reduce` a
    kernel adding b_o after the sums. The kernels are then serialized by
    upstream `gpu-module-to-binary` (format isa: PTX text).

    Head dims and dim-slice widths that are not a multiple of 16 (odd ones
    too) are padded to the MMA's k16 with zeros in shared memory, and only
    the D columns of the outputs are written; the wgmma kernels need a
    multiple of 16. A variant that cannot be generated (f32 inputs, a head
    dim the wgmma kernels cannot take under an explicit wgmma kind, tiles
    over the shared-memory budget; for the mma.sync backward also a head
    dim above 128) is an error at the op, saying why and what works.

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
           "Keys per KV tile (0: default per head dim)">,
    Option<"gpuKernel", "gpu-kernel", "std::string", "\"auto\"",
           "Block-attention kernel: mma (mma.sync, sm_80+), wgmma (TMA + "
           "wgmma, warp-specialized, sm_90a) or auto (wgmma on sm_90a); the "
           "backward kernels and the layer's projection GEMMs follow the "
           "same choice">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def ConvertRingToGPULaunchPass
    : Pass<"convert-ring-to-gpu-launch", "ModuleOp"> {
  let summary = "Lower the compute ops of the per-rank program to launches "
                "of the generated kernels through the ringrt codegen ABI";
  let description = [{
    The host side of the GPU target. Runs after `ring-gpu-generate-kernels`
    and PTX serialization (`gpu-module-to-binary`, format isa), on a module
    holding `gpu.binary @ringc_kernels`:

    * the PTX text becomes the NUL-terminated global string constant
      `@ringc_ptx`, and the gpu.binary is erased;
    * every per-rank function (a `func.func` with `ring.plan`) gets the
      ringrt context and status cell as two new leading `!llvm.ptr`
      arguments (marked `ring.cpu.abi`, so that `convert-ring-to-cpu`
      lowers what remains: shifts, coordinates, the C entry) and loads the
      module once at entry (`ringrt_cg_module_load`);
    * `ring.block_attention`, `ring.block_scores`, `ring.block_softmax_v`,
      `ring.fill_partial`, `ring.merge`, `ring.finalize` and the backward's
      `ring.grad_delta`, `ring.zero`, `ring.accumulate`, `ring.convert` and
      `ring.block_attention_backward` (two launches: dK/dV, then dQ)
      become `ringrt_cg_launch` calls of the kernel tagged
      on them (`ring.gpu_kernel`), with the grid, block, dynamic shared
      memory and parameter array of the launch ABI in Kernels.h;
    * `memref.alloc`/`memref.dealloc` become `ringrt_cg_device_alloc`/
      `ringrt_cg_device_free` (the memref is rebuilt from the device pointer
      with an unrealized cast of its LLVM descriptor), and the device is
      synchronized before buffers are freed and before returning;
    * `ring.all_reduce` (the slice sum of the device score buffer) is left to
      `convert-ring-to-cpu`, which calls `ringrt_cg_allreduce_sum_f32` on
      the device pointer; ringrt synchronizes the device first and stages
      the buffer through host memory when the communicator cannot address
      device memory.

    This is the explicit `ringrt_cg_launch` path rather than upstream
    `gpu-to-llvm` + `mgpu*` wrappers: the kernels are generated as text with
    `!llvm.ptr` parameters and launched by name, and the status-cell
    convention of the CPU target carries over unchanged.

    Example:

    ```mlir
    ring.merge ins(%po, %pl : ...) outs(%ao, %al : ...) rows = [0, 64]
        {ring.gpu_kernel = @ringc_merge}
    // becomes
    func.call @ringrt_cg_launch(%ctx, %status, %module, %name, %gx, ...,
                                %params) : (...) -> ()
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", "\"sm_90a\"",
           "GPU target (must match ring-gpu-generate-kernels)">,
    Option<"ptx", "ptx", "std::string", "\"\"",
           "PTX ISA version (must match ring-gpu-generate-kernels)">,
    Option<"warps", "warps", "int", "0",
           "Warps per CTA of the attention kernel (0: default per head dim)">,
    Option<"blockN", "block-n", "int", "0",
           "Keys per KV tile (0: default per head dim)">,
    Option<"gpuKernel", "gpu-kernel", "std::string", "\"auto\"",
           "Block-attention kernel: mma (mma.sync, sm_80+), wgmma (TMA + "
           "wgmma, warp-specialized, sm_90a) or auto (wgmma on sm_90a); the "
           "backward kernels and the layer's projection GEMMs follow the "
           "same choice">
  ];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect"
  ];
}

def RingGPUGridConstantsPass
    : Pass<"ring-gpu-grid-constants", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Pass the tensor-map parameters of lowered kernels by value "
                "as __grid_constant__";
  let description = [{
    Runs after `convert-gpu-to-nvvm`. For every kernel `llvm.func` carrying
    `ringc.grid_constant_args = array<i32: ...>` (set by the wgmma attention
    generator, Kernels.h), marks each listed `!llvm.ptr` parameter
    `llvm.byval = !llvm.array<128 x i8>`, `llvm.align = 64` and
    `nvvm.grid_constant`, so that the NVPTX backend declares it as
    `.param .align 64 .b8 name[128]` and takes its generic address with
    `cvta.param` (what `cp.async.bulk.tensor` needs for a CUtensorMap passed
    by value). Upstream `gpu.func` cannot carry `nvvm.grid_constant` (the
    NVVM verifier accepts it only on kernel `llvm.func` arguments) and
    `convert-gpu-to-nvvm` does not forward `llvm.byval` argument attributes,
    hence this pass.

    Example:

    ```mlir
    llvm.func @k(%tm: !llvm.ptr) attributes {nvvm.kernel,
        ringc.grid_constant_args = array<i32: 0>}
    // becomes
    llvm.func @k(%tm: !llvm.ptr {llvm.align = 64 : i64,
        llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant})
        attributes {nvvm.kernel}
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

#endif // RINGC_CODEGEN_GPU_PASSES_TD
