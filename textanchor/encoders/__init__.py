"""Encoders, by registry: every encoder maps a front-end batch to (B, D) and says D.

`create_encoder(name, input_shape, **options)`; each factory is registered with
`@register_encoder(name, modalities=(...))`. Adding an encoder is one new file in this folder
(found on the first lookup, no import to add here) or a `textanchor.encoders` entry point in
another installed package; see `textanchor.registry`.
"""
from .base import ENCODERS, ENCODER_MODALITIES, create_encoder, encoders_for, register_encoder  # noqa: F401
