// RUN: ring-opt %s -split-input-file -verify-diagnostics
// Bad packed-document (varlen) specs and per-rank ops: max_docs is at
// least 1, and the per-rank ops carry the document boundaries (max_docs + 1 int32) exactly when the
// plan packs documents.

func.func @zero(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{max_docs = 0 is invalid: it is the most documents a call's cu_seqlens may pack, 1 <= max_docs <= 16777216 (unused documents are empty)}}
  %o, %lse = ring.attention %q, %k, %v max_docs(0) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @negative(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{max_docs = -4 is invalid}}
  %o, %lse = ring.attention %q, %k, %v mask<causal> max_docs(-4) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

func.func @too_many(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>) {
  // expected-error @+1 {{max_docs = 16777217 is invalid}}
  %o, %lse = ring.attention %q, %k, %v max_docs(16777217) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32> -> tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
  return
}

// -----

// The plan carries the same check.
// expected-error @+1 {{invalid #ring.plan: max_docs = -1 is invalid}}
func.func @plan_zero() attributes {ring.plan = #ring.plan<grid = @"", grid_shape = [], ring_axis = -1, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64, max_docs = -1>} {
  return
}

// -----

// The dim-slice softmax takes the boundaries too.
func.func @softmax_v_one_boundary(%s: memref<1x1x8x8xf32>, %v: memref<1x1x8x8xf32>, %po: memref<1x1x8x8xf32>, %pl: memref<1x1x8xf32>, %cu: memref<1xi32>, %c: index) {
  // expected-error @+1 {{docs must be a dense memref of N + 1 >= 2 int32 document boundaries (cu_seqlens), got 'memref<1xi32>'}}
  ring.block_softmax_v ins(%s, %v : memref<1x1x8x8xf32>, memref<1x1x8x8xf32>) outs(%po, %pl : memref<1x1x8x8xf32>, memref<1x1x8xf32>) q_owner(%c) kv_owner(%c) docs(%cu : memref<1xi32>) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 0.35
  return
}

// -----

// A varlen plan's per-rank function takes cu_seqlens last.
// expected-error @+1 {{a per-rank function with a ring.plan takes the buffers (q, k, v, o, lse, cu_seqlens) and returns nothing}}
func.func @missing_arg(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %v: memref<1x1x8x8xf32>, %o: memref<1x1x8x8xf32>, %l: memref<1x1x8xf32>) attributes {ring.plan = #ring.plan<grid = @"", grid_shape = [], ring_axis = -1, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64, max_docs = 3>} {
  return
}

// -----

func.func @local_without_docs(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %v: memref<1x1x8x8xf32>, %o: memref<1x1x8x8xf32>, %l: memref<1x1x8xf32>, %c: index) {
  // expected-error @+1 {{the plan packs up to 3 documents (max_docs) but the op has no docs(cu_seqlens) operand; the kernels need the boundaries}}
  ring.local_attention ins(%q, %k, %v : memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>) outs(%o, %l : memref<1x1x8x8xf32>, memref<1x1x8xf32>) coords(%c, %c, %c) plan(#ring.plan<grid = @"", grid_shape = [], ring_axis = -1, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64, max_docs = 3>)
  return
}

// -----

func.func @local_wrong_size(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %v: memref<1x1x8x8xf32>, %o: memref<1x1x8x8xf32>, %l: memref<1x1x8xf32>, %cu: memref<3xi32>, %c: index) {
  // expected-error @+1 {{docs 'memref<3xi32>' must hold max_docs + 1 = 4 boundaries}}
  ring.local_attention ins(%q, %k, %v : memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>) outs(%o, %l : memref<1x1x8x8xf32>, memref<1x1x8xf32>) docs(%cu : memref<3xi32>) coords(%c, %c, %c) plan(#ring.plan<grid = @"", grid_shape = [], ring_axis = -1, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64, max_docs = 3>)
  return
}

// -----

func.func @local_docs_without_plan(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %v: memref<1x1x8x8xf32>, %o: memref<1x1x8x8xf32>, %l: memref<1x1x8xf32>, %cu: memref<3xi32>, %c: index) {
  // expected-error @+1 {{docs 'memref<3xi32>' must hold max_docs + 1 = 1 boundaries (the plan has no max_docs: drop the operand)}}
  ring.local_attention ins(%q, %k, %v : memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>) outs(%o, %l : memref<1x1x8x8xf32>, memref<1x1x8xf32>) docs(%cu : memref<3xi32>) coords(%c, %c, %c) plan(#ring.plan<grid = @"", grid_shape = [], ring_axis = -1, head_group_axis = -1, dim_slice_axis = -1, batch = 1, heads = 1, kv_heads = 1, seq = 8, head_dim = 8, element_type = f32, mask = none, balance = none, scale = 0.35 : f64>)
  return
}

// -----

func.func @block_one_boundary(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %po: memref<1x1x8x8xf32>, %pl: memref<1x1x8xf32>, %cu: memref<1xi32>, %c: index) {
  // expected-error @+1 {{docs must be a dense memref of N + 1 >= 2 int32 document boundaries (cu_seqlens), got 'memref<1xi32>'}}
  ring.block_attention ins(%q, %k, %k : memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>) outs(%po, %pl : memref<1x1x8x8xf32>, memref<1x1x8xf32>) q_owner(%c) kv_owner(%c) docs(%cu : memref<1xi32>) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> ring_size = 1 scale = 0.35
  return
}
