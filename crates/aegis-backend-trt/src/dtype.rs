//! Host-side conversion between the runtime's `f32` tensors and an engine's I/O element types.
//!
//! Owns encoding `f32` values into the bytes a tensor of a given [`DataType`] holds (refusing
//! values the type cannot represent, by index) and decoding them back, including IEEE half and
//! bfloat16 with round-to-nearest-even. It must not know tensors, shapes or buffers.

use crate::tensor::DataType;

/// Why one value cannot be encoded.
#[derive(Debug, PartialEq)]
pub(crate) struct EncodeError {
    /// Element index.
    pub(crate) index: usize,
    /// The value.
    pub(crate) value: f32,
    /// What the type needs.
    pub(crate) needs: &'static str,
}

/// IEEE 754 half bits of `x`, rounded to nearest, ties to even (overflow gives infinity).
pub(crate) fn f32_to_f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x007f_ffff;
    if exp == 0xff {
        // Infinity stays infinity; NaN stays a (quiet) NaN.
        let nan = if man != 0 { 0x0200 | (man >> 13) as u16 } else { 0 };
        return sign | 0x7c00 | nan;
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = man | 0x0080_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let rem = m & ((1u32 << shift) - 1);
        let mut r = m >> shift;
        if rem > half || (rem == half && r & 1 == 1) {
            r += 1;
        }
        return sign | r as u16;
    }
    let mut r = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    if rem > 0x1000 || (rem == 0x1000 && r & 1 == 1) {
        // A carry into the exponent is right, up to and including infinity.
        r += 1;
    }
    sign | r as u16
}

/// The `f32` value of IEEE 754 half bits (exact).
pub(crate) fn f16_bits_to_f32(h: u16) -> f32 {
    let negative = h & 0x8000 != 0;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x03ff);
    let sign = u32::from(negative) << 31;
    match exp {
        0 => {
            let v = man as f32 * f32::from_bits(0x3380_0000); // man * 2^-24, exact
            if negative { -v } else { v }
        }
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (man << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (man << 13)),
    }
}

/// bfloat16 bits of `x`, rounded to nearest, ties to even.
pub(crate) fn f32_to_bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) as u16) | 0x0040;
    }
    let rounded = b.wrapping_add(0x7fff + ((b >> 16) & 1));
    (rounded >> 16) as u16
}

/// The `f32` value of bfloat16 bits (exact).
pub(crate) fn bf16_bits_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

fn integral(
    index: usize,
    value: f32,
    lo: f64,
    hi_exclusive: f64,
    needs: &'static str,
) -> Result<f64, EncodeError> {
    let v = f64::from(value);
    if !value.is_finite() || v.fract() != 0.0 || v < lo || v >= hi_exclusive {
        return Err(EncodeError { index, value, needs });
    }
    Ok(v)
}

/// The bytes (native endianness, as the device reads them) of `values` as `dtype`.
///
/// # Errors
/// The first value the type cannot represent (integer types need integral values in range;
/// `Bool` needs 0 or 1), or index 0 with `needs` saying the type is not converted here.
pub(crate) fn encode(dtype: DataType, values: &[f32]) -> Result<Vec<u8>, EncodeError> {
    let width = dtype.host_bytes().ok_or(EncodeError {
        index: 0,
        value: values.first().copied().unwrap_or(0.0),
        needs: "a type converted on the host",
    })?;
    let mut out = Vec::with_capacity(values.len() * width as usize);
    for (i, &x) in values.iter().enumerate() {
        match dtype {
            DataType::Float => out.extend_from_slice(&x.to_ne_bytes()),
            DataType::Half => out.extend_from_slice(&f32_to_f16_bits(x).to_ne_bytes()),
            DataType::BFloat16 => out.extend_from_slice(&f32_to_bf16_bits(x).to_ne_bytes()),
            DataType::Int8 => {
                let v = integral(i, x, -128.0, 128.0, "an integer in -128..=127")?;
                out.extend_from_slice(&(v as i8).to_ne_bytes());
            }
            DataType::Uint8 => {
                let v = integral(i, x, 0.0, 256.0, "an integer in 0..=255")?;
                out.push(v as u8);
            }
            DataType::Bool => {
                let v = integral(i, x, 0.0, 2.0, "0 or 1")?;
                out.push(v as u8);
            }
            DataType::Int32 => {
                let v =
                    integral(i, x, -2_147_483_648.0, 2_147_483_648.0, "an integer in i32 range")?;
                out.extend_from_slice(&(v as i32).to_ne_bytes());
            }
            DataType::Int64 => {
                let lim = 9_223_372_036_854_775_808.0;
                let v = integral(i, x, -lim, lim, "an integer in i64 range")?;
                out.extend_from_slice(&(v as i64).to_ne_bytes());
            }
            _ => {
                return Err(EncodeError {
                    index: i,
                    value: x,
                    needs: "a type converted on the host",
                });
            }
        }
    }
    Ok(out)
}

/// The `f32` values of `bytes` holding `dtype` elements (INT64 beyond 2^24 loses precision);
/// empty for types not converted here.
pub(crate) fn decode(dtype: DataType, bytes: &[u8]) -> Vec<f32> {
    fn chunks<const N: usize>(b: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
        b.chunks_exact(N).map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            a
        })
    }
    match dtype {
        DataType::Float => chunks::<4>(bytes).map(f32::from_ne_bytes).collect(),
        DataType::Half => {
            chunks::<2>(bytes).map(|c| f16_bits_to_f32(u16::from_ne_bytes(c))).collect()
        }
        DataType::BFloat16 => {
            chunks::<2>(bytes).map(|c| bf16_bits_to_f32(u16::from_ne_bytes(c))).collect()
        }
        DataType::Int8 => bytes.iter().map(|b| f32::from(*b as i8)).collect(),
        DataType::Uint8 | DataType::Bool => bytes.iter().map(|b| f32::from(*b)).collect(),
        DataType::Int32 => chunks::<4>(bytes).map(|c| i32::from_ne_bytes(c) as f32).collect(),
        DataType::Int64 => chunks::<8>(bytes).map(|c| i64::from_ne_bytes(c) as f32).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn half_known_values() {
        let cases: &[(f32, u16)] = &[
            (0.0, 0x0000),
            (-0.0, 0x8000),
            (1.0, 0x3c00),
            (-2.0, 0xc000),
            (0.5, 0x3800),
            (65504.0, 0x7bff),
            (65520.0, 0x7c00), // halfway to 65536: ties to even, which overflows to infinity
            (1e9, 0x7c00),
            (f32::INFINITY, 0x7c00),
            (f32::NEG_INFINITY, 0xfc00),
            (2f32.powi(-24), 0x0001),
            (2f32.powi(-25), 0x0000), // halfway to the smallest subnormal: to even (0)
            (1.5 * 2f32.powi(-25), 0x0001), // above halfway
            (3.0 * 2f32.powi(-25), 0x0002), // 1.5 ulp: ties to even (2)
            (2f32.powi(-14), 0x0400), // smallest normal
            (0.1, 0x2e66),
            (1.0 + 2f32.powi(-11), 0x3c00), // halfway between 1 and next: to even
            (1.0 + 3.0 * 2f32.powi(-11), 0x3c02),
        ];
        for &(x, h) in cases {
            assert_eq!(f32_to_f16_bits(x), h, "{x:e}");
        }
        assert!(f16_bits_to_f32(f32_to_f16_bits(f32::NAN)).is_nan());
        assert_eq!(f16_bits_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_bits_to_f32(0x8001), -(2f32.powi(-24)));
        assert_eq!(f16_bits_to_f32(0xfc00), f32::NEG_INFINITY);
    }

    #[test]
    fn every_half_round_trips() {
        for h in 0..=u16::MAX {
            let x = f16_bits_to_f32(h);
            if x.is_nan() {
                assert_eq!(h & 0x7c00, 0x7c00);
                assert!(f16_bits_to_f32(f32_to_f16_bits(x)).is_nan());
            } else {
                assert_eq!(f32_to_f16_bits(x), h, "{h:#06x} -> {x:e}");
            }
        }
    }

    #[test]
    fn bfloat16_rounds_to_nearest_even() {
        assert_eq!(f32_to_bf16_bits(1.0), 0x3f80);
        assert_eq!(bf16_bits_to_f32(0x3f80), 1.0);
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: to even (1.0).
        assert_eq!(f32_to_bf16_bits(1.0 + 2f32.powi(-8)), 0x3f80);
        assert_eq!(f32_to_bf16_bits(1.0 + 3.0 * 2f32.powi(-8)), 0x3f82);
        assert!(bf16_bits_to_f32(f32_to_bf16_bits(f32::NAN)).is_nan());
        assert_eq!(f32_to_bf16_bits(f32::INFINITY), 0x7f80);
    }

    proptest! {
        #[test]
        fn half_is_the_nearest_representable(x in -65519.9f32..65519.9f32) {
            let h = f32_to_f16_bits(x);
            let got = f64::from(f16_bits_to_f32(h));
            let err = (got - f64::from(x)).abs();
            for n in [h.wrapping_sub(1), h.wrapping_add(1)] {
                let other = f64::from(f16_bits_to_f32(n));
                if other.is_finite() && (n & 0x7fff) < 0x7c00 && (n ^ h) & 0x8000 == 0 {
                    prop_assert!(err <= (other - f64::from(x)).abs(), "{x:e}: {h:#x} vs {n:#x}");
                }
            }
        }

        #[test]
        fn floats_and_integers_round_trip(v in proptest::collection::vec(-100i32..100, 0..40)) {
            let xs: Vec<f32> = v.iter().map(|i| *i as f32).collect();
            for dt in [DataType::Float, DataType::Half, DataType::BFloat16, DataType::Int8,
                       DataType::Int32, DataType::Int64] {
                let bytes = encode(dt, &xs).unwrap();
                prop_assert_eq!(bytes.len() as u64, xs.len() as u64 * dt.host_bytes().unwrap());
                prop_assert_eq!(decode(dt, &bytes), xs.clone());
            }
        }
    }

    #[test]
    fn unrepresentable_values_are_refused_by_index() {
        let e = encode(DataType::Int32, &[1.0, 2.5]).unwrap_err();
        assert_eq!((e.index, e.value), (1, 2.5));
        assert!(encode(DataType::Int8, &[128.0]).is_err());
        assert!(encode(DataType::Int8, &[-128.0]).is_ok());
        assert!(encode(DataType::Uint8, &[-1.0]).is_err());
        assert_eq!(encode(DataType::Uint8, &[255.0]).unwrap(), vec![255]);
        assert_eq!(encode(DataType::Bool, &[0.0, 1.0]).unwrap(), vec![0, 1]);
        assert_eq!(encode(DataType::Bool, &[0.0, 2.0]).unwrap_err().needs, "0 or 1");
        assert!(encode(DataType::Int64, &[f32::NAN]).is_err());
        assert!(encode(DataType::Int64, &[f32::INFINITY]).is_err());
        assert!(encode(DataType::Int32, &[3e9]).is_err());
        let e = encode(DataType::Fp8, &[1.0]).unwrap_err();
        assert_eq!(e.needs, "a type converted on the host");
        assert!(decode(DataType::Int4, &[1, 2]).is_empty());
        assert_eq!(decode(DataType::Bool, &[0, 1]), vec![0.0, 1.0]);
        assert_eq!(decode(DataType::Uint8, &[200]), vec![200.0]);
        assert_eq!(decode(DataType::Int8, &[0xff]), vec![-1.0]);
    }
}
