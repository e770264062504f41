"""textanchor: every modality projected onto one frozen text-embedding space."""
__version__ = "0.1.0"
