"""Encoders, by registry: every encoder maps a front-end batch to (B, D) and says D.

`create_encoder(name, input_shape, **options)`; each factory is registered with
`@ENCODERS.register(name)` and declares the modalities it accepts in `ENCODER_MODALITIES`.
Adding an encoder is one new file here plus its import below.
"""
from .base import ENCODERS, ENCODER_MODALITIES, create_encoder, register_encoder  # noqa: F401
from . import cnn, resnet  # noqa: F401  (registration side effects)
