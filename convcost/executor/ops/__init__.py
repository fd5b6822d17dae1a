"""One executor op module per layer family (numpy): weights, forward pass and memory model."""
