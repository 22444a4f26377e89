//! `LifetimeAnalyzer`: conventions of the lifetime files, and every malformed sequence.

use aegis_memory::{LifetimeAnalyzer, MemoryError, Op, OpSequence, TensorId, TensorInfo};

fn analyze(seq: &OpSequence) -> Result<Vec<(u32, u32, u32, u64)>, MemoryError> {
    Ok(LifetimeAnalyzer::new("m")
        .analyze(seq)?
        .into_iter()
        .map(|l| (l.tensor.0, l.first, l.last, l.size))
        .collect())
}

/// input(0) -> op0 -> a(1) -> op1 -> b(2); op1 also writes dead(3); op2 reads a and b -> out(4).
fn diamond() -> OpSequence {
    let mut s = OpSequence::new();
    let input = s.add_tensor(10);
    let a = s.add_tensor(20);
    let b = s.add_tensor(30);
    let dead = s.add_tensor(40);
    let out = s.add_tensor(50);
    s.graph_inputs.push(input);
    s.push_op(Op::new([input], [a]).kind("Conv"));
    s.push_op(Op::new([a], [b, dead]).kind("Split"));
    s.push_op(Op::new([a, b], [out]).kind("Add"));
    s.graph_outputs.push(out);
    s
}

#[test]
fn lifetimes_follow_the_file_conventions() {
    let got = analyze(&diamond()).unwrap();
    assert_eq!(
        got,
        vec![
            (0, 0, 0, 10), // graph input: first 0, last = its last reader
            (1, 0, 2, 20), // produced by op 0, last read by op 2
            (2, 1, 2, 30),
            (3, 1, 1, 40), // nobody reads it: last = first
            (4, 2, 2, 50), // graph output: last = num_ops - 1
        ]
    );
}

#[test]
fn graph_outputs_live_to_the_last_step_and_unread_inputs_only_step_zero() {
    let mut s = OpSequence::new();
    let x = s.add_tensor(1);
    let unused = s.add_tensor(2);
    let early = s.add_tensor(3);
    let late = s.add_tensor(4);
    s.graph_inputs.extend([x, unused]);
    s.push_op(Op::new([x], [early]));
    s.push_op(Op::new([early], [late]));
    s.push_op(Op::new([late], []));
    s.graph_outputs.extend([early, x]);
    let got = analyze(&s).unwrap();
    assert_eq!(got, vec![(0, 0, 2, 1), (1, 0, 0, 2), (2, 0, 2, 3), (3, 1, 2, 4)]);
}

#[test]
fn lifetimes_carry_the_owner_model_and_explicit_tensor_infos() {
    let mut s = OpSequence::new();
    s.tensors.push(TensorInfo::new(TensorId(7), 64).named("in"));
    s.tensors.push(TensorInfo::new(TensorId(9), 8).non_float());
    s.graph_inputs.push(TensorId(7));
    s.push_op(Op::new([TensorId(7)], [TensorId(9)]).kind("ArgMax"));
    s.graph_outputs.push(TensorId(9));
    assert_eq!(s.num_ops(), 1);
    assert!(!s.tensors[1].is_float);
    assert_eq!(s.tensors[0].name.as_deref(), Some("in"));
    let l = LifetimeAnalyzer::new("classifier").analyze(&s).unwrap();
    assert_eq!(l[1].owner_model.as_str(), "classifier");
    assert_eq!((l[1].tensor, l[1].first, l[1].last), (TensorId(9), 0, 0));
    assert!(l[0].overlaps(&l[1]));
}

#[test]
fn overlap_is_inclusive_on_both_ends() {
    let mut s = diamond();
    s.graph_outputs.clear();
    let l = LifetimeAnalyzer::new("m").analyze(&s).unwrap();
    assert!(l[0].overlaps(&l[1])); // share step 0
    assert!(l[2].overlaps(&l[4])); // share step 2
    assert!(!l[3].overlaps(&l[4])); // 1..1 vs 2..2
    assert!(!l[0].overlaps(&l[2]));
}

#[test]
fn empty_sequence_is_rejected() {
    let err = analyze(&OpSequence::new()).unwrap_err();
    assert!(matches!(err, MemoryError::EmptyGraph), "{err}");
    assert!(err.to_string().contains("at least one op"));
}

#[test]
fn duplicate_declaration_is_rejected() {
    let mut s = diamond();
    s.tensors.push(TensorInfo::new(TensorId(2), 1));
    let err = analyze(&s).unwrap_err();
    assert!(matches!(err, MemoryError::DuplicateTensor { tensor: TensorId(2) }), "{err}");
}

#[test]
fn unknown_ids_are_rejected_with_their_place() {
    let mut s = diamond();
    s.ops[1].inputs.push(TensorId(99));
    let err = analyze(&s).unwrap_err();
    assert!(
        matches!(&err, MemoryError::UnknownTensor { tensor: TensorId(99), place } if place == "op 1 input"),
        "{err}"
    );

    let mut s = diamond();
    s.ops[0].outputs.push(TensorId(98));
    let err = analyze(&s).unwrap_err();
    assert!(matches!(&err, MemoryError::UnknownTensor { place, .. } if place == "op 0 output"));

    let mut s = diamond();
    s.graph_inputs.push(TensorId(97));
    let err = analyze(&s).unwrap_err();
    assert!(matches!(&err, MemoryError::UnknownTensor { place, .. } if place == "graph input"));

    let mut s = diamond();
    s.graph_outputs.push(TensorId(96));
    let err = analyze(&s).unwrap_err();
    assert!(matches!(&err, MemoryError::UnknownTensor { place, .. } if place == "graph output"));
    assert!(err.to_string().contains("#96"), "{err}");
}

#[test]
fn reading_before_production_is_rejected() {
    // op 0 reads b, which op 1 produces.
    let mut s = diamond();
    s.ops[0].inputs.push(TensorId(2));
    let err = analyze(&s).unwrap_err();
    assert!(matches!(err, MemoryError::UsedBeforeProduced { op: 0, tensor: TensorId(2) }), "{err}");
    // An op reading its own output.
    let mut s = diamond();
    s.ops[2].inputs.push(TensorId(4));
    let err = analyze(&s).unwrap_err();
    assert!(matches!(err, MemoryError::UsedBeforeProduced { op: 2, tensor: TensorId(4) }));
    // A declared tensor nobody produces, read by an op.
    let mut s = diamond();
    let orphan = s.add_tensor(5);
    s.ops[2].inputs.push(orphan);
    assert!(matches!(analyze(&s).unwrap_err(), MemoryError::UsedBeforeProduced { .. }));
}

#[test]
fn two_producers_are_rejected() {
    let mut s = diamond();
    s.ops[2].outputs.push(TensorId(1));
    let err = analyze(&s).unwrap_err();
    assert!(
        matches!(&err, MemoryError::ProducedTwice { tensor: TensorId(1), first, second } if first == "op 0" && second == "op 2"),
        "{err}"
    );
    let mut s = diamond();
    s.graph_inputs.push(TensorId(1));
    let err = analyze(&s).unwrap_err();
    assert!(matches!(&err, MemoryError::ProducedTwice { first, .. } if first == "graph input"));
}

#[test]
fn declared_but_never_produced_is_rejected() {
    let mut s = diamond();
    s.add_tensor(5);
    let err = analyze(&s).unwrap_err();
    assert!(matches!(err, MemoryError::NeverProduced { tensor: TensorId(5) }), "{err}");
}
