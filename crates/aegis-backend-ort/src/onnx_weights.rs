//! The weight bytes of an ONNX model, read from the file with a minimal protobuf reader.
//!
//! Owns [`weight_bytes`]: the sum, over every tensor the model stores (graph initializers,
//! sparse initializers, tensor-valued node attributes such as `Constant`, and the same inside
//! subgraphs), of `elements × element size` — the bytes the weights occupy once decoded,
//! whatever their encoding in the file (`raw_data`, typed fields, or external data). ONNX
//! Runtime exposes no such figure, hence this reader. It must not know ONNX Runtime; it decodes
//! only the few fields it needs and skips everything else by wire type.
//!
//! Field numbers are those of `onnx.proto` (ONNX IR version 10): `ModelProto.graph` = 7;
//! `GraphProto.node` = 1, `.initializer` = 5, `.sparse_initializer` = 15; `NodeProto.attribute`
//! = 5; `AttributeProto.t` = 5, `.g` = 6, `.tensors` = 10, `.graphs` = 11, `.sparse_tensor` =
//! 22, `.sparse_tensors` = 23; `TensorProto.dims` = 1, `.data_type` = 2, `.string_data` = 6,
//! `.name` = 8; `SparseTensorProto.values` = 1, `.indices` = 2.

/// How deep subgraphs may nest before the file is refused (a guard against hostile input).
const MAX_DEPTH: usize = 32;

/// Why the weights of a model could not be counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum WeightsError {
    /// The bytes are not a well-formed protobuf message.
    #[error("malformed ONNX protobuf: {0}")]
    Malformed(&'static str),
    /// The file holds no graph.
    #[error("the file holds no ONNX graph (ModelProto.graph is missing)")]
    NoGraph,
    /// A tensor's element type is not one ONNX defines.
    #[error("tensor `{name}` has unknown data_type {data_type}")]
    UnknownType {
        /// Tensor name.
        name: String,
        /// The `TensorProto.DataType` value.
        data_type: u64,
    },
    /// A tensor's size does not fit in 64 bits.
    #[error("tensor `{0}` is larger than 2^64 bytes")]
    Overflow(String),
}

/// The decoded size, in bytes, of every weight tensor in the ONNX model `model`.
pub(crate) fn weight_bytes(model: &[u8]) -> Result<u64, WeightsError> {
    let mut graph = None;
    for field in Fields::new(model) {
        let (number, value) = field?;
        if number == 7 {
            graph = Some(value.bytes()?);
        }
    }
    graph_bytes(graph.ok_or(WeightsError::NoGraph)?, 0)
}

fn graph_bytes(graph: &[u8], depth: usize) -> Result<u64, WeightsError> {
    if depth > MAX_DEPTH {
        return Err(WeightsError::Malformed("subgraphs nested too deep"));
    }
    let mut total = 0u64;
    for field in Fields::new(graph) {
        let (number, value) = field?;
        let add = match number {
            1 => node_bytes(value.bytes()?, depth)?,
            5 => tensor_bytes(value.bytes()?)?,
            15 => sparse_bytes(value.bytes()?)?,
            _ => 0,
        };
        total = total.checked_add(add).ok_or(WeightsError::Overflow("graph".into()))?;
    }
    Ok(total)
}

fn node_bytes(node: &[u8], depth: usize) -> Result<u64, WeightsError> {
    let mut total = 0u64;
    for field in Fields::new(node) {
        let (number, value) = field?;
        if number != 5 {
            continue;
        }
        for attr in Fields::new(value.bytes()?) {
            let (number, value) = attr?;
            let add = match number {
                5 | 10 => tensor_bytes(value.bytes()?)?,
                6 | 11 => graph_bytes(value.bytes()?, depth + 1)?,
                22 | 23 => sparse_bytes(value.bytes()?)?,
                _ => 0,
            };
            total = total.checked_add(add).ok_or(WeightsError::Overflow("node".into()))?;
        }
    }
    Ok(total)
}

fn sparse_bytes(sparse: &[u8]) -> Result<u64, WeightsError> {
    let mut total = 0u64;
    for field in Fields::new(sparse) {
        let (number, value) = field?;
        if number == 1 || number == 2 {
            let add = tensor_bytes(value.bytes()?)?;
            total = total.checked_add(add).ok_or(WeightsError::Overflow("sparse".into()))?;
        }
    }
    Ok(total)
}

fn tensor_bytes(tensor: &[u8]) -> Result<u64, WeightsError> {
    let mut elements = 1u64;
    let mut data_type = 0u64;
    let mut name = String::new();
    let mut string_bytes = 0u64;
    let mut overflow = false;
    for field in Fields::new(tensor) {
        let (number, value) = field?;
        match (number, value) {
            (1, Value::Varint(d)) => {
                overflow |= mul(&mut elements, d);
            }
            (1, Value::Bytes(packed)) => {
                let mut r = Reader { buf: packed };
                while !r.buf.is_empty() {
                    overflow |= mul(&mut elements, r.varint()?);
                }
            }
            (2, v) => data_type = v.varint()?,
            (6, v) => string_bytes = string_bytes.saturating_add(v.bytes()?.len() as u64),
            (8, v) => name = String::from_utf8_lossy(v.bytes()?).into_owned(),
            _ => {}
        }
    }
    let overflowed = || WeightsError::Overflow(name.clone());
    if overflow {
        return Err(overflowed());
    }
    // Sizes in bits per element, so the 4-bit types are exact (rounded up to whole bytes).
    let bits: u64 = match data_type {
        // STRING: the bytes actually stored.
        8 => return Ok(string_bytes),
        2 | 3 | 9 | 17..=20 => 8, // UINT8, INT8, BOOL, FLOAT8 variants
        4 | 5 | 10 | 16 => 16,    // UINT16, INT16, FLOAT16, BFLOAT16
        1 | 6 | 12 => 32,         // FLOAT, INT32, UINT32
        7 | 11 | 13 | 14 => 64,   // INT64, DOUBLE, UINT64, COMPLEX64
        15 => 128,                // COMPLEX128
        21..=23 => 4,             // UINT4, INT4, FLOAT4E2M1
        24 => 8,                  // FLOAT8E8M0
        25 | 26 => 2,             // UINT2, INT2
        _ => return Err(WeightsError::UnknownType { name, data_type }),
    };
    let total_bits = elements.checked_mul(bits).ok_or_else(overflowed)?;
    Ok(total_bits.div_ceil(8))
}

/// `*acc *= d`; true on overflow.
fn mul(acc: &mut u64, d: u64) -> bool {
    match acc.checked_mul(d) {
        Some(v) => {
            *acc = v;
            false
        }
        None => true,
    }
}

/// One field value, by wire type.
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    Varint(u64),
    Fixed,
    Bytes(&'a [u8]),
}

impl<'a> Value<'a> {
    fn bytes(self) -> Result<&'a [u8], WeightsError> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err(WeightsError::Malformed("expected a length-delimited field")),
        }
    }

    fn varint(self) -> Result<u64, WeightsError> {
        match self {
            Value::Varint(v) => Ok(v),
            _ => Err(WeightsError::Malformed("expected a varint field")),
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, WeightsError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first().ok_or(WeightsError::Malformed("truncated"))?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(WeightsError::Malformed("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], WeightsError> {
        let n = usize::try_from(n).map_err(|_| WeightsError::Malformed("length too large"))?;
        if n > self.buf.len() {
            return Err(WeightsError::Malformed("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn field(&mut self) -> Result<(u64, Value<'a>), WeightsError> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            _ => return Err(WeightsError::Malformed("unsupported wire type")),
        };
        Ok((key >> 3, value))
    }
}

/// The fields of one message, in order.
struct Fields<'a> {
    reader: Reader<'a>,
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields { reader: Reader { buf }, failed: false }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), WeightsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.buf.is_empty() {
            return None;
        }
        let r = self.reader.field();
        self.failed = r.is_err();
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn len_field(number: u64, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(number << 3 | 2, &mut out);
        varint(body.len() as u64, &mut out);
        out.extend_from_slice(body);
        out
    }

    fn varint_field(number: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(number << 3, &mut out);
        varint(v, &mut out);
        out
    }

    /// A TensorProto with unpacked dims, a type, a name and some raw data.
    fn tensor(dims: &[u64], data_type: u64) -> Vec<u8> {
        let mut t = Vec::new();
        for &d in dims {
            t.extend(varint_field(1, d));
        }
        t.extend(varint_field(2, data_type));
        t.extend(len_field(8, b"w"));
        t.extend(len_field(9, &[0u8; 3])); // raw_data: ignored, the shape decides
        t
    }

    fn model(graph: &[u8]) -> Vec<u8> {
        let mut m = varint_field(1, 10); // ir_version
        m.extend(len_field(7, graph));
        m
    }

    #[test]
    fn counts_initializers_by_shape_and_type() {
        let mut g = len_field(5, &tensor(&[2, 3], 1)); // 6 f32 = 24
        g.extend(len_field(5, &tensor(&[5], 7))); // 5 i64 = 40
        g.extend(len_field(2, b"graph-name"));
        assert_eq!(weight_bytes(&model(&g)), Ok(64));
    }

    #[test]
    fn packed_dims_and_small_types() {
        let mut packed = Vec::new();
        for d in [3u64, 300] {
            varint(d, &mut packed);
        }
        let mut t = len_field(1, &packed);
        t.extend(varint_field(2, 22)); // INT4: 900 elements = 450 bytes
        let mut t3 = tensor(&[3], 21); // UINT4: 3 elements → 2 bytes (rounded up)
        t3.extend(varint_field(99, 1)); // unknown field skipped
        let mut g = len_field(5, &t);
        g.extend(len_field(5, &t3));
        g.extend(len_field(5, &tensor(&[4], 10))); // f16: 8
        assert_eq!(weight_bytes(&model(&g)), Ok(450 + 2 + 8));
    }

    #[test]
    fn constants_sparse_and_subgraphs_count() {
        // Constant node: attribute t (f64 scalar: no dims → 1 element = 8 bytes).
        let attr = len_field(5, &tensor(&[], 11));
        let node = len_field(5, &attr);
        // If node: attribute g = subgraph with one initializer of 4 u8.
        let sub = len_field(5, &tensor(&[4], 2));
        let if_node = len_field(5, &len_field(6, &sub));
        // Sparse initializer: values 3 f32 (12) + indices 3 i64 (24).
        let mut sparse = len_field(1, &tensor(&[3], 1));
        sparse.extend(len_field(2, &tensor(&[3], 7)));
        let mut g = len_field(1, &node);
        g.extend(len_field(1, &if_node));
        g.extend(len_field(15, &sparse));
        assert_eq!(weight_bytes(&model(&g)), Ok(8 + 4 + 36));
    }

    #[test]
    fn strings_count_their_stored_bytes() {
        let mut t = varint_field(1, 2);
        t.extend(varint_field(2, 8));
        t.extend(len_field(6, b"abc"));
        t.extend(len_field(6, b"de"));
        assert_eq!(weight_bytes(&model(&len_field(5, &t))), Ok(5));
    }

    #[test]
    fn fixed_width_fields_are_skipped() {
        let mut g = vec![(3 << 3) | 1];
        g.extend([0u8; 8]);
        g.push((4 << 3) | 5);
        g.extend([0u8; 4]);
        g.extend(len_field(5, &tensor(&[1], 1)));
        assert_eq!(weight_bytes(&model(&g)), Ok(4));
    }

    #[test]
    fn errors_are_typed() {
        assert_eq!(weight_bytes(&varint_field(1, 3)), Err(WeightsError::NoGraph));
        assert_eq!(weight_bytes(&[0x3a, 0x05, 1]), Err(WeightsError::Malformed("truncated")));
        assert_eq!(
            weight_bytes(&[(1 << 3) | 3]),
            Err(WeightsError::Malformed("unsupported wire type"))
        );
        assert_eq!(
            weight_bytes(&[0xff; 11]),
            Err(WeightsError::Malformed("varint longer than 10 bytes"))
        );
        let bad_type = model(&len_field(5, &tensor(&[1], 99)));
        assert_eq!(
            weight_bytes(&bad_type),
            Err(WeightsError::UnknownType { name: "w".into(), data_type: 99 })
        );
        let huge = model(&len_field(5, &tensor(&[u64::MAX, 2], 1)));
        assert_eq!(weight_bytes(&huge), Err(WeightsError::Overflow("w".into())));
        let huge_bits = model(&len_field(5, &tensor(&[u64::MAX / 4], 1)));
        assert_eq!(weight_bytes(&huge_bits), Err(WeightsError::Overflow("w".into())));
        // graph field that is a varint instead of a message
        assert_eq!(
            weight_bytes(&varint_field(7, 1)),
            Err(WeightsError::Malformed("expected a length-delimited field"))
        );
        // data_type given as a message
        let mut t = varint_field(1, 1);
        t.extend(len_field(2, b"x"));
        assert_eq!(
            weight_bytes(&model(&len_field(5, &t))),
            Err(WeightsError::Malformed("expected a varint field"))
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut g = len_field(5, &tensor(&[1], 1));
        for _ in 0..=MAX_DEPTH {
            g = len_field(1, &len_field(5, &len_field(6, &g)));
        }
        assert_eq!(
            weight_bytes(&model(&g)),
            Err(WeightsError::Malformed("subgraphs nested too deep"))
        );
    }
}
