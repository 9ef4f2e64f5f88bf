// The whole layer of the two-level head-partitioning paper, as it states
// it: d_model = 4096 = 32 heads x 128, a 10,000-token sequence on n x m =
// 16 devices, n = 4 head groups times m = 4 slices of each head's
// dimension. The m x n partitions are partitions of the projection
// weights: each device holds the W_q, W_k, W_v columns of its 8 heads and
// its 32 of each head's 128 dims (and the matching rows of W_o), 1/16 of
// the weights, and projects Q, K, V for that slice only. Partial scores
// are all-reduced over the 4 dim slices before the softmax; the partial
// output projections are all-reduced over all 16 devices into Y.
shard.grid @heads4x4(shape = 4x4)

func.func @two_level_paper_layer(%x: tensor<1x10000x4096xbf16>,
                                 %wq: tensor<4096x4096xbf16>,
                                 %wk: tensor<4096x4096xbf16>,
                                 %wv: tensor<4096x4096xbf16>,
                                 %wo: tensor<4096x4096xbf16>)
    -> (tensor<1x10000x4096xbf16>, tensor<1x32x10000xf32>) {
  // X is not split (no ring). The weights' head-major columns split over
  // [axis 0 (head groups), axis 1 (dim slices)]; W_o's rows the same way.
  %sx = shard.sharding @heads4x4 split_axes = [[]] : !shard.sharding
  %sw = shard.sharding @heads4x4 split_axes = [[], [0, 1]] : !shard.sharding
  %so = shard.sharding @heads4x4 split_axes = [[0, 1]] : !shard.sharding
  %x1 = shard.shard %x to %sx : tensor<1x10000x4096xbf16>
  %wq1 = shard.shard %wq to %sw : tensor<4096x4096xbf16>
  %wk1 = shard.shard %wk to %sw : tensor<4096x4096xbf16>
  %wv1 = shard.shard %wv to %sw : tensor<4096x4096xbf16>
  %wo1 = shard.shard %wo to %so : tensor<4096x4096xbf16>
  %y, %lse = ring.attention_layer %x1, %wq1, %wk1, %wv1, %wo1 heads = 32
      : tensor<1x10000x4096xbf16>, tensor<4096x4096xbf16>,
        tensor<4096x4096xbf16>, tensor<4096x4096xbf16>, tensor<4096x4096xbf16>
      -> tensor<1x10000x4096xbf16>, tensor<1x32x10000xf32>
  return %y, %lse : tensor<1x10000x4096xbf16>, tensor<1x32x10000xf32>
}
