"""Modalities, by registry.

A modality knows how to turn decoded items (numpy arrays from `textanchor.data`) into a
fixed-shape tensor batch, how to augment such a batch for training, and which on-device
front end (e.g. log-mel) sits before the encoder. Adding a modality is one new file in this
folder that subclasses `Modality` and registers it; nothing else changes.
"""
from .base import MODALITIES, Modality, create_modality  # noqa: F401
from . import image, audio  # noqa: F401  (registration side effects)
