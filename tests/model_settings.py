"""Architecture tables shared by the torch references (tests/torch_models.py) and the
hand-built import graphs (tests/import_graphs.py), which must not need torch."""

MOBILENET_V3_SMALL = (
    (16, 3, 16, 16, True, False, 2),
    (16, 3, 72, 24, False, False, 2),
    (24, 3, 88, 24, False, False, 1),
    (24, 5, 96, 40, True, True, 2),
    (40, 5, 240, 40, True, True, 1),
    (40, 5, 240, 40, True, True, 1),
    (40, 5, 120, 48, True, True, 1),
    (48, 5, 144, 48, True, True, 1),
    (48, 5, 288, 96, True, True, 2),
    (96, 5, 576, 96, True, True, 1),
    (96, 5, 576, 96, True, True, 1),
)
"""torchvision's mobilenet_v3_small blocks: input, kernel, expanded, out, squeeze-and-excitation,
hard-swish, stride."""
