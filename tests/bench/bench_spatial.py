"""Benchmark: the resampling kinds' NumPy kernels against PyTorch eager (not a test).

    PYTHONPATH=. python tests/bench/bench_spatial.py [--rounds 7]

Each case runs convcost's kernel on a channels-last float32 array and ``torch.nn.functional`` on
the same values in PyTorch's own contiguous NCHW layout, both on 1 thread, alternating one call
of each per round; the table shows the best of the rounds (the machine is shared: the minimum is
the least disturbed) and the ratio convcost / torch of the bests.
"""

from __future__ import annotations

import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from convcost.executor.ops.border import pad  # noqa: E402
from convcost.executor.ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle  # noqa: E402
from convcost.executor.ops.upsample import upsample  # noqa: E402
from convcost.layers.upsample import Upsample  # noqa: E402

F = torch.nn.functional
torch.set_num_threads(1)


def cases() -> list[tuple[str, tuple[int, ...], Callable[[Any], Any], Callable[[Any], Any]]]:
    """(name, NCHW shape, convcost on channels-last, torch on NCHW)."""

    def up(mode: str, scale: int, **kw: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        layer = Upsample(scale=(scale,) * (3 if mode == "trilinear" else 2), mode=mode, **kw)
        return (
            lambda x: upsample(x, layer),
            lambda t: F.interpolate(t, scale_factor=float(scale), mode=mode, **kw),
        )

    map2d, map3d = (1, 64, 112, 112), (1, 16, 32, 56, 56)
    return [
        ("upsample nearest ×2", map2d, *up("nearest", 2)),
        ("upsample bilinear ×2", map2d, *up("bilinear", 2)),
        ("upsample bilinear ×2 align_corners", map2d, *up("bilinear", 2, align_corners=True)),
        ("upsample bicubic ×2", map2d, *up("bicubic", 2)),
        ("upsample trilinear ×2 (3-D)", map3d, *up("trilinear", 2)),
        ("pixel_shuffle 2", map2d, lambda x: pixel_shuffle(x, 2), lambda t: F.pixel_shuffle(t, 2)),
        (
            "pixel_unshuffle 2",
            map2d,
            lambda x: pixel_unshuffle(x, 2),
            lambda t: F.pixel_unshuffle(t, 2),
        ),
        (
            "pad constant 1",
            map2d,
            lambda x: pad(x, ((1, 1), (1, 1)), "constant", 0.0),
            lambda t: F.pad(t, (1, 1, 1, 1)),
        ),
        (
            "pad reflect 3",
            map2d,
            lambda x: pad(x, ((3, 3), (3, 3)), "reflect", 0.0),
            lambda t: F.pad(t, (3, 3, 3, 3), mode="reflect"),
        ),
        (
            "pad replicate 3",
            map2d,
            lambda x: pad(x, ((3, 3), (3, 3)), "replicate", 0.0),
            lambda t: F.pad(t, (3, 3, 3, 3), mode="replicate"),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    print("| case | convcost ms | torch ms | convcost / torch |")
    print("|---|---:|---:|---:|")
    for name, shape, ours, theirs in cases():
        t = torch.randn(shape)
        x = np.ascontiguousarray(np.moveaxis(t.numpy(), 1, -1))
        ours(x), theirs(t)  # warm up both
        best = [float("inf"), float("inf")]
        for _ in range(rounds):
            for index, (call, value) in enumerate(((ours, x), (theirs, t))):
                start = time.perf_counter()
                call(value)
                best[index] = min(best[index], time.perf_counter() - start)
        print(f"| {name} | {best[0] * 1e3:.2f} | {best[1] * 1e3:.2f} | {best[0] / best[1]:.2f} |")


if __name__ == "__main__":
    main()
