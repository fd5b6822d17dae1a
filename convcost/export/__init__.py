"""Take a design out of convcost: a spec as a PyTorch source file
(:func:`convcost.export.pytorch.pytorch_source`) or an ONNX model
(:func:`convcost.export.onnx_model.onnx_bytes`).

Nothing is imported here: each target loads only when it is asked for.
"""
