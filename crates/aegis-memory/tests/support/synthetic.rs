//! Synthetic operator sequences shaped like ConvNeXt and EfficientNetV2 as the TorchScript ONNX
//! exporter (opset 17) lays them out: the same op decomposition as the real lifetime files
//! (SiLU = Sigmoid + Mul, GELU = Div, Erf, Add, Mul, Mul; Linear on 4-D = MatMul + Add;
//! LayerNorm2d = Transpose, LayerNormalization, Transpose), batch 1, fp32 activations.
//!
//! Shared by the tests and the planner benchmark (`#[path]`-included), so not every helper is
//! used by every includer.
#![allow(dead_code)]

use aegis_memory::{LifetimeAnalyzer, Op, OpSequence, TensorId, TensorLifetime};

/// Builds an [`OpSequence`] op by op; a "value" is a tensor with its shape (c, h, w).
pub(crate) struct Builder {
    seq: OpSequence,
}

/// A tensor of the graph being built with its activation shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Val {
    pub(crate) id: TensorId,
    pub(crate) c: u64,
    pub(crate) h: u64,
    pub(crate) w: u64,
}

impl Val {
    pub(crate) fn bytes(&self) -> u64 {
        self.c * self.h * self.w * 4
    }
}

impl Builder {
    pub(crate) fn new() -> Self {
        Builder { seq: OpSequence::new() }
    }

    pub(crate) fn input(&mut self, c: u64, h: u64, w: u64) -> Val {
        let id = self.seq.add_tensor(c * h * w * 4);
        self.seq.graph_inputs.push(id);
        Val { id, c, h, w }
    }

    /// One op reading `inputs` and producing one tensor of shape (c, h, w).
    pub(crate) fn op(&mut self, kind: &str, inputs: &[Val], c: u64, h: u64, w: u64) -> Val {
        let id = self.seq.add_tensor(c * h * w * 4);
        self.seq
            .push_op(Op::new(inputs.iter().map(|v| v.id).collect::<Vec<_>>(), vec![id]).kind(kind));
        Val { id, c, h, w }
    }

    /// An op whose output has the input's shape.
    pub(crate) fn same(&mut self, kind: &str, inputs: &[Val]) -> Val {
        let v = inputs[0];
        self.op(kind, inputs, v.c, v.h, v.w)
    }

    pub(crate) fn conv(&mut self, x: Val, c: u64, stride: u64) -> Val {
        self.op("Conv", &[x], c, x.h.div_ceil(stride), x.w.div_ceil(stride))
    }

    pub(crate) fn silu(&mut self, x: Val) -> Val {
        let s = self.same("Sigmoid", &[x]);
        self.same("Mul", &[x, s])
    }

    pub(crate) fn gelu(&mut self, x: Val) -> Val {
        let d = self.same("Div", &[x]);
        let e = self.same("Erf", &[d]);
        let a = self.same("Add", &[e]);
        let m = self.same("Mul", &[x, a]);
        self.same("Mul", &[m])
    }

    pub(crate) fn layer_norm_2d(&mut self, x: Val) -> Val {
        let t = self.same("Transpose", &[x]);
        let n = self.same("LayerNormalization", &[t]);
        self.same("Transpose", &[n])
    }

    pub(crate) fn finish(mut self, outputs: &[Val]) -> OpSequence {
        self.seq.graph_outputs = outputs.iter().map(|v| v.id).collect();
        self.seq
    }
}

/// torchvision `convnext_*`: stem, four stages of CNBlocks with downsampling in between.
pub(crate) fn convnext(resolution: u64, dims: [u64; 4], depths: [usize; 4]) -> OpSequence {
    let mut b = Builder::new();
    let input = b.input(3, resolution, resolution);
    let mut x = b.conv(input, dims[0], 4);
    x = b.layer_norm_2d(x);
    for (stage, (&dim, &depth)) in dims.iter().zip(&depths).enumerate() {
        if stage > 0 {
            x = b.layer_norm_2d(x);
            x = b.conv(x, dim, 2);
        }
        for _ in 0..depth {
            let dw = b.conv(x, dim, 1);
            let t = b.same("Transpose", &[dw]);
            let n = b.same("LayerNormalization", &[t]);
            let up = b.op("MatMul", &[n], 4 * dim, x.h, x.w);
            let up = b.same("Add", &[up]);
            let g = b.gelu(up);
            let down = b.op("MatMul", &[g], dim, x.h, x.w);
            let down = b.same("Add", &[down]);
            let back = b.same("Transpose", &[down]);
            let scaled = b.same("Mul", &[back]);
            x = b.same("Add", &[scaled, x]);
        }
    }
    let pooled = b.op("GlobalAveragePool", &[x], x.c, 1, 1);
    let n = b.layer_norm_2d(pooled);
    let flat = b.same("Flatten", &[n]);
    let logits = b.op("Gemm", &[flat], 1000, 1, 1);
    b.finish(&[logits])
}

/// ConvNeXt-T at `resolution`.
pub(crate) fn convnext_tiny(resolution: u64) -> OpSequence {
    convnext(resolution, [96, 192, 384, 768], [3, 3, 9, 3])
}

/// One EfficientNetV2 stage: (fused, expand ratio, stride, output channels, layers).
pub(crate) type V2Stage = (bool, u64, u64, u64, usize);

/// torchvision `efficientnet_v2_s` stages.
pub(crate) const V2_S: [V2Stage; 6] = [
    (true, 1, 1, 24, 2),
    (true, 4, 2, 48, 4),
    (true, 4, 2, 64, 4),
    (false, 4, 2, 128, 6),
    (false, 6, 1, 160, 9),
    (false, 6, 2, 256, 15),
];

/// torchvision `efficientnet_v2_*`: stem, fused-MBConv and MBConv (with squeeze-excitation)
/// stages, head.
pub(crate) fn efficientnet_v2(resolution: u64, stages: &[V2Stage]) -> OpSequence {
    let mut b = Builder::new();
    let input = b.input(3, resolution, resolution);
    let stem_c = stages[0].3;
    let mut x = b.conv(input, stem_c, 2);
    x = b.silu(x);
    for &(fused, expand, stride, out_c, layers) in stages {
        for layer in 0..layers {
            let s = if layer == 0 { stride } else { 1 };
            let in_c = x.c;
            let residual = s == 1 && in_c == out_c;
            let y = if fused {
                if expand == 1 {
                    let c = b.conv(x, out_c, s);
                    b.silu(c)
                } else {
                    let e = b.conv(x, in_c * expand, s);
                    let e = b.silu(e);
                    b.conv(e, out_c, 1)
                }
            } else {
                let e = b.conv(x, in_c * expand, 1);
                let e = b.silu(e);
                let d = b.conv(e, in_c * expand, s);
                let d = b.silu(d);
                let p = b.op("GlobalAveragePool", &[d], d.c, 1, 1);
                let sq = b.conv(p, (in_c / 4).max(1), 1);
                let sq = b.silu(sq);
                let ex = b.conv(sq, d.c, 1);
                let ex = b.same("Sigmoid", &[ex]);
                let scaled = b.same("Mul", &[d, ex]);
                b.conv(scaled, out_c, 1)
            };
            x = if residual { b.same("Add", &[y, x]) } else { y };
        }
    }
    let h = b.conv(x, 1280, 1);
    let h = b.silu(h);
    let pooled = b.op("GlobalAveragePool", &[h], 1280, 1, 1);
    let flat = b.same("Flatten", &[pooled]);
    let logits = b.op("Gemm", &[flat], 1000, 1, 1);
    b.finish(&[logits])
}

/// EfficientNetV2-S at `resolution`.
pub(crate) fn efficientnet_v2_s(resolution: u64) -> OpSequence {
    efficientnet_v2(resolution, &V2_S)
}

/// A long residual chain of about `tensors` tensors mixing inverted bottlenecks of expansion
/// 4 and 6 and plain residual blocks at four resolutions (for planning-time measurements).
pub(crate) fn large_mixed(tensors: usize) -> OpSequence {
    let mut b = Builder::new();
    let mut x = b.input(32, 112, 112);
    let mut count = 1;
    let mut i = 0u64;
    while count < tensors {
        let stage = (i / 12) % 4;
        let (c, hw) = (32 << stage, 112 >> stage);
        if x.c != c || x.h != hw {
            x = b.op("Conv", &[x], c, hw, hw);
            count += 1;
        }
        let expand = if i.is_multiple_of(2) { 4 } else { 6 };
        let e = b.conv(x, c * expand, 1);
        let e = b.silu(e);
        let d = b.conv(e, c * expand, 1);
        let d = b.silu(d);
        let p = b.conv(d, c, 1);
        x = b.same("Add", &[p, x]);
        count += 7;
        i += 1;
    }
    let logits = b.op("Gemm", &[x], 1000, 1, 1);
    b.finish(&[logits])
}

/// The lifetimes of `seq` owned by `model`.
pub(crate) fn lifetimes(model: &str, seq: &OpSequence) -> Vec<TensorLifetime> {
    LifetimeAnalyzer::new(model).analyze(seq).expect("synthetic graphs are well formed")
}
