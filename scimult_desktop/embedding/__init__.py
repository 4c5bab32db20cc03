"""Inference: model bundles and encoders. Never imports torch; onnxruntime lazily."""
