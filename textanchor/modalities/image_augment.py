"""Training-time augmentation of prepared 28x28 digits, batched on the training device.

What a picture that went through `picture.prepare_digit` still varies in, and MNIST alone does
not show: pen width (a stroke normalised from 1 px is not MNIST's), faint ink, residual blur and
paper grain, hand slant, the camera's perspective and the wobble of a hand. Geometric and blur
ops are kornia's (per-item random parameters, drawn from torch's seeded global generator).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _pick(b: int, probs: list[float], generator, device) -> torch.Tensor:
    """(B,) index of the option each item gets."""
    return torch.multinomial(torch.tensor(probs), b, replacement=True, generator=generator).to(device)


def stroke_jitter(x: torch.Tensor, generator=None, p_thin: float = 0.1, p_thick: float = 0.2) -> torch.Tensor:
    """Grey erosion or dilation by one pixel (3x3), per item: (B, C, H, W) -> same."""
    choice = _pick(x.shape[0], [p_thin, 1 - p_thin - p_thick, p_thick], generator, x.device).view(-1, 1, 1, 1)
    thin = -F.max_pool2d(-x, 3, 1, 1)
    thick = F.max_pool2d(x, 3, 1, 1)
    return torch.where(choice == 0, thin, torch.where(choice == 2, thick, x))


def photometric(x: torch.Tensor, generator=None, min_gain: float = 0.6, noise: float = 0.03) -> torch.Tensor:
    """Faint ink (gain in [min_gain, 1]) and sensor / paper grain (Gaussian, half the items)."""
    b = x.shape[0]
    gain = min_gain + (1 - min_gain) * torch.rand(b, 1, 1, 1, generator=generator).to(x.device)
    grain = torch.randn(x.shape, generator=generator).to(x.device) * noise
    grain = grain * (torch.rand(b, 1, 1, 1, generator=generator).to(x.device) < 0.5)
    return (x * gain + grain).clamp(0, 1)


class DigitAugment:
    """Stroke width, affine, perspective, elastic, blur, gain and noise, in that order.

    Args: rotate_deg, shift (fraction of the side), scale: the affine ranges; the rest are
    fixed at values checked by eye on MNIST and on prepared phone photos, kept mild because
    the recipe has only 3 epochs to reach MNIST's accuracy.
    """

    def __init__(self, rotate_deg: float = 10.0, shift: float = 0.1, scale: float = 0.1):
        import kornia.augmentation as K

        self.geometry = K.AugmentationSequential(
            K.RandomAffine(degrees=rotate_deg, translate=(shift, shift), scale=(1 - scale, 1 + scale), shear=5.0, p=1.0),
            K.RandomPerspective(distortion_scale=0.2, p=0.25),
            # A smooth displacement field a few pixels across: the wobble of a hand-drawn line.
            K.RandomElasticTransform(kernel_size=(15, 15), sigma=(4.0, 4.0), alpha=(0.6, 0.6), p=0.2),
            K.RandomGaussianBlur((3, 3), sigma=(0.3, 1.0), p=0.2),
        )

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> same shape, augmented."""
        x = stroke_jitter(x, generator)
        x = self.geometry(x)
        return photometric(x, generator)
