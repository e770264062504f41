"""Modalities, by registry.

A modality knows how to decode a file into an item, turn items (numpy arrays from
`textanchor.data`) into a fixed-shape tensor batch, augment such a batch for training, which
on-device front end (e.g. log-mel) sits before the encoder, and how an app takes a query of its
kind and shows a result (see `Modality`). Adding a modality is one new file in this folder that
subclasses `Modality` and registers it with `@MODALITIES.register(name)`: it is found on the
first lookup, with no import to add here. Another installed package adds one through the
`textanchor.modalities` entry point group (docs/new-modality.md walks through both).
"""
from .base import MODALITIES, Modality, create_modality, modality_for_path, read_query  # noqa: F401
