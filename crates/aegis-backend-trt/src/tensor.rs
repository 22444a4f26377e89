//! What the engine says about its I/O tensors: name, direction, element type, shape (with
//! dynamic dimensions) and the optimisation-profile bounds of dynamic inputs.
//!
//! Owns [`TensorDesc`], [`TensorMode`], [`DataType`] and [`ProfileShape`], and the checks of
//! whether a tensor can be bound by this backend at all. It must not know how values are
//! converted (see `dtype`) or where buffers live.

/// Whether a tensor is read or written by the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorMode {
    /// An engine input (`TensorIOMode::kINPUT`).
    Input,
    /// An engine output (`TensorIOMode::kOUTPUT`).
    Output,
}

/// TensorRT's element types (`nvinfer1::DataType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    /// 32-bit float.
    Float,
    /// IEEE 754 half.
    Half,
    /// Signed 8-bit integer (quantized; scales are the user's).
    Int8,
    /// Signed 32-bit integer.
    Int32,
    /// Boolean, one byte.
    Bool,
    /// Unsigned 8-bit integer.
    Uint8,
    /// 8-bit float (FP8 E4M3).
    Fp8,
    /// bfloat16.
    BFloat16,
    /// Signed 64-bit integer.
    Int64,
    /// Signed 4-bit integer (packed).
    Int4,
    /// 4-bit float (packed).
    Fp4,
    /// 8-bit exponent-only scale type.
    E8m0,
    /// A value this crate does not know (a newer TensorRT).
    Unknown(i32),
}

impl DataType {
    /// From TensorRT's numeric value.
    pub fn from_raw(v: i32) -> Self {
        match v {
            0 => DataType::Float,
            1 => DataType::Half,
            2 => DataType::Int8,
            3 => DataType::Int32,
            4 => DataType::Bool,
            5 => DataType::Uint8,
            6 => DataType::Fp8,
            7 => DataType::BFloat16,
            8 => DataType::Int64,
            9 => DataType::Int4,
            10 => DataType::Fp4,
            11 => DataType::E8m0,
            other => DataType::Unknown(other),
        }
    }

    /// TensorRT's name for it (`kFLOAT`, …).
    pub fn name(&self) -> String {
        match self {
            DataType::Float => "kFLOAT".into(),
            DataType::Half => "kHALF".into(),
            DataType::Int8 => "kINT8".into(),
            DataType::Int32 => "kINT32".into(),
            DataType::Bool => "kBOOL".into(),
            DataType::Uint8 => "kUINT8".into(),
            DataType::Fp8 => "kFP8".into(),
            DataType::BFloat16 => "kBF16".into(),
            DataType::Int64 => "kINT64".into(),
            DataType::Int4 => "kINT4".into(),
            DataType::Fp4 => "kFP4".into(),
            DataType::E8m0 => "kE8M0".into(),
            DataType::Unknown(v) => format!("DataType({v})"),
        }
    }

    /// Bytes per element for the types this backend converts from and to `f32` on the host;
    /// `None` for packed, FP8 and unknown types.
    pub fn host_bytes(&self) -> Option<u64> {
        match self {
            DataType::Float | DataType::Int32 => Some(4),
            DataType::Half | DataType::BFloat16 => Some(2),
            DataType::Int8 | DataType::Uint8 | DataType::Bool => Some(1),
            DataType::Int64 => Some(8),
            _ => None,
        }
    }
}

/// The bounds optimisation profile 0 allows for a dynamic input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileShape {
    /// Smallest shape.
    pub min: Vec<i64>,
    /// The shape the engine was tuned for.
    pub opt: Vec<i64>,
    /// Largest shape (I/O buffers are sized for it).
    pub max: Vec<i64>,
}

/// One I/O tensor of an engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorDesc {
    /// Tensor name (what `set_input` and `outputs` use).
    pub name: String,
    /// Input or output.
    pub mode: TensorMode,
    /// Element type.
    pub dtype: DataType,
    /// The engine's shape; `-1` marks a dynamic dimension.
    pub shape: Vec<i64>,
    /// True when TensorRT expects the tensor in device memory (`TensorLocation::kDEVICE`).
    pub on_device: bool,
    /// True for the linear (row-major) format.
    pub linear: bool,
    /// True for a shape tensor (`isShapeInferenceIO`).
    pub shape_tensor: bool,
    /// Profile bounds, for dynamic inputs.
    pub profile: Option<ProfileShape>,
}

impl TensorDesc {
    /// A linear device tensor without a profile (use [`Self::with_profile`] for dynamic
    /// inputs).
    pub fn new(name: &str, mode: TensorMode, dtype: DataType, shape: &[i64]) -> Self {
        TensorDesc {
            name: name.to_owned(),
            mode,
            dtype,
            shape: shape.to_vec(),
            on_device: true,
            linear: true,
            shape_tensor: false,
            profile: None,
        }
    }

    /// Sets the profile bounds.
    pub fn with_profile(mut self, min: &[i64], opt: &[i64], max: &[i64]) -> Self {
        self.profile =
            Some(ProfileShape { min: min.to_vec(), opt: opt.to_vec(), max: max.to_vec() });
        self
    }

    /// True when some dimension is dynamic.
    pub fn is_dynamic(&self) -> bool {
        self.shape.iter().any(|d| *d < 0)
    }

    /// Why this backend cannot bind the tensor, if it cannot (checked at load).
    pub(crate) fn unsupported_reason(&self) -> Option<String> {
        let fix = "rebuild the engine with linear FP32/FP16/BF16/INT8/UINT8/INT32/INT64/BOOL \
                   device I/O";
        if self.shape_tensor {
            return Some(format!("is a shape tensor, which this backend does not bind; {fix}"));
        }
        if !self.on_device {
            return Some(format!("lives in host memory (TensorLocation::kHOST); {fix}"));
        }
        if !self.linear {
            return Some(format!("has a vectorized (non-linear) format; {fix}"));
        }
        if self.dtype.host_bytes().is_none() {
            return Some(format!(
                "has element type {}, which is not converted from/to f32 here; {fix}",
                self.dtype.name()
            ));
        }
        if self.mode == TensorMode::Input && self.is_dynamic() {
            match &self.profile {
                None => {
                    return Some(
                        "has dynamic dimensions but the engine reports no optimisation \
                         profile; rebuild it with a profile for this input"
                            .into(),
                    );
                }
                Some(p) if p.max.len() != self.shape.len() || p.min.len() != self.shape.len() => {
                    return Some(format!(
                        "profile rank {} does not match the tensor rank {}",
                        p.max.len(),
                        self.shape.len()
                    ));
                }
                Some(p) if p.max.iter().zip(&p.min).any(|(mx, mn)| *mn < 0 || mx < mn) => {
                    return Some(format!("has an invalid profile {:?}..{:?}", p.min, p.max));
                }
                Some(_) => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_round_trip_to_names() {
        for v in 0..12 {
            let d = DataType::from_raw(v);
            assert!(!matches!(d, DataType::Unknown(_)), "{v}");
            assert!(d.name().starts_with('k'), "{v}");
        }
        assert_eq!(DataType::from_raw(42), DataType::Unknown(42));
        assert_eq!(DataType::Unknown(42).name(), "DataType(42)");
        assert_eq!(DataType::Float.host_bytes(), Some(4));
        assert_eq!(DataType::Int64.host_bytes(), Some(8));
        assert_eq!(DataType::Fp8.host_bytes(), None);
        assert_eq!(DataType::Int4.host_bytes(), None);
    }

    #[test]
    fn unsupported_tensors_are_named_with_a_fix() {
        let ok = TensorDesc::new("x", TensorMode::Input, DataType::Float, &[1, 3]);
        assert_eq!(ok.unsupported_reason(), None);
        let mut t = ok.clone();
        t.shape_tensor = true;
        assert!(t.unsupported_reason().unwrap().contains("shape tensor"));
        let mut t = ok.clone();
        t.on_device = false;
        assert!(t.unsupported_reason().unwrap().contains("kHOST"));
        let mut t = ok.clone();
        t.linear = false;
        assert!(t.unsupported_reason().unwrap().contains("non-linear"));
        let mut t = ok.clone();
        t.dtype = DataType::Fp8;
        assert!(t.unsupported_reason().unwrap().contains("kFP8"));
        let dynamic = TensorDesc::new("x", TensorMode::Input, DataType::Float, &[-1, 3]);
        assert!(dynamic.unsupported_reason().unwrap().contains("no optimisation profile"));
        let bad_rank = dynamic.clone().with_profile(&[1], &[1], &[4]);
        assert!(bad_rank.unsupported_reason().unwrap().contains("rank"));
        let bad = dynamic.clone().with_profile(&[4, 3], &[4, 3], &[2, 3]);
        assert!(bad.unsupported_reason().unwrap().contains("invalid profile"));
        let good = dynamic.with_profile(&[1, 3], &[2, 3], &[8, 3]);
        assert_eq!(good.unsupported_reason(), None);
        // Dynamic outputs need no profile: their shapes follow from the inputs.
        let out = TensorDesc::new("y", TensorMode::Output, DataType::Float, &[-1, 3]);
        assert_eq!(out.unsupported_reason(), None);
    }
}
