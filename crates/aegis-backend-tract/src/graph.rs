//! tract's optimised plan as an [`OpGraph`]: what aegis-memory's lifetime analysis and arena
//! planner consume.
//!
//! Owns the translation (tensors = the buffers tract allocates for node outputs, sized from
//! tract's facts, with views and in-place results sharing their input's tensor; ops in the
//! plan's evaluation order; constants left out as weights) and the byte count of those
//! constants. It must not know how the graph is planned or how the model is run.

use aegis_context::OpGraph;
use std::collections::HashMap;
use tract_onnx::prelude::{OutletId, TypedModel, TypedSimplePlan};
use tract_onnx::tract_core::ops::binary::{OptBinByScalar, OptBinChain, OptBinUnicast};
use tract_onnx::tract_core::ops::change_axes::IntoShape;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::konst::Const;
use tract_onnx::tract_core::ops::matmul::optimized::{MatMulOperand, OptMatMul, ProtoFusedSpec};

/// The operator sequence tract executes, with tract's name for each operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TractGraph {
    /// Tensors, ops (in tract's evaluation order), graph inputs and outputs.
    pub graph: OpGraph,
    /// tract's operator name of each op of `graph.ops` (same index), e.g. `OptMatMul`.
    pub op_names: Vec<String>,
}

/// The byte size of one node output, from tract's fact (exotic buffers such as packed
/// operands included). `None` when it depends on a value known only at run time.
fn outlet_bytes(model: &TypedModel, outlet: OutletId) -> Option<u64> {
    let fact = model.outlet_fact(outlet).ok()?;
    fact.mem_size().to_i64().ok().and_then(|b| u64::try_from(b).ok())
}

/// Gives `outlet` the next tensor id.
fn add(
    model: &TypedModel,
    ids: &mut HashMap<OutletId, u32>,
    graph: &mut OpGraph,
    outlet: OutletId,
) -> Result<u32, String> {
    let bytes = outlet_bytes(model, outlet).ok_or_else(|| {
        format!(
            "output {} of node {} has a size known only at run time",
            outlet.slot,
            model.node(outlet.node).name
        )
    })?;
    let id = u32::try_from(graph.tensors.len()).map_err(|_| "more than 2^32 tensors")?;
    graph.tensors.push((id, bytes));
    ids.insert(outlet, id);
    Ok(id)
}

/// How an op's output uses memory at run time, relative to its first input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// A fresh buffer.
    Fresh,
    /// A view that keeps its input alive and allocates nothing (`LazyIm2col`: the im2col
    /// matrix is gathered panel by panel while the matmul runs).
    View,
    /// Computed into the input's own buffer when tract holds that input nowhere else
    /// (`Arc::try_unwrap` succeeds): reshapes and same-type element-wise ops.
    InPlaceIfExclusive,
}

fn output_kind(model: &TypedModel, n: usize) -> Output {
    let node = model.node(n);
    // LazyIm2Col's type is private to tract-core: recognised by name.
    if node.op.name() == "LazyIm2col" && node.outputs.len() == 1 {
        return Output::View;
    }
    let same_type = node.inputs.first().is_some_and(|i| {
        model.outlet_fact(*i).ok().map(|f| f.datum_type)
            == node.outputs.first().map(|o| o.fact.datum_type)
    });
    let op = &node.op;
    let in_place = op.downcast_ref::<IntoShape>().is_some()
        || op.downcast_ref::<OptBinByScalar>().is_some()
        || op.downcast_ref::<OptBinUnicast>().is_some()
        || op.downcast_ref::<OptBinChain>().is_some()
        || op.downcast_ref::<ElementWiseOp>().is_some();
    if in_place && same_type && node.outputs.len() == 1 {
        Output::InPlaceIfExclusive
    } else {
        Output::Fresh
    }
}

/// Translates the plan. `Err` names the first tensor whose size is not known before running
/// (a data-dependent shape); such a model has no static graph.
///
/// Tensors are the buffers tract allocates: a node output gets its own tensor unless it is a
/// view on its input or tract computes it in place (see [`Output`]); then it shares its input's
/// tensor id, whose lifetime extends to the output's last reader, and the op lists no output.
/// In-place needs the input to be exclusive: not a graph input (the backend keeps those), not a
/// graph output, read by nothing after this op through any alias, and not read twice by it.
pub(crate) fn tract_graph(plan: &TypedSimplePlan) -> Result<TractGraph, String> {
    let model = plan.model();
    let order: Vec<usize> = plan.order_without_consts().to_vec();
    let inputs = model.input_outlets().map_err(|e| e.to_string())?;
    let outputs = model.output_outlets().map_err(|e| e.to_string())?;
    let step_of: HashMap<usize, usize> = order
        .iter()
        .filter(|n| !inputs.iter().any(|o| o.node == **n))
        .enumerate()
        .map(|(s, n)| (*n, s))
        .collect();
    // The last step reading an outlet (usize::MAX for a graph output).
    let last_read = |o: OutletId| -> usize {
        if outputs.contains(&o) {
            return usize::MAX;
        }
        model.node(o.node).outputs[o.slot]
            .successors
            .iter()
            .filter_map(|s| step_of.get(&s.node).copied())
            .max()
            .unwrap_or(0)
    };
    let mut ids: HashMap<OutletId, u32> = HashMap::new();
    let mut aliases: HashMap<u32, Vec<OutletId>> = HashMap::new();
    let mut graph = OpGraph::default();
    for outlet in inputs {
        let id = add(model, &mut ids, &mut graph, *outlet)?;
        aliases.entry(id).or_default().push(*outlet);
        graph.inputs.push(id);
    }
    let mut op_names = Vec::new();
    for &n in &order {
        if inputs.iter().any(|o| o.node == n) {
            continue;
        }
        let step = step_of[&n];
        let node = model.node(n);
        let mut ins: Vec<u32> = Vec::with_capacity(node.inputs.len());
        for i in &node.inputs {
            // Constants (weights) have no id: they are not activations.
            if let Some(id) = ids.get(i)
                && !ins.contains(id)
            {
                ins.push(*id);
            }
        }
        let shared = node.inputs.first().and_then(|first| {
            let id = *ids.get(first)?;
            let exclusive = || {
                !graph.inputs.contains(&id)
                    && node.inputs.iter().filter(|i| ids.get(i) == Some(&id)).count() == 1
                    && aliases[&id].iter().all(|o| last_read(*o) <= step)
            };
            match output_kind(model, n) {
                Output::View => Some(id),
                Output::InPlaceIfExclusive if exclusive() => Some(id),
                _ => None,
            }
        });
        let mut outs = Vec::with_capacity(node.outputs.len());
        match shared {
            Some(id) => {
                let outlet = OutletId::new(n, 0);
                ids.insert(outlet, id);
                aliases.entry(id).or_default().push(outlet);
            }
            None => {
                for slot in 0..node.outputs.len() {
                    let outlet = OutletId::new(n, slot);
                    let id = add(model, &mut ids, &mut graph, outlet)?;
                    aliases.entry(id).or_default().push(outlet);
                    outs.push(id);
                }
            }
        }
        graph.ops.push((ins, outs));
        op_names.push(node.op.name().to_string());
    }
    for o in outputs {
        if let Some(id) = ids.get(o)
            && !graph.outputs.contains(id)
        {
            graph.outputs.push(*id);
        }
    }
    Ok(TractGraph { graph, op_names })
}

/// Bytes of the plan's constant tensors: the weights as tract holds them after optimisation,
/// at their packed size. They sit in two places: `Const` nodes (packed kernels, biases), and
/// matrix operands that tract's optimiser baked into `OptMatMul` ops (weights of 1x1
/// convolutions and dense layers), which no node output shows.
pub(crate) fn weights_bytes(plan: &TypedSimplePlan) -> u64 {
    let model = plan.model();
    let mut total = 0u64;
    for node in model.nodes() {
        if node.op_is::<Const>() {
            for slot in 0..node.outputs.len() {
                total += outlet_bytes(model, OutletId::new(node.id, slot)).unwrap_or(0);
            }
        } else if let Some(mm) = node.op_as::<OptMatMul>() {
            for spec in &mm.micro_ops {
                if let ProtoFusedSpec::AddMatMul { a, b, .. } = spec {
                    for operand in [a, b] {
                        if let MatMulOperand::Const(v) = operand {
                            total += v
                                .exotic_fact()
                                .mem_size()
                                .to_i64()
                                .ok()
                                .and_then(|b| u64::try_from(b).ok())
                                .unwrap_or(0);
                        }
                    }
                }
            }
        }
    }
    total
}
