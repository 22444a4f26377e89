#!/bin/sh
# Compile-checks the TensorRT shim against real TensorRT headers and proves it was built in:
# runs the crate's tests with the shim (tests/shim_build.rs asserts cfg(aegis_trt_shim), the
# header version, and that the shim references no TensorRT or CUDA symbol at link time).
#
#   scripts/compile-check.sh <tensorrt-root> <cuda-include> [target-dir]
#
# <tensorrt-root>: a folder with include/NvInferRuntime.h (TensorRT >= 10.1), e.g. headers taken
#   from the NVIDIA/TensorRT repository with
#   `git --git-dir=<clone>/.git archive v10.3.0 include | tar -x -C /tmp/trt-10.3`.
# <cuda-include>: a folder with cuda_runtime_api.h, cuda.h and crt/host_defines.h (a CUDA
#   toolkit's include/, or the include/ folders of the PyPI wheels nvidia-cuda-runtime-cu12 and
#   nvidia-cuda-nvcc-cu12 merged into one). Never commit either.
set -eu
if [ $# -lt 2 ]; then
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
root=$(cd "$1" && pwd)
cuda=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")/../../.." && pwd)
target=${3:-$here/target-trt/compile-check}
grep -E '^#define (NV_TENSORRT|TRT)_(MAJOR|MINOR|PATCH|BUILD)' "$root/include/NvInferVersion.h"
cd "$here"
TENSORRT_ROOT=$root CUDA_INCLUDE=$cuda CARGO_TARGET_DIR=$target \
    cargo test -p aegis-backend-trt --test shim_build -- --nocapture
