"""Latency estimates from first principles: device profiles, a roofline per layer, and the
calibration that fits a profile to a measured runtime (docs/latency.md).

Nothing here imports numpy except :mod:`convcost.latency.calibrate` (which runs kernels); an
estimate is pure arithmetic on a :class:`~convcost.report.Report`.
"""
