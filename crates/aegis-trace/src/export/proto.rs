//! A minimal protocol-buffers wire-format encoder (and a decoder used to check its output).
//!
//! Owns varints, field keys and length-delimited nesting: just what the Perfetto exporter
//! needs, so the crate carries no protobuf code generator. It must not know any message schema.

/// Appends protobuf-encoded fields to a byte buffer.
#[derive(Default)]
pub(crate) struct ProtoWriter {
    buf: Vec<u8>,
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;

impl ProtoWriter {
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }

    /// `uint32`/`uint64`/`enum`/`bool` field.
    pub(crate) fn uint(&mut self, field: u32, v: u64) {
        self.key(field, VARINT);
        self.varint(v);
    }

    /// `fixed64` field.
    pub(crate) fn fixed64(&mut self, field: u32, v: u64) {
        self.key(field, FIXED64);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// `string`/`bytes` field.
    pub(crate) fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, LEN);
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    /// `string` field.
    pub(crate) fn string(&mut self, field: u32, s: &str) {
        self.bytes(field, s.as_bytes());
    }

    /// Embedded message field, written by `body`.
    pub(crate) fn message(&mut self, field: u32, body: impl FnOnce(&mut ProtoWriter)) {
        let mut inner = ProtoWriter::default();
        body(&mut inner);
        self.bytes(field, &inner.buf);
    }
}

/// A decoded field value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtoValue {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2 (string, bytes or embedded message).
    Bytes(Vec<u8>),
    /// Wire type 5.
    Fixed32(u32),
}

/// A decoded field: number and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoField {
    /// Field number.
    pub number: u32,
    /// Value.
    pub value: ProtoValue,
}

fn read_varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

/// Splits one protobuf message into its top-level fields, or `None` if it is malformed.
pub fn decode_message(b: &[u8]) -> Option<Vec<ProtoField>> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < b.len() {
        let key = read_varint(b, &mut pos)?;
        let number = u32::try_from(key >> 3).ok()?;
        let value = match key & 7 {
            0 => ProtoValue::Varint(read_varint(b, &mut pos)?),
            1 => {
                let s = b.get(pos..pos + 8)?;
                pos += 8;
                ProtoValue::Fixed64(u64::from_le_bytes(s.try_into().ok()?))
            }
            2 => {
                let len = usize::try_from(read_varint(b, &mut pos)?).ok()?;
                let s = b.get(pos..pos.checked_add(len)?)?;
                pos += len;
                ProtoValue::Bytes(s.to_vec())
            }
            5 => {
                let s = b.get(pos..pos + 4)?;
                pos += 4;
                ProtoValue::Fixed32(u32::from_le_bytes(s.try_into().ok()?))
            }
            _ => return None,
        };
        out.push(ProtoField { number, value });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_known_wire_bytes() {
        // Examples from the protobuf encoding guide: field 1 = 150 -> 08 96 01.
        let mut w = ProtoWriter::default();
        w.uint(1, 150);
        assert_eq!(w.into_bytes(), vec![0x08, 0x96, 0x01]);
        // field 2 = "testing" -> 12 07 74 65 73 74 69 6e 67
        let mut w = ProtoWriter::default();
        w.string(2, "testing");
        assert_eq!(w.into_bytes(), b"\x12\x07testing".to_vec());
        // field 3 = embedded { field 1 = 150 } -> 1a 03 08 96 01
        let mut w = ProtoWriter::default();
        w.message(3, |m| m.uint(1, 150));
        assert_eq!(w.into_bytes(), vec![0x1a, 0x03, 0x08, 0x96, 0x01]);
    }

    #[test]
    fn round_trips_every_wire_type() {
        let mut w = ProtoWriter::default();
        w.uint(1, u64::MAX);
        w.uint(2, -1i64 as u64); // int64 -1
        w.fixed64(47, 0xdead_beef);
        w.string(23, "slice");
        let bytes = w.into_bytes();
        let f = decode_message(&bytes).unwrap();
        assert_eq!(f[0], ProtoField { number: 1, value: ProtoValue::Varint(u64::MAX) });
        assert_eq!(f[1].value, ProtoValue::Varint(u64::MAX), "-1 is ten 0xff.. bytes");
        assert_eq!(f[2], ProtoField { number: 47, value: ProtoValue::Fixed64(0xdead_beef) });
        assert_eq!(f[3].value, ProtoValue::Bytes(b"slice".to_vec()));
        assert_eq!(decode_message(&[0x0d, 1, 0, 0, 0]).unwrap()[0].value, ProtoValue::Fixed32(1));
    }

    #[test]
    fn malformed_input_is_rejected() {
        assert!(decode_message(&[0x12, 0x05, b'a']).is_none(), "length past the end");
        assert!(decode_message(&[0x08]).is_none(), "missing varint");
        assert!(decode_message(&[0x0b]).is_none(), "group wire type");
        assert!(decode_message(&[0x09, 1, 2]).is_none(), "short fixed64");
        assert!(decode_message(&[0xff; 11]).is_none(), "varint too long");
        assert_eq!(decode_message(&[]).unwrap(), vec![]);
    }
}
