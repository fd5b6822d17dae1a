"""The PyTorch exporter: a spec as one readable Python file of ``nn.Module`` classes
(:func:`pytorch_source`); the per-kind code is in :mod:`convcost.export.pytorch.kinds`."""

from convcost.export.pytorch.source import pytorch_source

__all__ = ["pytorch_source"]
