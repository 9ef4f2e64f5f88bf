// The whole layer of the Ring Attention paper (Liu, Zaharia, Abbeel 2023),
// with its projections: d_model = 4096 = 32 heads x 128, a 100,000-token
// sequence on a ring of 16 devices, bf16. Each device projects its own
// 6,250 tokens of X into Q, K and V (the full weights: the ring splits
// tokens, not heads), runs the 16-stage ring, and projects O into its
// tokens of Y. With one head group and one dim slice there is nothing to
// reduce: ring.output_all_reduce is a no-op.
shard.grid @ring16(shape = 16)

func.func @ring_attention_paper_layer(%x: tensor<1x100000x4096xbf16>,
                                      %wq: tensor<4096x4096xbf16>,
                                      %wk: tensor<4096x4096xbf16>,
                                      %wv: tensor<4096x4096xbf16>,
                                      %wo: tensor<4096x4096xbf16>)
    -> (tensor<1x100000x4096xbf16>, tensor<1x32x100000xf32>) {
  // X's sequence (dim 1) over grid axis 0: the ring. Weights unsplit.
  %sx = shard.sharding @ring16 split_axes = [[], [0]] : !shard.sharding
  %sw = shard.sharding @ring16 split_axes = [[]] : !shard.sharding
  %x1 = shard.shard %x to %sx : tensor<1x100000x4096xbf16>
  %wq1 = shard.shard %wq to %sw : tensor<4096x4096xbf16>
  %wk1 = shard.shard %wk to %sw : tensor<4096x4096xbf16>
  %wv1 = shard.shard %wv to %sw : tensor<4096x4096xbf16>
  %wo1 = shard.shard %wo to %sw : tensor<4096x4096xbf16>
  %y, %lse = ring.attention_layer %x1, %wq1, %wk1, %wv1, %wo1 heads = 32
      : tensor<1x100000x4096xbf16>, tensor<4096x4096xbf16>,
        tensor<4096x4096xbf16>, tensor<4096x4096xbf16>, tensor<4096x4096xbf16>
      -> tensor<1x100000x4096xbf16>, tensor<1x32x100000xf32>
  return %y, %lse : tensor<1x100000x4096xbf16>, tensor<1x32x100000xf32>
}
