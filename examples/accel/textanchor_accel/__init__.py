"""A 3-axis accelerometer modality for textanchor, as an installable plugin.

modality.py: decoding (.csv / .npy), fixed-length windows, augmentation, how an app shows it.
encoder.py:  a small 1-D CNN.
data.py:     a synthetic data set of four activities (walking, running, sitting, jumping).
textanchor finds all three through the entry points in pyproject.toml; docs/new-modality.md
walks through them.
"""
