// RUN: ring-opt %s -split-input-file -ring-fuse-merge | FileCheck %s
// RUN: ring-opt %s -split-input-file -ring-fuse-merge -ring-fuse-merge | FileCheck %s

// Stage 0's blocks cover every accumulator row: they are `first`, the fill
// goes away, and so do the partial buffers.
// CHECK-LABEL: func.func @two_stages
// CHECK: %[[AO:.+]] = memref.alloc() : memref<1x2x8x16xf32>
// CHECK: %[[AL:.+]] = memref.alloc() : memref<1x2x8xf32>
// CHECK-NOT: memref.alloc() : memref<1x2x8x16xf32>
// CHECK-NOT: ring.fill_partial
// CHECK: ring.stage 0 {
// CHECK-NEXT: ring.shift_start
// CHECK-NEXT: ring.block_attention_accumulate ins(%{{.+}}, %{{.+}}, %{{.+}} : {{.+}}) acc(%[[AO]], %[[AL]] : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%{{.+}}) kv_owner(%{{.+}}) q_rows = [0, 4] kv_rows = [0, 4] mask<causal> layout<none> ring_size = 2 scale = 2.500000e-01 first
// CHECK-NEXT: ring.block_attention_accumulate {{.+}} acc(%[[AO]], %[[AL]] : {{.+}} q_rows = [4, 4] kv_rows = [0, 8] mask<causal> {{.+}} first
// CHECK-NEXT: ring.shift_wait
// CHECK-NEXT: }
// CHECK: ring.stage 1 {
// CHECK-NEXT: ring.block_attention_accumulate {{.+}} acc(%[[AO]], %[[AL]] : {{.+}} q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 2 scale = 2.500000e-01{{$}}
// CHECK-NEXT: }
// CHECK-NOT: ring.merge
// CHECK: ring.finalize ins(%[[AO]], %[[AL]]
// CHECK-NOT: memref.dealloc %{{.+}} : memref<1x2x8x16xf32>
// CHECK: return

func.func @two_stages(%q: memref<1x2x8x16xf32>, %k: memref<1x1x8x16xf32>, %v: memref<1x1x8x16xf32>, %o: memref<1x2x8x16xf32>, %lse: memref<1x2x8xf32>, %p: index) {
  %ao = memref.alloc() : memref<1x2x8x16xf32>
  %al = memref.alloc() : memref<1x2x8xf32>
  %po = memref.alloc() : memref<1x2x8x16xf32>
  %pl = memref.alloc() : memref<1x2x8xf32>
  %kb = memref.alloc() : memref<1x1x8x16xf32>
  %vb = memref.alloc() : memref<1x1x8x16xf32>
  ring.fill_partial %ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>
  ring.stage 0 {
    %t = ring.shift_start %k, %kb stage 0 : memref<1x1x8x16xf32>
    ring.block_attention ins(%q, %k, %v : memref<1x2x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 4] mask<causal> layout<none> ring_size = 2 scale = 0.25
    ring.merge ins(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) rows = [0, 4]
    ring.block_attention ins(%q, %k, %v : memref<1x2x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [4, 4] kv_rows = [0, 8] mask<causal> layout<none> ring_size = 2 scale = 0.25
    ring.merge ins(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) rows = [4, 4]
    ring.shift_wait %t
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %kb, %vb : memref<1x2x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 2 scale = 0.25
    ring.merge ins(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) rows = [0, 8]
  }
  ring.finalize ins(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%o, %lse : memref<1x2x8x16xf32>, memref<1x2x8xf32>)
  memref.dealloc %po : memref<1x2x8x16xf32>
  memref.dealloc %pl : memref<1x2x8xf32>
  return
}

// -----

// Stage 0 covers rows [0, 4) only: that block is `first`, the fill stays
// (rows [4, 8) must still finalize to O = 0, LSE = −inf if nothing merges
// into them), and the later block is a plain accumulating one.
// CHECK-LABEL: func.func @uncovered_rows
// CHECK: ring.fill_partial
// CHECK: ring.block_attention_accumulate {{.+}} q_rows = [0, 4] {{.+}} first
// CHECK: ring.block_attention_accumulate {{.+}} q_rows = [0, 8] {{.+}}scale = 2.500000e-01{{$}}

func.func @uncovered_rows(%q: memref<1x2x8x16xf32>, %k: memref<1x1x8x16xf32>, %v: memref<1x1x8x16xf32>, %o: memref<1x2x8x16xf32>, %lse: memref<1x2x8xf32>, %p: index) {
  %ao = memref.alloc() : memref<1x2x8x16xf32>
  %al = memref.alloc() : memref<1x2x8xf32>
  %po = memref.alloc() : memref<1x2x8x16xf32>
  %pl = memref.alloc() : memref<1x2x8xf32>
  %kb = memref.alloc() : memref<1x1x8x16xf32>
  %vb = memref.alloc() : memref<1x1x8x16xf32>
  ring.fill_partial %ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>
  ring.stage 0 {
    ring.block_attention ins(%q, %k, %v : memref<1x2x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 4] kv_rows = [0, 8] mask<none> layout<none> ring_size = 2 scale = 0.25
    ring.merge ins(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) rows = [0, 4]
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %k, %v : memref<1x2x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 2 scale = 0.25
    ring.merge ins(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) rows = [0, 8]
  }
  ring.finalize ins(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%o, %lse : memref<1x2x8x16xf32>, memref<1x2x8xf32>)
  memref.dealloc %po : memref<1x2x8x16xf32>
  memref.dealloc %pl : memref<1x2x8xf32>
  return
}

// -----

// Not fusable: the merge takes other rows than the block computed, or
// something between the block and its merge reads the accumulator.
// CHECK-LABEL: func.func @not_fusable
// CHECK: ring.fill_partial
// CHECK: ring.block_attention ins
// CHECK-NEXT: ring.merge {{.+}} rows = [0, 4]
// CHECK: ring.block_attention ins
// CHECK-NEXT: memref.copy
// CHECK-NEXT: ring.merge {{.+}} rows = [0, 8]
// CHECK-NOT: ring.block_attention_accumulate

func.func @not_fusable(%q: memref<1x2x8x16xf32>, %k: memref<1x1x8x16xf32>, %v: memref<1x1x8x16xf32>, %o: memref<1x2x8x16xf32>, %lse: memref<1x2x8xf32>, %p: index) {
  %ao = memref.alloc() : memref<1x2x8x16xf32>
  %al = memref.alloc() : memref<1x2x8xf32>
  %po = memref.alloc() : memref<1x2x8x16xf32>
  %pl = memref.alloc() : memref<1x2x8xf32>
  %kb = memref.alloc() : memref<1x1x8x16xf32>
  %vb = memref.alloc() : memref<1x1x8x16xf32>
  ring.fill_partial %ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>
  ring.stage 0 {
    ring.block_attention ins(%q, %k, %v : memref<1x2x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 2 scale = 0.25
    ring.merge ins(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) rows = [0, 4]
  }
  ring.stage 1 {
    ring.block_attention ins(%q, %k, %v : memref<1x2x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 2 scale = 0.25
    memref.copy %ao, %o : memref<1x2x8x16xf32> to memref<1x2x8x16xf32>
    ring.merge ins(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) rows = [0, 8]
  }
  ring.finalize ins(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%o, %lse : memref<1x2x8x16xf32>, memref<1x2x8xf32>)
  memref.dealloc %po : memref<1x2x8x16xf32>
  memref.dealloc %pl : memref<1x2x8xf32>
  return
}

// -----

// A block inside a rank-dependent branch fuses, but is not `first` (the
// prefix of straight-line code ends at the branch), so the fill stays.
// CHECK-LABEL: func.func @branch
// CHECK: ring.fill_partial
// CHECK: scf.if
// CHECK-NEXT: ring.block_attention_accumulate {{.+}}scale = 2.500000e-01{{$}}

func.func @branch(%q: memref<1x2x8x16xf32>, %k: memref<1x1x8x16xf32>, %v: memref<1x1x8x16xf32>, %o: memref<1x2x8x16xf32>, %lse: memref<1x2x8xf32>, %p: index) {
  %ao = memref.alloc() : memref<1x2x8x16xf32>
  %al = memref.alloc() : memref<1x2x8xf32>
  %po = memref.alloc() : memref<1x2x8x16xf32>
  %pl = memref.alloc() : memref<1x2x8xf32>
  %kb = memref.alloc() : memref<1x1x8x16xf32>
  %vb = memref.alloc() : memref<1x1x8x16xf32>
  ring.fill_partial %ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>
  %c = arith.cmpi ult, %p, %p : index
  ring.stage 0 {
    scf.if %c {
      ring.block_attention ins(%q, %k, %v : memref<1x2x8x16xf32>, memref<1x1x8x16xf32>, memref<1x1x8x16xf32>) outs(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 2 scale = 0.25
      ring.merge ins(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) rows = [0, 8]
    }
  }
  ring.finalize ins(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%o, %lse : memref<1x2x8x16xf32>, memref<1x2x8xf32>)
  memref.dealloc %po : memref<1x2x8x16xf32>
  memref.dealloc %pl : memref<1x2x8xf32>
  return
}

// -----

// The dim-slice path stays unfused (ring-fuse-merge leaves it explicitly).
// CHECK-LABEL: func.func @dim_slices
// CHECK: ring.fill_partial
// CHECK: ring.block_softmax_v
// CHECK-NEXT: ring.merge

func.func @dim_slices(%q: memref<1x2x8x16xf32>, %k: memref<1x1x8x16xf32>, %v: memref<1x1x8x16xf32>, %o: memref<1x2x8x16xf32>, %lse: memref<1x2x8xf32>, %p: index) {
  %ao = memref.alloc() : memref<1x2x8x16xf32>
  %al = memref.alloc() : memref<1x2x8xf32>
  %po = memref.alloc() : memref<1x2x8x16xf32>
  %pl = memref.alloc() : memref<1x2x8xf32>
  %s = memref.alloc() : memref<1x2x8x8xf32>
  %kb = memref.alloc() : memref<1x1x8x16xf32>
  %vb = memref.alloc() : memref<1x1x8x16xf32>
  ring.fill_partial %ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>
  ring.stage 0 {
    ring.block_scores ins(%q, %k : memref<1x2x8x16xf32>, memref<1x1x8x16xf32>) outs(%s : memref<1x2x8x8xf32>) q_rows = [0, 8] kv_rows = [0, 8]
    ring.all_reduce %s stage 0 : memref<1x2x8x8xf32>
    ring.block_softmax_v ins(%s, %v : memref<1x2x8x8xf32>, memref<1x1x8x16xf32>) outs(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 0.25
    ring.merge ins(%po, %pl : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) rows = [0, 8]
  }
  ring.finalize ins(%ao, %al : memref<1x2x8x16xf32>, memref<1x2x8xf32>) outs(%o, %lse : memref<1x2x8x16xf32>, memref<1x2x8xf32>)
  memref.dealloc %po : memref<1x2x8x16xf32>
  memref.dealloc %pl : memref<1x2x8xf32>
  return
}
