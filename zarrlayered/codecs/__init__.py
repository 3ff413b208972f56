"""Codecs: one module per codec, a registry, and the numcodecs adapter."""
