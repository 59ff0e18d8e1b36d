"""Accelerators: dense BF16 peak FLOP/s, memory, power and rental price.

The planner prices a run with this table, and the training loop divides its
achieved FLOP/s by `peak_flops(device_name)` to report MFU, so the peak figures
are the *dense* BF16 tensor-core numbers (the datasheets' "with sparsity"
figures are twice these and no training run reaches them).

    lookup("h100")                          -> the H100 SXM entry
    lookup("NVIDIA H100 80GB HBM3")         -> the same entry, by CUDA device name
    peak_flops("NVIDIA H200")               -> 9.89e14
    peak_flops("Some Future GPU")           -> None
    detect_device()                         -> the entry for cuda:0, or the CPU entry
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class UnknownAcceleratorError(KeyError):
    """A name that neither a table key, an alias nor a CUDA device name matches."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, kw_only=True, slots=True)
class Accelerator:
    key: str
    """Short name used on the command line (`--gpu-type h100`)."""
    label: str
    """Human name of the part."""
    peak_flops: float | None
    """Dense BF16 tensor-core peak, FLOP/s per device; None where there is no meaningful figure."""
    memory_gb: float | None
    """Device memory, GB."""
    tdp_watts: float | None
    """Board power (TDP), W per device: what the energy estimate charges per GPU-hour."""
    usd_per_hour: float | None
    """Typical on-demand rental price per device-hour; None where no list price is common."""
    cuda_name: str = r"(?!)"
    """Regex (case-insensitive, searched) matching `torch.cuda.get_device_name()`; never matches by default."""


# Peaks and power: vendor datasheets (NVIDIA A100, H100, H200, B200/HGX, L4, A10;
# AMD Instinct MI300X), dense BF16 with FP32 accumulation.
# Prices: typical on-demand list prices per GPU-hour at GPU clouds (Lambda,
# RunPod, CoreWeave, AWS for the A10G) as of mid-2025. They move quickly and
# hyperscalers charge 1.5-3x more, reserved capacity much less: pass
# --usd-per-gpu-hour for a real quote.
ACCELERATORS: dict[str, Accelerator] = {
    a.key: a
    for a in (
        Accelerator(
            key="a100",
            label="NVIDIA A100 SXM 80GB",
            peak_flops=312e12,
            memory_gb=80,
            tdp_watts=400,
            usd_per_hour=1.80,
            cuda_name=r"\bA100\b(?!.*PCIe)",
        ),
        Accelerator(
            key="a100-pcie",
            label="NVIDIA A100 PCIe 80GB",
            peak_flops=312e12,
            memory_gb=80,
            tdp_watts=300,
            usd_per_hour=1.50,
            cuda_name=r"\bA100\b.*PCIe",
        ),
        # CUDA names the SXM part "NVIDIA H100 80GB HBM3"; the NVL and PCIe cards say so.
        Accelerator(
            key="h100",
            label="NVIDIA H100 SXM 80GB",
            peak_flops=989e12,
            memory_gb=80,
            tdp_watts=700,
            usd_per_hour=3.00,
            cuda_name=r"\bH100\b(?!.*(PCIe|NVL))",
        ),
        Accelerator(
            key="h100-pcie",
            label="NVIDIA H100 PCIe 80GB",
            peak_flops=756e12,
            memory_gb=80,
            tdp_watts=350,
            usd_per_hour=2.50,
            cuda_name=r"\bH100\b.*PCIe",
        ),
        Accelerator(
            key="h100-nvl",
            label="NVIDIA H100 NVL 94GB",
            peak_flops=835e12,
            memory_gb=94,
            tdp_watts=400,
            usd_per_hour=None,
            cuda_name=r"\bH100\b.*NVL",
        ),
        # Same Hopper die as the H100 SXM, more and faster memory: same peak.
        Accelerator(
            key="h200",
            label="NVIDIA H200 SXM 141GB",
            peak_flops=989e12,
            memory_gb=141,
            tdp_watts=700,
            usd_per_hour=3.80,
            cuda_name=r"\bH200\b(?!.*NVL)",
        ),
        Accelerator(
            key="h200-nvl",
            label="NVIDIA H200 NVL 141GB",
            peak_flops=835e12,
            memory_gb=141,
            tdp_watts=600,
            usd_per_hour=None,
            cuda_name=r"\bH200\b.*NVL",
        ),
        # HGX B200 datasheet: 4.5 PFLOPS BF16 with sparsity per GPU, hence ~2.25 dense.
        Accelerator(
            key="b200",
            label="NVIDIA B200 180GB",
            peak_flops=2250e12,
            memory_gb=180,
            tdp_watts=1000,
            usd_per_hour=6.00,
            cuda_name=r"\bB200\b",
        ),
        Accelerator(
            key="l4",
            label="NVIDIA L4 24GB",
            peak_flops=121e12,
            memory_gb=24,
            tdp_watts=72,
            usd_per_hour=0.80,
            cuda_name=r"\bL4\b",
        ),
        # AWS-only part without a public datasheet; published tables disagree (70 or
        # 125 TFLOPs). This is the A10 datasheet's figure, so MFU on an A10G errs low.
        Accelerator(
            key="a10g",
            label="NVIDIA A10G (or A10) 24GB",
            peak_flops=125e12,
            memory_gb=24,
            tdp_watts=150,
            usd_per_hour=1.01,
            cuda_name=r"\bA10G?\b",
        ),
        Accelerator(
            key="mi300x",
            label="AMD Instinct MI300X 192GB",
            peak_flops=1307e12,
            memory_gb=192,
            tdp_watts=750,
            usd_per_hour=2.50,
            cuda_name=r"\bMI300X\b",
        ),
        # No tensor-core peak to speak of: the trainer reports no MFU on CPU, the
        # planner refuses to plan on it.
        Accelerator(key="cpu", label="CPU", peak_flops=None, memory_gb=None, tdp_watts=None, usd_per_hour=None),
    )
}

ALIASES: dict[str, str] = {
    "a100-sxm": "a100",
    "h100-sxm": "h100",
    "h200-sxm": "h200",
}


def lookup(name: str) -> Accelerator:
    """The entry for a table key, an alias, or a CUDA device name ("NVIDIA H100 80GB HBM3")."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key in ACCELERATORS:
        return ACCELERATORS[key]
    for accelerator in ACCELERATORS.values():
        if re.search(accelerator.cuda_name, name, re.IGNORECASE):
            return accelerator
    raise UnknownAcceleratorError(f"unknown accelerator {name!r}; known: {', '.join(ACCELERATORS)}")


def peak_flops(device_name: str) -> float | None:
    """Dense BF16 peak FLOP/s of a device, or None when it is unknown or has none (CPU)."""
    try:
        return lookup(device_name).peak_flops
    except UnknownAcceleratorError:
        return None


def detect_device() -> Accelerator:
    """The entry for `cuda:0` (an unlisted GPU gets an entry of unknowns under its own name), else CPU."""
    import torch

    if not torch.cuda.is_available():
        return ACCELERATORS["cpu"]
    name = torch.cuda.get_device_name(0)
    try:
        return lookup(name)
    except UnknownAcceleratorError:
        return Accelerator(key=name, label=name, peak_flops=None, memory_gb=None, tdp_watts=None, usd_per_hour=None)
