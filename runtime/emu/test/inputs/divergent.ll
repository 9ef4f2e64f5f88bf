; Per-thread data-dependent loop (Collatz steps, capped) with an if/else
; inside: lanes of a warp diverge and reconverge.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ntid.x()

define ptx_kernel void @collatz(ptr addrspace(1) %in, ptr addrspace(1) %out) {
entry:
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %cta = call i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %nt = call i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
  %b = mul i32 %cta, %nt
  %gid = add i32 %b, %tid
  %p = getelementptr i32, ptr addrspace(1) %in, i32 %gid
  %x0 = load i32, ptr addrspace(1) %p, align 4
  br label %loop
loop:
  %x = phi i32 [ %x0, %entry ], [ %xn, %next ]
  %n = phi i32 [ 0, %entry ], [ %n1, %next ]
  %one = icmp ule i32 %x, 1
  %cap = icmp uge i32 %n, 200
  %stop = or i1 %one, %cap
  br i1 %stop, label %exit, label %body
body:
  %odd = and i32 %x, 1
  %isodd = icmp ne i32 %odd, 0
  br i1 %isodd, label %odd.bb, label %even.bb
odd.bb:
  %t = mul i32 %x, 3
  %t1 = add i32 %t, 1
  br label %next
even.bb:
  %h = lshr i32 %x, 1
  br label %next
next:
  %xn = phi i32 [ %t1, %odd.bb ], [ %h, %even.bb ]
  %n1 = add i32 %n, 1
  br label %loop
exit:
  %q = getelementptr i32, ptr addrspace(1) %out, i32 %gid
  store i32 %n, ptr addrspace(1) %q, align 4
  ret void
}
