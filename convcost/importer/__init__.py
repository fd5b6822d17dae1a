"""Models people already have, as convcost specs: ONNX files and torch modules."""
