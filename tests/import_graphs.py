"""Hand-built importer `Graph`s of known networks, for the structurer's tests.

Each builder follows the network's published structure (torchvision's code, as the bundled zoo
spec and tests/torch_models.py do), node by node as an ONNX export lists them: the structurer
has to find the nesting again.
"""

from __future__ import annotations

from convcost.importer.graph import INPUT, Graph, Merge, Node, Origin
from tests.model_settings import MOBILENET_V3_SMALL


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


def resnet50(*, terse: bool = False) -> Graph:
    """torchvision's resnet50 (v1.5: the stride on each first bottleneck's 3×3 conv).

    ``terse`` spells the fields as another exporter might: no stride of 1, kernels per axis.
    """
    b = Builder()

    def strided(stride: int) -> dict[str, object]:
        return {} if terse and stride == 1 else {"stride": stride}

    def square(size: int) -> object:
        return [size, size] if terse else size

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
                kernel=square(3),
                **strided(stride),
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
                    kernel=square(1),
                    **strided(stride),
                    bias=False,
                )
                shortcut = b.layer(p + "downsample_1", shortcut, "batchnorm", "BatchNormalization")
            y = b.merge(p + "add", "add", y, shortcut)
            x = b.layer(p + "relu_2", y, "relu", "Relu")
    x = b.layer("avgpool", x, "global_avgpool", "GlobalAveragePool")
    x = b.layer("flatten", x, "flatten", "Flatten")
    x = b.layer("fc", x, "linear", "Gemm", out=1000)
    return b.graph("resnet50", (3, 224, 224), x, ("batchnorm kept: exported in training mode",))


def resnet18() -> Graph:
    """torchvision's resnet18: basic blocks, two per stage; no projection in the first."""
    b = Builder()
    x = b.layer("conv1", INPUT, "conv", "Conv", out=64, kernel=7, stride=2, padding=3, bias=False)
    x = b.layer("bn1", x, "batchnorm", "BatchNormalization")
    x = b.layer("relu", x, "relu", "Relu")
    x = b.layer("maxpool", x, "maxpool", "MaxPool", kernel=3, stride=2, padding=1)
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for index in range(2):
            stride = 2 if index == 0 and stage > 1 else 1
            p = f"layer{stage}_{index}_"
            y = b.layer(
                p + "conv1",
                x,
                "conv",
                "Conv",
                out=width,
                kernel=3,
                stride=stride,
                padding=1,
                bias=False,
            )
            y = b.layer(p + "bn1", y, "batchnorm", "BatchNormalization")
            y = b.layer(p + "relu", y, "relu", "Relu")
            y = b.layer(p + "conv2", y, "conv", "Conv", out=width, kernel=3, padding=1, bias=False)
            y = b.layer(p + "bn2", y, "batchnorm", "BatchNormalization")
            shortcut = x
            if stride == 2:
                shortcut = b.layer(
                    p + "downsample_0", x, "conv", "Conv", out=width, kernel=1, stride=2, bias=False
                )
                shortcut = b.layer(p + "downsample_1", shortcut, "batchnorm", "BatchNormalization")
            y = b.merge(p + "add", "add", y, shortcut)
            x = b.layer(p + "relu_1", y, "relu", "Relu")
    x = b.layer("avgpool", x, "global_avgpool", "GlobalAveragePool")
    x = b.layer("flatten", x, "flatten", "Flatten")
    x = b.layer("fc", x, "linear", "Gemm", out=1000)
    return b.graph("resnet18", (3, 224, 224), x)


def googlenet() -> Graph:
    """torchvision's googlenet(aux_logits=False): concat of four towers, nine times."""
    b = Builder()

    def basic(name: str, x: str, out: int, kernel: int = 1, stride: int = 1) -> str:
        pad = kernel // 2
        x = b.layer(
            f"{name}_conv",
            x,
            "conv",
            "Conv",
            out=out,
            kernel=kernel,
            stride=stride,
            padding=pad,
            bias=False,
        )
        x = b.layer(f"{name}_bn", x, "batchnorm", "BatchNormalization", eps=0.001)
        return b.layer(f"{name}_relu", x, "relu", "Relu")

    def pool(name: str, x: str, kernel: int, stride: int, padding: int = 0) -> str:
        return b.layer(
            name,
            x,
            "maxpool",
            "MaxPool",
            kernel=kernel,
            stride=stride,
            padding=padding,
            ceil_mode=True,
        )

    x = basic("conv1", INPUT, 64, 7, 2)
    x = pool("maxpool1", x, 3, 2)
    x = basic("conv2", x, 64)
    x = basic("conv3", x, 192, 3)
    x = pool("maxpool2", x, 3, 2)
    table = {
        "inception3a": (64, 96, 128, 16, 32, 32),
        "inception3b": (128, 128, 192, 32, 96, 64),
        "maxpool3": (),
        "inception4a": (192, 96, 208, 16, 48, 64),
        "inception4b": (160, 112, 224, 24, 64, 64),
        "inception4c": (128, 128, 256, 24, 64, 64),
        "inception4d": (112, 144, 288, 32, 64, 64),
        "inception4e": (256, 160, 320, 32, 128, 128),
        "maxpool4": (),
        "inception5a": (256, 160, 320, 32, 128, 128),
        "inception5b": (384, 192, 384, 48, 128, 128),
    }
    for name, widths in table.items():
        if not widths:
            x = pool(name, x, 2 if name == "maxpool4" else 3, 2)
            continue
        b1, b2red, b2, b3red, b3, proj = widths
        t1 = basic(f"{name}_branch1", x, b1)
        t2 = basic(f"{name}_branch2_1", basic(f"{name}_branch2_0", x, b2red), b2, 3)
        t3 = basic(f"{name}_branch3_1", basic(f"{name}_branch3_0", x, b3red), b3, 3)
        t4 = basic(f"{name}_branch4_1", pool(f"{name}_branch4_0", x, 3, 1, 1), proj)
        x = b.merge(f"{name}_concat", "concat", t1, t2, t3, t4)
    x = b.layer("avgpool", x, "global_avgpool", "GlobalAveragePool")
    x = b.layer("flatten", x, "flatten", "Flatten")
    x = b.layer("dropout", x, "dropout", "Dropout", p=0.2)
    x = b.layer("fc", x, "linear", "Gemm", out=1000)
    return b.graph("googlenet", (3, 224, 224), x)


def densenet121() -> Graph:
    """torchvision's densenet121: each dense layer concatenates its input and 32 new maps."""
    b = Builder()
    x = b.layer(
        "features_conv0", INPUT, "conv", "Conv", out=64, kernel=7, stride=2, padding=3, bias=False
    )
    x = b.layer("features_norm0", x, "batchnorm", "BatchNormalization")
    x = b.layer("features_relu0", x, "relu", "Relu")
    x = b.layer("features_pool0", x, "maxpool", "MaxPool", kernel=3, stride=2, padding=1)
    channels = 64
    for block, count in enumerate((6, 12, 24, 16), start=1):
        for index in range(1, count + 1):
            p = f"features_denseblock{block}_denselayer{index}_"
            y = b.layer(p + "norm1", x, "batchnorm", "BatchNormalization")
            y = b.layer(p + "relu1", y, "relu", "Relu")
            y = b.layer(p + "conv1", y, "conv", "Conv", out=128, kernel=1, bias=False)
            y = b.layer(p + "norm2", y, "batchnorm", "BatchNormalization")
            y = b.layer(p + "relu2", y, "relu", "Relu")
            y = b.layer(p + "conv2", y, "conv", "Conv", out=32, kernel=3, padding=1, bias=False)
            x = b.merge(p + "concat", "concat", x, y)
            channels += 32
        if block < 4:
            p = f"features_transition{block}_"
            channels //= 2
            x = b.layer(p + "norm", x, "batchnorm", "BatchNormalization")
            x = b.layer(p + "relu", x, "relu", "Relu")
            x = b.layer(p + "conv", x, "conv", "Conv", out=channels, kernel=1, bias=False)
            x = b.layer(p + "pool", x, "avgpool", "AveragePool", kernel=2, stride=2)
    x = b.layer("features_norm5", x, "batchnorm", "BatchNormalization")
    x = b.layer("relu", x, "relu", "Relu")
    x = b.layer("avgpool", x, "global_avgpool", "GlobalAveragePool")
    x = b.layer("flatten", x, "flatten", "Flatten")
    x = b.layer("classifier", x, "linear", "Gemm", out=1000)
    return b.graph("densenet121", (3, 224, 224), x)


def mobilenet_v3_small() -> Graph:
    """torchvision's mobilenet_v3_small: squeeze-and-excitation gates (a multiply of the
    input with a hard-sigmoid gate) inside inverted residuals (an add with the input)."""
    b = Builder()
    x = b.layer(
        "features_0_0", INPUT, "conv", "Conv", out=16, kernel=3, stride=2, padding=1, bias=False
    )
    x = b.layer("features_0_1", x, "batchnorm", "BatchNormalization", eps=0.001)
    x = b.layer("features_0_2", x, "hardswish", "HardSwish")
    settings = MOBILENET_V3_SMALL  # input, kernel, expanded, out, SE, hard-swish, stride
    for index, (inp, kernel, expanded, out, se, hs, stride) in enumerate(settings, start=1):
        p = f"features_{index}_block_"
        act = "hardswish" if hs else "relu"
        y = x
        if expanded != inp:
            y = b.layer(p + "0_0", y, "conv", "Conv", out=expanded, kernel=1, bias=False)
            y = b.layer(p + "0_1", y, "batchnorm", "BatchNormalization", eps=0.001)
            y = b.layer(p + "0_2", y, act)
        y = b.layer(
            p + "1_0",
            y,
            "depthwise",
            "Conv",
            kernel=kernel,
            stride=stride,
            padding=(kernel - 1) // 2,
            bias=False,
        )
        y = b.layer(p + "1_1", y, "batchnorm", "BatchNormalization", eps=0.001)
        y = b.layer(p + "1_2", y, act)
        if se:
            squeeze = max(8, int(expanded // 4 + 4) // 8 * 8)  # torchvision's _make_divisible
            squeeze += 8 if squeeze < 0.9 * (expanded // 4) else 0
            g = b.layer(p + "2_avgpool", y, "global_avgpool", "GlobalAveragePool")
            g = b.layer(p + "2_fc1", g, "conv", "Conv", out=squeeze, kernel=1)
            g = b.layer(p + "2_relu", g, "relu", "Relu")
            g = b.layer(p + "2_fc2", g, "conv", "Conv", out=expanded, kernel=1)
            g = b.layer(p + "2_hardsigmoid", g, "hardsigmoid", "HardSigmoid")
            y = b.merge(p + "2_mul", "multiply", y, g)
        y = b.layer(p + "3_0", y, "conv", "Conv", out=out, kernel=1, bias=False)
        y = b.layer(p + "3_1", y, "batchnorm", "BatchNormalization", eps=0.001)
        x = b.merge(f"features_{index}_add", "add", x, y) if stride == 1 and inp == out else y
    x = b.layer("features_12_0", x, "conv", "Conv", out=576, kernel=1, bias=False)
    x = b.layer("features_12_1", x, "batchnorm", "BatchNormalization", eps=0.001)
    x = b.layer("features_12_2", x, "hardswish", "HardSwish")
    x = b.layer("avgpool", x, "global_avgpool", "GlobalAveragePool")
    x = b.layer("flatten", x, "flatten", "Flatten")
    x = b.layer("classifier_0", x, "linear", "Gemm", out=1024)
    x = b.layer("classifier_1", x, "hardswish", "HardSwish")
    x = b.layer("classifier_2", x, "dropout", "Dropout", p=0.2)
    x = b.layer("classifier_3", x, "linear", "Gemm", out=1000)
    return b.graph("mobilenet_v3_small", (3, 224, 224), x)


def unet() -> Graph:
    """A two-level U-Net on 3×64×64: each encoder level's output is concatenated, after the
    decoder's upsampling, across the whole stretch below it (the skips nest)."""
    b = Builder()

    def conv_relu(name: str, x: str, out: int) -> str:
        x = b.layer(f"{name}_conv", x, "conv", "Conv", out=out, kernel=3, padding=1)
        return b.layer(f"{name}_relu", x, "relu", "Relu")

    e1 = conv_relu("enc1", INPUT, 16)
    e2 = conv_relu("enc2", b.layer("pool1", e1, "maxpool", "MaxPool", kernel=2), 32)
    mid = conv_relu("bottom", b.layer("pool2", e2, "maxpool", "MaxPool", kernel=2), 64)
    up2 = b.layer("up2", mid, "conv_transpose", "ConvTranspose", out=32, kernel=2, stride=2)
    d2 = conv_relu("dec2", b.merge("cat2", "concat", up2, e2), 32)
    up1 = b.layer("up1", d2, "conv_transpose", "ConvTranspose", out=16, kernel=2, stride=2)
    d1 = conv_relu("dec1", b.merge("cat1", "concat", up1, e1), 16)
    out = b.layer("head", d1, "conv", "Conv", out=2, kernel=1)
    return b.graph("unet", (3, 64, 64), out)
