"""Dataset makers: pure functions, keyword-only options, explicit random state, tensors out."""
