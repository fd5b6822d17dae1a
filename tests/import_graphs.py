"""Hand-built importer `Graph`s of known networks, for the structurer's tests.

Each builder follows the network's published structure (torchvision's code, as the bundled zoo
spec and tests/torch_models.py do), node by node as an ONNX export lists them: the structurer
has to find the nesting again.
"""

from __future__ import annotations

from convcost.importer.graph import INPUT, Graph, Merge, Node, Origin


class Builder:
    """Appends nodes in topological order; each call returns the new node's tensor name."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []

    def layer(self, name: str, source: str, kind: str, op: str = "", **fields: object) -> str:
        origin = Origin(f"/{name.replace('_', '/')}/{op or kind.title()}", op or kind.title())
        self.nodes.append(Node(name, origin, (source,), layer={kind: fields}))
        return name

    def merge(self, name: str, kind: Merge, *sources: str) -> str:
        origin = Origin(f"/{name.replace('_', '/')}", kind.title())
        self.nodes.append(Node(name, origin, sources, merge=kind))
        return name

    def graph(
        self, name: str, shape: tuple[int, ...], output: str, notes: tuple[str, ...] = ()
    ) -> Graph:
        return Graph(name, shape, tuple(self.nodes), output, notes)


def resnet50() -> Graph:
    """torchvision's resnet50 (v1.5: the stride on each first bottleneck's 3×3 conv)."""
    b = Builder()
    x = b.layer("conv1", INPUT, "conv", "Conv", out=64, kernel=7, stride=2, padding=3, bias=False)
    x = b.layer("bn1", x, "batchnorm", "BatchNormalization")
    x = b.layer("relu", x, "relu", "Relu")
    x = b.layer("maxpool", x, "maxpool", "MaxPool", kernel=3, stride=2, padding=1)
    for stage, (mid, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=1):
        for index in range(blocks):
            stride = 2 if index == 0 and stage > 1 else 1
            p = f"layer{stage}_{index}_"
            y = b.layer(p + "conv1", x, "conv", "Conv", out=mid, kernel=1, bias=False)
            y = b.layer(p + "bn1", y, "batchnorm", "BatchNormalization")
            y = b.layer(p + "relu", y, "relu", "Relu")
            y = b.layer(
                p + "conv2",
                y,
                "conv",
                "Conv",
                out=mid,
                kernel=3,
                stride=stride,
                padding=1,
                bias=False,
            )
            y = b.layer(p + "bn2", y, "batchnorm", "BatchNormalization")
            y = b.layer(p + "relu_1", y, "relu", "Relu")
            y = b.layer(p + "conv3", y, "conv", "Conv", out=mid * 4, kernel=1, bias=False)
            y = b.layer(p + "bn3", y, "batchnorm", "BatchNormalization")
            shortcut = x
            if index == 0:
                shortcut = b.layer(
                    p + "downsample_0",
                    x,
                    "conv",
                    "Conv",
                    out=mid * 4,
                    kernel=1,
                    stride=stride,
                    bias=False,
                )
                shortcut = b.layer(p + "downsample_1", shortcut, "batchnorm", "BatchNormalization")
            y = b.merge(p + "add", "add", y, shortcut)
            x = b.layer(p + "relu_2", y, "relu", "Relu")
    x = b.layer("avgpool", x, "global_avgpool", "GlobalAveragePool")
    x = b.layer("flatten", x, "flatten", "Flatten")
    x = b.layer("fc", x, "linear", "Gemm", out=1000)
    return b.graph("resnet50", (3, 224, 224), x, ("batchnorm kept: exported in training mode",))
