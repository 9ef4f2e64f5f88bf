// Hand-written overlapped per-rank program: ring of 2, causal, zigzag,
// bf16, GQA (4 query heads over 2 key/value heads), Ll = 32 (chunks of 16),
// head_dim 32. Stage 0 computes the rank's own (diagonal) block under the
// causal mask while the K/V shift is in flight; stage 1 selects, by ring
// coordinate, the rows that see the neighbour's block (zigzag: rank 0's
// second chunk sees all of rank 1; both chunks of rank 1 see rank 0's first
// chunk).
shard.grid @cluster(shape = 2x1x1)
func.func @p2zz(%q: memref<1x4x32x32xbf16>, %k: memref<1x2x32x32xbf16>,
                %v: memref<1x2x32x32xbf16>, %o: memref<1x4x32x32xbf16>,
                %lse: memref<1x4x32xf32>)
    attributes {ring.plan = #ring.plan<grid = @cluster, grid_shape = [2, 1, 1],
      ring_axis = 0, head_group_axis = 1, dim_slice_axis = 2, batch = 1,
      heads = 4, kv_heads = 2, seq = 64, head_dim = 32, element_type = bf16,
      mask = causal, balance = zigzag, scale = 0.17677669529663687 : f64>} {
  %c:3 = shard.process_multi_index on @cluster : index, index, index
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %acc_o = memref.alloc() : memref<1x4x32x32xf32>
  %acc_l = memref.alloc() : memref<1x4x32xf32>
  %po = memref.alloc() : memref<1x4x32x32xf32>
  %pl = memref.alloc() : memref<1x4x32xf32>
  %kb = memref.alloc() : memref<1x2x32x32xbf16>
  %vb = memref.alloc() : memref<1x2x32x32xbf16>
  ring.fill_partial %acc_o, %acc_l : memref<1x4x32x32xf32>, memref<1x4x32xf32>
  ring.stage 0 {
    %tk = ring.shift_start %k, %kb stage 0 : memref<1x2x32x32xbf16>
    %tv = ring.shift_start %v, %vb stage 0 : memref<1x2x32x32xbf16>
    ring.block_attention ins(%q, %k, %v : memref<1x4x32x32xbf16>, memref<1x2x32x32xbf16>, memref<1x2x32x32xbf16>)
        outs(%po, %pl : memref<1x4x32x32xf32>, memref<1x4x32xf32>)
        q_owner(%c#0) kv_owner(%c#0) q_rows = [0, 32] kv_rows = [0, 32]
        mask<causal> layout<zigzag> ring_size = 2 scale = 0.17677669529663687
    ring.merge ins(%po, %pl : memref<1x4x32x32xf32>, memref<1x4x32xf32>)
        outs(%acc_o, %acc_l : memref<1x4x32x32xf32>, memref<1x4x32xf32>) rows = [0, 32]
    ring.shift_wait %tk
    ring.shift_wait %tv
  }
  ring.stage 1 {
    %src = arith.subi %c1, %c#0 : index
    %is0 = arith.cmpi eq, %c#0, %c0 : index
    scf.if %is0 {
      ring.block_attention ins(%q, %kb, %vb : memref<1x4x32x32xbf16>, memref<1x2x32x32xbf16>, memref<1x2x32x32xbf16>)
          outs(%po, %pl : memref<1x4x32x32xf32>, memref<1x4x32xf32>)
          q_owner(%c#0) kv_owner(%src) q_rows = [16, 16] kv_rows = [0, 32]
          mask<none> layout<zigzag> ring_size = 2 scale = 0.17677669529663687
      ring.merge ins(%po, %pl : memref<1x4x32x32xf32>, memref<1x4x32xf32>)
          outs(%acc_o, %acc_l : memref<1x4x32x32xf32>, memref<1x4x32xf32>) rows = [16, 16]
    } else {
      ring.block_attention ins(%q, %kb, %vb : memref<1x4x32x32xbf16>, memref<1x2x32x32xbf16>, memref<1x2x32x32xbf16>)
          outs(%po, %pl : memref<1x4x32x32xf32>, memref<1x4x32xf32>)
          q_owner(%c#0) kv_owner(%src) q_rows = [0, 32] kv_rows = [0, 16]
          mask<none> layout<zigzag> ring_size = 2 scale = 0.17677669529663687
      ring.merge ins(%po, %pl : memref<1x4x32x32xf32>, memref<1x4x32xf32>)
          outs(%acc_o, %acc_l : memref<1x4x32x32xf32>, memref<1x4x32xf32>) rows = [0, 32]
    }
  }
  ring.finalize ins(%acc_o, %acc_l : memref<1x4x32x32xf32>, memref<1x4x32xf32>)
      outs(%o, %lse : memref<1x4x32x32xbf16>, memref<1x4x32xf32>)
  return
}
