"""Float32 matmul precision on a GPU: exact FP32 unless ``$GROKPAPER_TF32=1`` asks for TF32.

On Ampere and newer NVIDIA GPUs (A100, H100, RTX 30xx on), TF32 runs float32 matmuls and
convolutions on the tensor cores with a 10-bit mantissa: several times faster, and results that
differ from FP32 (and from a CPU's) in the fourth significant digit. The book's numbers are
FP32 by default, so that a GPU run agrees with a CPU run to rounding (the store key does not
record the precision); set ``GROKPAPER_TF32=1`` for speed where that agreement does not matter.
Older GPUs and CPUs ignore the setting. Applied by every sweep before it trains a chunk
(:func:`grokpaper.core.sweep.train_chunk`), in whichever process trains it.
"""

from __future__ import annotations

import os

import torch

#: Set to 1 to allow TF32 matmuls and convolutions on the GPU.
TF32_ENV = "GROKPAPER_TF32"


def tf32_wanted() -> bool:
    """Whether ``$GROKPAPER_TF32`` asks for TF32 (``1``); anything else is exact FP32."""
    return os.environ.get(TF32_ENV, "").strip() == "1"


def apply(device: str) -> bool:
    """Set the float32 precision of matmuls and convolutions for training on ``device`` (a
    CUDA device: TF32 when wanted, else exact FP32, cuDNN's TF32 default included; other
    devices: unchanged). Returns whether TF32 is on."""
    if not str(device).startswith("cuda"):
        return False
    on = tf32_wanted()
    torch.set_float32_matmul_precision("high" if on else "highest")
    torch.backends.cudnn.allow_tf32 = on
    return on
