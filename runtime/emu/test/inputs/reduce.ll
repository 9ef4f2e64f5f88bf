; Block reduction: out[cta] = sum(ex2(x)), out[nctas + cta] = max(x) over
; the CTA's 128 elements (elements at index >= n count as x = -inf).
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@partial = internal addrspace(3) global [8 x float] undef, align 4

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.nctaid.x()
declare float @llvm.nvvm.ex2.approx.ftz.f(float)
declare i32 @llvm.nvvm.shfl.sync.bfly.i32(i32, i32, i32, i32)
declare void @llvm.nvvm.barrier.cta.sync.aligned.all(i32)

define internal float @shfl(float %v, i32 %m) alwaysinline {
  %b = bitcast float %v to i32
  %s = call i32 @llvm.nvvm.shfl.sync.bfly.i32(i32 -1, i32 %b, i32 %m, i32 31)
  %f = bitcast i32 %s to float
  ret float %f
}

define ptx_kernel void @reduce(ptr addrspace(1) %in, ptr addrspace(1) %out, i32 %n) {
entry:
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %cta = call i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %ncta = call i32 @llvm.nvvm.read.ptx.sreg.nctaid.x()
  %base = mul i32 %cta, 128
  %gid = add i32 %base, %tid
  %inb = icmp slt i32 %gid, %n
  br i1 %inb, label %load, label %join
load:
  %p = getelementptr float, ptr addrspace(1) %in, i32 %gid
  %xl = load float, ptr addrspace(1) %p, align 4
  br label %join
join:
  %x = phi float [ %xl, %load ], [ 0xFFF0000000000000, %entry ]
  %e = call float @llvm.nvvm.ex2.approx.ftz.f(float %x)
  %s16 = call float @shfl(float %e, i32 16)
  %a16 = fadd float %e, %s16
  %m16s = call float @shfl(float %x, i32 16)
  %m16 = call float @llvm.maxnum.f32(float %x, float %m16s)
  %s8 = call float @shfl(float %a16, i32 8)
  %a8 = fadd float %a16, %s8
  %m8s = call float @shfl(float %m16, i32 8)
  %m8 = call float @llvm.maxnum.f32(float %m16, float %m8s)
  %s4 = call float @shfl(float %a8, i32 4)
  %a4 = fadd float %a8, %s4
  %m4s = call float @shfl(float %m8, i32 4)
  %m4 = call float @llvm.maxnum.f32(float %m8, float %m4s)
  %s2 = call float @shfl(float %a4, i32 2)
  %a2 = fadd float %a4, %s2
  %m2s = call float @shfl(float %m4, i32 2)
  %m2 = call float @llvm.maxnum.f32(float %m4, float %m2s)
  %s1 = call float @shfl(float %a2, i32 1)
  %a1 = fadd float %a2, %s1
  %m1s = call float @shfl(float %m2, i32 1)
  %m1 = call float @llvm.maxnum.f32(float %m2, float %m1s)
  %lane = and i32 %tid, 31
  %warp = lshr i32 %tid, 5
  %l0 = icmp eq i32 %lane, 0
  br i1 %l0, label %wr, label %sync
wr:
  %ps = getelementptr float, ptr addrspace(3) @partial, i32 %warp
  store float %a1, ptr addrspace(3) %ps, align 4
  %w4 = add i32 %warp, 4
  %pm = getelementptr float, ptr addrspace(3) @partial, i32 %w4
  store float %m1, ptr addrspace(3) %pm, align 4
  br label %sync
sync:
  call void @llvm.nvvm.barrier.cta.sync.aligned.all(i32 0)
  %t0 = icmp eq i32 %tid, 0
  br i1 %t0, label %fin, label %done
fin:
  %v0 = load <4 x float>, ptr addrspace(3) @partial, align 16
  %pmx = getelementptr float, ptr addrspace(3) @partial, i32 4
  %v1 = load <4 x float>, ptr addrspace(3) %pmx, align 16
  %x0 = extractelement <4 x float> %v0, i32 0
  %x1 = extractelement <4 x float> %v0, i32 1
  %x2 = extractelement <4 x float> %v0, i32 2
  %x3 = extractelement <4 x float> %v0, i32 3
  %y0 = extractelement <4 x float> %v1, i32 0
  %y1 = extractelement <4 x float> %v1, i32 1
  %y2 = extractelement <4 x float> %v1, i32 2
  %y3 = extractelement <4 x float> %v1, i32 3
  %t1 = fadd float %x0, %x1
  %t2 = fadd float %t1, %x2
  %t3 = fadd float %t2, %x3
  %u1 = call float @llvm.maxnum.f32(float %y0, float %y1)
  %u2 = call float @llvm.maxnum.f32(float %u1, float %y2)
  %u3 = call float @llvm.maxnum.f32(float %u2, float %y3)
  %po = getelementptr float, ptr addrspace(1) %out, i32 %cta
  store float %t3, ptr addrspace(1) %po, align 4
  %mi = add i32 %cta, %ncta
  %pmo = getelementptr float, ptr addrspace(1) %out, i32 %mi
  store float %u3, ptr addrspace(1) %pmo, align 4
  br label %done
done:
  ret void
}
declare float @llvm.maxnum.f32(float, float)
