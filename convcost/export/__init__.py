"""Take a design out of convcost: ``convcost export`` writes a spec as a PyTorch file or an
ONNX model (each in its own module, imported on use)."""
