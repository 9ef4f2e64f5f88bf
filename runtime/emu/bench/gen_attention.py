#!/usr/bin/env python3
"""Generates attention.ll: one 128-query x 128-key x D=64 attention block
(bf16 Q/K/V, f32 O) for one CTA of 8 warps, through cp.async, ldmatrix and
mma.sync.m16n8k16, fully unrolled. Compile with:
  opt -O3 attention.ll | llc -mcpu=sm_90a -mattr=+ptx80 -o attention.ptx
"""

L = []
n = [0]


def v(prefix="t"):
    n[0] += 1
    return f"%{prefix}{n[0]}"


def emit(s):
    L.append("  " + s)


import struct

_scale = struct.unpack("f", struct.pack("f", 0.125 * 1.4426950408889634))[0]
# 1/sqrt(64) * log2(e) as an f32-exact LLVM hex double literal.
SCALE = "0x%016X" % struct.unpack("Q", struct.pack("d", _scale))[0]

L.append('''target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@smem = external addrspace(3) global [0 x i8], align 16

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare void @llvm.nvvm.cp.async.cg.shared.global.16(ptr addrspace(3), ptr addrspace(1))
declare void @llvm.nvvm.cp.async.commit.group()
declare void @llvm.nvvm.cp.async.wait.group(i32)
declare void @llvm.nvvm.barrier.cta.sync.aligned.all(i32)
declare {i32,i32,i32,i32} @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.b16(ptr addrspace(3))
declare {i32,i32,i32,i32} @llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.trans.b16(ptr addrspace(3))
declare {float,float,float,float} @llvm.nvvm.mma.m16n8k16.row.col.bf16(i32,i32,i32,i32,i32,i32,float,float,float,float)
declare i32 @llvm.nvvm.shfl.sync.bfly.i32(i32, i32, i32, i32)
declare float @llvm.nvvm.ex2.approx.ftz.f(float)
declare float @llvm.maxnum.f32(float, float)
declare <2 x bfloat> @llvm.nvvm.ff2bf16x2.rn(float, float)

define ptx_kernel void @attention(ptr addrspace(1) %Q, ptr addrspace(1) %K, ptr addrspace(1) %V, ptr addrspace(1) %O) {
entry:''')

emit("%tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()")
emit("%lane = and i32 %tid, 31")
emit("%warp = lshr i32 %tid, 5")
emit("%g = lshr i32 %lane, 2")
emit("%t = and i32 %lane, 3")
# Stage Q, K, V (16 KiB each) into shared: 12 chunks of 16 bytes per thread.
for src, base in (("%Q", 0), ("%K", 16384), ("%V", 32768)):
    for i in range(4):
        off = v()
        emit(f"{off} = add i32 %tid, {256 * i}")
        boff = v()
        emit(f"{boff} = mul i32 {off}, 16")
        gp = v()
        emit(f"{gp} = getelementptr i8, ptr addrspace(1) {src}, i32 {boff}")
        soff = v()
        emit(f"{soff} = add i32 {boff}, {base}")
        sp = v()
        emit(f"{sp} = getelementptr i8, ptr addrspace(3) @smem, i32 {soff}")
        emit(f"call void @llvm.nvvm.cp.async.cg.shared.global.16(ptr addrspace(3) {sp}, ptr addrspace(1) {gp})")
emit("call void @llvm.nvvm.cp.async.commit.group()")
emit("call void @llvm.nvvm.cp.async.wait.group(i32 0)")
emit("call void @llvm.nvvm.barrier.cta.sync.aligned.all(i32 0)")

emit("%l16 = and i32 %lane, 15")
emit("%lhi = lshr i32 %lane, 4")
emit("%l8 = and i32 %lane, 7")
emit("%q = lshr i32 %lane, 3")
emit("%row16 = shl i32 %warp, 4")


def ldm(addr_expr_bytes, trans):
    p = v()
    emit(f"{p} = getelementptr i8, ptr addrspace(3) @smem, i32 {addr_expr_bytes}")
    r = v("m")
    name = "x4.trans.b16" if trans else "x4.b16"
    emit(f"{r} = call {{i32,i32,i32,i32}} @llvm.nvvm.ldmatrix.sync.aligned.m8n8.{name}(ptr addrspace(3) {p})")
    out = []
    for i in range(4):
        e = v()
        emit(f"{e} = extractvalue {{i32,i32,i32,i32}} {r}, {i}")
        out.append(e)
    return out


def addr(terms):
    """Sum of (value, multiplier) terms and constants, as i32."""
    acc = None
    for val, mul in terms:
        if isinstance(val, int):
            x = str(val * mul)
        else:
            x = v()
            emit(f"{x} = mul i32 {val}, {mul}")
        if acc is None:
            acc = x
        else:
            y = v()
            emit(f"{y} = add i32 {acc}, {x}")
            acc = y
    return acc


# A fragments of Q for 4 k-steps: row 16w + l%16, col 16kk + 8*(l/16).
qrow = v()
emit(f"{qrow} = add i32 %row16, %l16")
qa = []
for kk in range(4):
    a = addr([(qrow, 128), ("%lhi", 16), (kk * 32, 1)])
    qa.append(ldm(a, False))

# S = Q K^T: 16 n-tiles of 8 keys.
S = []
for j in range(16):
    acc = ["0.0"] * 4
    for kp in range(2):  # pairs of k-steps
        # key = 8j + l%8, d = 32kp + 8*(l/8)
        a = addr([("%l8", 128), ("%q", 16), (32768 // 2 + j * 8 * 128 + kp * 64, 1)])
        b = ldm(a, False)
        for h in range(2):
            kk = 2 * kp + h
            r = v("s")
            args = ", ".join(f"i32 {x}" for x in qa[kk]) + \
                f", i32 {b[2*h]}, i32 {b[2*h+1]}, " + \
                ", ".join(f"float {c}" for c in acc)
            emit(f"{r} = call {{float,float,float,float}} @llvm.nvvm.mma.m16n8k16.row.col.bf16({args})")
            acc = []
            for i in range(4):
                e = v()
                emit(f"{e} = extractvalue {{float,float,float,float}} {r}, {i}")
                acc.append(e)
    S.append(acc)


def shfl_reduce(x, op):
    for m in (1, 2):
        bi = v()
        emit(f"{bi} = bitcast float {x} to i32")
        s = v()
        emit(f"{s} = call i32 @llvm.nvvm.shfl.sync.bfly.i32(i32 -1, i32 {bi}, i32 {m}, i32 31)")
        f = v()
        emit(f"{f} = bitcast i32 {s} to float")
        y = v()
        if op == "max":
            emit(f"{y} = call float @llvm.maxnum.f32(float {x}, float {f})")
        else:
            emit(f"{y} = fadd float {x}, {f}")
        x = y
    return x


# Softmax per row half: h=0 -> row g (c0, c1), h=1 -> row g+8 (c2, c3).
P = [[None] * 4 for _ in range(16)]
sums = []
for h in range(2):
    m = S[0][2 * h]
    for j in range(16):
        for i in (2 * h, 2 * h + 1):
            if (j, i) == (0, 2 * h):
                continue
            y = v()
            emit(f"{y} = call float @llvm.maxnum.f32(float {m}, float {S[j][i]})")
            m = y
    m = shfl_reduce(m, "max")
    ms = v()
    emit(f"{ms} = fmul float {m}, {SCALE}")
    tot = None
    for j in range(16):
        for i in (2 * h, 2 * h + 1):
            x = v()
            emit(f"{x} = fmul float {S[j][i]}, {SCALE}")
            d = v()
            emit(f"{d} = fsub float {x}, {ms}")
            p = v()
            emit(f"{p} = call float @llvm.nvvm.ex2.approx.ftz.f(float {d})")
            P[j][i] = p
            if tot is None:
                tot = p
            else:
                y = v()
                emit(f"{y} = fadd float {tot}, {p}")
                tot = y
    sums.append(shfl_reduce(tot, "sum"))


def pack(lo, hi):
    r = v()
    emit(f"{r} = call <2 x bfloat> @llvm.nvvm.ff2bf16x2.rn(float {hi}, float {lo})")
    b = v()
    emit(f"{b} = bitcast <2 x bfloat> {r} to i32")
    return b


# O = P V: 8 key-steps of 16 keys; 8 d-tiles of 8.
O = [["0.0"] * 4 for _ in range(8)]
for ks in range(8):
    j0, j1 = 2 * ks, 2 * ks + 1
    a = [pack(P[j0][0], P[j0][1]), pack(P[j0][2], P[j0][3]),
         pack(P[j1][0], P[j1][1]), pack(P[j1][2], P[j1][3])]
    for dp in range(4):  # pairs of d-tiles
        # key = 16ks + 8*(q&1) + l%8, d = 8*(2dp + (q>>1))
        q1 = v()
        emit(f"{q1} = and i32 %q, 1")
        q2 = v()
        emit(f"{q2} = lshr i32 %q, 1")
        ad = addr([("%l8", 128), (q1, 1024), (q2, 16),
                   (32768 + ks * 16 * 128 + dp * 32, 1)])
        b = ldm(ad, True)
        for h in range(2):
            dt = 2 * dp + h
            r = v("o")
            args = ", ".join(f"i32 {x}" for x in a) + \
                f", i32 {b[2*h]}, i32 {b[2*h+1]}, " + \
                ", ".join(f"float {c}" for c in O[dt])
            emit(f"{r} = call {{float,float,float,float}} @llvm.nvvm.mma.m16n8k16.row.col.bf16({args})")
            O[dt] = []
            for i in range(4):
                e = v()
                emit(f"{e} = extractvalue {{float,float,float,float}} {r}, {i}")
                O[dt].append(e)

# Normalize and store: row 16w + g (+8), cols 8dt + 2t.
inv = []
for h in range(2):
    x = v()
    emit(f"{x} = fdiv float 1.0, {sums[h]}")
    inv.append(x)
rowg = v()
emit(f"{rowg} = add i32 %row16, %g")
for dt in range(8):
    for h in range(2):
        vals = []
        for i in (2 * h, 2 * h + 1):
            x = v()
            emit(f"{x} = fmul float {O[dt][i]}, {inv[h]}")
            vals.append(x)
        idx = addr([(rowg, 64), ("%t", 2), (h * 8 * 64 + dt * 8, 1)])
        p = v()
        emit(f"{p} = getelementptr float, ptr addrspace(1) %O, i32 {idx}")
        v0 = v()
        emit(f"{v0} = insertelement <2 x float> poison, float {vals[0]}, i32 0")
        v1 = v()
        emit(f"{v1} = insertelement <2 x float> {v0}, float {vals[1]}, i32 1")
        emit(f"store <2 x float> {v1}, ptr addrspace(1) {p}, align 8")
emit("ret void")
L.append("}")
print("\n".join(L))
