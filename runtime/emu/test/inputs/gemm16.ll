target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@sA = internal addrspace(3) global [256 x bfloat] undef, align 16
@sB = internal addrspace(3) global [256 x bfloat] undef, align 16

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare void @llvm.nvvm.cp.async.cg.shared.global.16(ptr addrspace(3), ptr addrspace(1))
declare void @llvm.nvvm.cp.async.commit.group()
declare void @llvm.nvvm.cp.async.wait.group(i32)
declare void @llvm.nvvm.barrier.cta.sync.aligned.all(i32)
declare {i32,i32,i32,i32} @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.b16(ptr addrspace(3))
declare {i32,i32,i32,i32} @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.trans.b16(ptr addrspace(3))
declare {float,float,float,float} @llvm.nvvm.mma.m16n8k16.row.col.bf16(i32,i32,i32,i32,i32,i32,float,float,float,float)

define ptx_kernel void @gemm16(ptr addrspace(1) %A, ptr addrspace(1) %B, ptr addrspace(1) %C) {
entry:
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %off = mul i32 %tid, 8
  %ga = getelementptr bfloat, ptr addrspace(1) %A, i32 %off
  %gb = getelementptr bfloat, ptr addrspace(1) %B, i32 %off
  %sa = getelementptr bfloat, ptr addrspace(3) @sA, i32 %off
  %sb = getelementptr bfloat, ptr addrspace(3) @sB, i32 %off
  call void @llvm.nvvm.cp.async.cg.shared.global.16(ptr addrspace(3) %sa, ptr addrspace(1) %ga)
  call void @llvm.nvvm.cp.async.cg.shared.global.16(ptr addrspace(3) %sb, ptr addrspace(1) %gb)
  call void @llvm.nvvm.cp.async.commit.group()
  call void @llvm.nvvm.cp.async.wait.group(i32 0)
  call void @llvm.nvvm.barrier.cta.sync.aligned.all(i32 0)
  %row = and i32 %tid, 15
  %hi = lshr i32 %tid, 4
  %col = mul i32 %hi, 8
  %r16 = mul i32 %row, 16
  %idx = add i32 %r16, %col
  %pa = getelementptr bfloat, ptr addrspace(3) @sA, i32 %idx
  %pb = getelementptr bfloat, ptr addrspace(3) @sB, i32 %idx
  %fa = call {i32,i32,i32,i32} @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.b16(ptr addrspace(3) %pa)
  %fb = call {i32,i32,i32,i32} @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.trans.b16(ptr addrspace(3) %pb)
  %a0 = extractvalue {i32,i32,i32,i32} %fa, 0
  %a1 = extractvalue {i32,i32,i32,i32} %fa, 1
  %a2 = extractvalue {i32,i32,i32,i32} %fa, 2
  %a3 = extractvalue {i32,i32,i32,i32} %fa, 3
  %b0 = extractvalue {i32,i32,i32,i32} %fb, 0
  %b1 = extractvalue {i32,i32,i32,i32} %fb, 1
  %b2 = extractvalue {i32,i32,i32,i32} %fb, 2
  %b3 = extractvalue {i32,i32,i32,i32} %fb, 3
  %d0 = call {float,float,float,float} @llvm.nvvm.mma.m16n8k16.row.col.bf16(i32 %a0,i32 %a1,i32 %a2,i32 %a3,i32 %b0,i32 %b1,float 0.0,float 0.0,float 0.0,float 0.0)
  %d1 = call {float,float,float,float} @llvm.nvvm.mma.m16n8k16.row.col.bf16(i32 %a0,i32 %a1,i32 %a2,i32 %a3,i32 %b2,i32 %b3,float 0.0,float 0.0,float 0.0,float 0.0)
  %g = lshr i32 %tid, 2
  %t = and i32 %tid, 3
  %t2 = mul i32 %t, 2
  %g16 = mul i32 %g, 16
  %o0 = add i32 %g16, %t2
  %o1 = add i32 %o0, 8
  %o2 = add i32 %o0, 128
  %o3 = add i32 %o0, 136
  %x00 = extractvalue {float,float,float,float} %d0, 0
  %x01 = extractvalue {float,float,float,float} %d0, 1
  %x02 = extractvalue {float,float,float,float} %d0, 2
  %x03 = extractvalue {float,float,float,float} %d0, 3
  %x10 = extractvalue {float,float,float,float} %d1, 0
  %x11 = extractvalue {float,float,float,float} %d1, 1
  %x12 = extractvalue {float,float,float,float} %d1, 2
  %x13 = extractvalue {float,float,float,float} %d1, 3
  %p0 = getelementptr float, ptr addrspace(1) %C, i32 %o0
  %p1 = getelementptr float, ptr addrspace(1) %C, i32 %o1
  %p2 = getelementptr float, ptr addrspace(1) %C, i32 %o2
  %p3 = getelementptr float, ptr addrspace(1) %C, i32 %o3
  %v0 = insertelement <2 x float> undef, float %x00, i32 0
  %v0b = insertelement <2 x float> %v0, float %x01, i32 1
  store <2 x float> %v0b, ptr addrspace(1) %p0, align 8
  %v1 = insertelement <2 x float> undef, float %x10, i32 0
  %v1b = insertelement <2 x float> %v1, float %x11, i32 1
  store <2 x float> %v1b, ptr addrspace(1) %p1, align 8
  %v2 = insertelement <2 x float> undef, float %x02, i32 0
  %v2b = insertelement <2 x float> %v2, float %x03, i32 1
  store <2 x float> %v2b, ptr addrspace(1) %p2, align 8
  %v3 = insertelement <2 x float> undef, float %x12, i32 0
  %v3b = insertelement <2 x float> %v3, float %x13, i32 1
  store <2 x float> %v3b, ptr addrspace(1) %p3, align 8
  ret void
}
