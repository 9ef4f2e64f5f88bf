; Copies nbytes from src to dst through shared memory with 16-byte
; cp.async.cg; the tail is zero-filled with the src-size form.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@stage = internal addrspace(3) global [2048 x i8] undef, align 16

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare void @llvm.nvvm.cp.async.cg.shared.global.16.s(ptr addrspace(3), ptr addrspace(1), i32)
declare void @llvm.nvvm.cp.async.commit.group()
declare void @llvm.nvvm.cp.async.wait.group(i32)
declare void @llvm.nvvm.barrier.cta.sync.aligned.all(i32)

define ptx_kernel void @copy(ptr addrspace(1) %src, ptr addrspace(1) %dst, i32 %nbytes) {
entry:
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %off = mul i32 %tid, 16
  %left = sub i32 %nbytes, %off
  %pos = call i32 @llvm.smax.i32(i32 %left, i32 0)
  %sz = call i32 @llvm.smin.i32(i32 %pos, i32 16)
  %gs = getelementptr i8, ptr addrspace(1) %src, i32 %off
  %ss = getelementptr i8, ptr addrspace(3) @stage, i32 %off
  call void @llvm.nvvm.cp.async.cg.shared.global.16.s(ptr addrspace(3) %ss, ptr addrspace(1) %gs, i32 %sz)
  call void @llvm.nvvm.cp.async.commit.group()
  call void @llvm.nvvm.cp.async.wait.group(i32 0)
  call void @llvm.nvvm.barrier.cta.sync.aligned.all(i32 0)
  %rev = sub i32 127, %tid
  %roff = mul i32 %rev, 16
  %rs = getelementptr i8, ptr addrspace(3) @stage, i32 %roff
  %v = load <4 x i32>, ptr addrspace(3) %rs, align 16
  %gd = getelementptr i8, ptr addrspace(1) %dst, i32 %roff
  store <4 x i32> %v, ptr addrspace(1) %gd, align 16
  ret void
}
declare i32 @llvm.smax.i32(i32, i32)
declare i32 @llvm.smin.i32(i32, i32)
