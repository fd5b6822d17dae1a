"""The ONNX exporter (branch h-export-onnx provides it; this stub only fixes the signature)."""

from __future__ import annotations

from convcost.spec import Spec


def onnx_bytes(
    spec: Spec, *, variant: str | None = None, seed: int = 0, zeros: bool = False
) -> bytes:
    """A serialized ONNX ModelProto of ``spec`` (one variant), weights random with ``seed`` or
    zeros."""
    raise NotImplementedError("the ONNX exporter is built on branch h-export-onnx")
