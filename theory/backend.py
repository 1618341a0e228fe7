"""Device and dtype selection, and what this machine has."""

from __future__ import annotations

import functools
import platform
from importlib import metadata

import torch

from theory.errors import DeviceError

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(name: str = "cpu") -> torch.device:
    """A torch device by name; ``cuda`` on a machine without a GPU is a DeviceError with the reason."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise DeviceError(f"device {name!r} is not supported (use cpu or cuda)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device {name!r} requested but torch {torch.__version__} sees no CUDA GPU")
    if device.type not in ("cpu", "cuda"):
        raise DeviceError(f"device {name!r} is not supported (use cpu or cuda)")
    return device


def resolve_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise DeviceError(f"dtype {name!r} is not one of {', '.join(DTYPES)}")
    return DTYPES[name]


def environment(device: torch.device) -> dict[str, str]:
    """Library versions and the device, recorded with every result."""
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    return {**library_versions(), "device": device_name}


@functools.cache
def library_versions() -> dict[str, str]:
    """The versions of theorycheck and of the libraries that compute its numbers. Read once per process:
    reading package metadata costs milliseconds, most of a small run."""
    versions = {name: _version(name) for name in ("theorycheck", "torch", "numpy", "numba", "scipy", "sympy")}
    return {**versions, "python": platform.python_version()}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
