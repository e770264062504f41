"""One preprocessing path for every picture of a digit: uploads, API images, sketches, data set
items and video frames all become MNIST-like 28x28 ink images here.

    picture (any size, grey/RGB/RGBA, any polarity, photo or drawing)
      -> ink map       `extract_ink`: alpha or luma, polarity from the border, illumination
                       flattened, Otsu threshold, the digit's connected components only
      -> MNIST layout  `center_digit`: crop, stroke width normalised, 20 px box, centre of mass
                       at the centre of 28x28 (LeCun et al.'s recipe for MNIST itself)

Image operations are OpenCV's (Otsu, morphology, connected components, distance transform,
area resampling): fast enough that MNIST's 60,000 training digits take the same path.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

# Every call here works on one small picture: handing it to OpenCV's thread pool costs more
# than it saves (connected components of a 96 px mask: 1.9 ms with 2 threads, 0.26 ms with 1).
cv2.setNumThreads(1)

WORK_SIDE = 256  # longer side pictures are analysed at: pen strokes of a 518 px photo stay >= 1 px
BORDER = 0.04  # width of the frame (fraction of the side) that tells the background colour
MIN_CONTRAST = 0.10  # the strongest ink must differ this much (of full scale) from the paper
MIN_DIGIT_SIDE = 0.08  # a digit's box must span this fraction of the picture's longer side...
MIN_DIGIT_PIXELS = 12  # ...and hold this many ink pixels at the working resolution
MAX_PARTS = 8  # more sizeable ink blobs than this is a texture or a page of text, not a digit
MAX_HOLES = 4  # a digit encloses at most two holes (8, a slashed 0); a texture or a grid, dozens


@dataclass(frozen=True)
class InkRules:
    """What counts as one drawn mark when ink is extracted from a picture (`extract_ink`).

    The defaults are a digit's; a sketch of a thing (`SKETCH`) has many more parts (eyes,
    whiskers, windows) and holes, and small parts matter, so only specks and frame-touching
    blobs are dropped there."""

    noun: str = "digit"  # for messages: "No digit found ..."
    max_parts: int = MAX_PARTS  # more sizeable blobs: a texture, refused
    max_holes: int = MAX_HOLES  # more enclosed regions: a texture, refused
    min_part: float = 0.05  # blobs under this fraction of the largest one are specks, dropped


DIGIT = InkRules()
SKETCH = InkRules(noun="drawing", max_parts=60, max_holes=40, min_part=0.01)
STROKE_FRACTION = 0.12  # MNIST strokes are ~2.4 px in its 20 px box


class NoDigitError(ValueError):
    """The picture holds no readable digit; the message says what was seen and what to do."""


# --------------------------------------------------------------------------------- decoding
def load_picture(source) -> np.ndarray:
    """A path, file object, PIL image or array -> uint8 array (H, W), (H, W, 3) or (H, W, 4),
    turned upright by its EXIF orientation (phones store portrait photos sideways).

    Raises: NoDigitError: the file is not a decodable image.
    """
    if isinstance(source, np.ndarray):
        return source
    try:
        with warnings.catch_warnings():  # the size is checked below, with a message, not a warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = source if isinstance(source, Image.Image) else Image.open(Path(source) if isinstance(source, str) else source)
        # Only the header is read so far; PIL's decompression-bomb limit (~89 megapixels) keeps
        # a huge picture from being decoded into gigabytes.
        if Image.MAX_IMAGE_PIXELS and im.width * im.height > Image.MAX_IMAGE_PIXELS:
            raise NoDigitError(f"The picture is too large ({im.width}x{im.height} px, {im.width * im.height / 1e6:.0f} "
                               f"megapixels; at most {Image.MAX_IMAGE_PIXELS / 1e6:.0f}). Scale it down or crop it to the digit.")
        im = ImageOps.exif_transpose(im)
        has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
        mode = "RGBA" if has_alpha else ("L" if im.mode in ("L", "1", "I", "I;16", "F") else "RGB")
        return np.asarray(im.convert(mode))
    except NoDigitError:
        raise
    except Image.DecompressionBombError as e:  # over twice the limit: PIL refuses at open
        raise NoDigitError(f"The picture is too large ({e}). Scale it down or crop it to the digit.") from None
    except (OSError, ValueError, SyntaxError) as e:
        name = Path(str(source)).name if isinstance(source, (str, Path)) else "the upload"
        raise NoDigitError(f"Could not read {name} as a picture ({e}); use a PNG, JPEG, WebP, BMP or GIF file.") from None


def _unit(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    a = a.astype(np.float32)
    return a / 255.0 if a.size and a.max() > 1.0 else a


def alpha_ink(a: np.ndarray) -> np.ndarray | None:
    """(H, W) ink from the alpha channel of an RGBA picture whose alpha varies (strokes on a
    transparent layer); None when alpha is constant (an opaque picture: read its colours)."""
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[2] == 4:
        alpha = _unit(a[..., 3])
        if alpha.size and float(alpha.max()) - float(alpha.min()) > 0.1:
            return alpha
    return None


def luma(a: np.ndarray) -> np.ndarray:
    """(H, W[, C]) -> (H, W) float32 in [0, 1] (ITU-R 601 weights; alpha is ignored)."""
    a = _unit(a)
    if a.ndim == 3:
        a = a[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32) if a.shape[2] >= 3 else a[..., 0]
    if a.ndim != 2:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got {a.shape}")
    return np.ascontiguousarray(a, np.float32)


# --------------------------------------------------------------------------------- ink map
def paper_level(g: np.ndarray) -> float:
    """The background's grey level, read from the picture's frame. When the frame is split
    (a fat digit running off the edges covers much of it), the four corners decide: digits
    are round enough to leave them empty."""
    b = max(1, int(round(BORDER * max(g.shape))))
    ring = np.concatenate([g[:b].ravel(), g[-b:].ravel(), g[:, :b].ravel(), g[:, -b:].ravel()])
    lo, hi = float(ring.min()), float(ring.max())
    if hi - lo > 2 * MIN_CONTRAST:
        bright = float((ring > (lo + hi) / 2).mean())
        if 0.2 < bright < 0.8:
            c = max(2, 3 * b)
            ring = np.concatenate([g[:c, :c].ravel(), g[:c, -c:].ravel(), g[-c:, :c].ravel(), g[-c:, -c:].ravel()])
    return float(np.median(ring))


def _background(g: np.ndarray, paper: float, ink_level: float) -> np.ndarray:
    """Local paper level of `g` (ink bright, paper dark), for lighting gradients and shadows.

    A grey opening (min then max filter) a third of the picture wide removes every stroke,
    leaving the paper; it is computed at 64 px and smoothed, since lighting varies slowly.
    Where a very fat stroke survives the opening, the estimate is clamped halfway to the ink,
    so such strokes stay ink instead of being hollowed out.
    """
    h, w = g.shape
    s = 64.0 / max(h, w)
    small = cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else g
    k = max(3, int(max(small.shape) / 3) | 1)
    bg = cv2.morphologyEx(small, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = cv2.GaussianBlur(bg, (0, 0), k / 4)
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR) if bg.shape != g.shape else bg
    return np.minimum(bg, paper + 0.5 * (ink_level - paper))


def extract_ink(picture, work_side: int = WORK_SIDE, rules: InkRules = DIGIT) -> np.ndarray:
    """Any picture of one digit (or, with `rules=SKETCH`, one drawing) -> its ink, bright on
    black, at working resolution.

    Args:
        picture: uint8/float array (H, W), (H, W, 3) or (H, W, 4), a PIL image or a path.
            RGBA with varying alpha (a drawing layer) is read from its alpha channel;
            anything else from its luma, dark-on-light or light-on-dark.
        work_side: pictures larger than this (longer side, px) are shrunk first.
    Returns:
        (h, w) float32 in [0, 1]: 1 = full ink; only the digit's connected components remain.
    Raises:
        NoDigitError: blank or too faint, too small (a dot), or a texture of many blobs.
    """
    n = rules.noun
    a = load_picture(picture)
    g = alpha_ink(a)
    from_alpha = g is not None
    g = luma(a) if g is None else np.ascontiguousarray(g, np.float32)
    if g.size == 0:
        raise NoDigitError("The picture is empty.")
    h, w = g.shape
    if max(h, w) > work_side:  # INTER_AREA averages, so thin strokes fade but do not vanish
        s = work_side / max(h, w)
        g = cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    # Polarity from the background: the frame is paper; ink is the larger excursion from it.
    paper = paper_level(g)
    smooth = cv2.blur(g, (3, 3)) if min(g.shape) >= 3 else g
    if not from_alpha and paper - float(smooth.min()) > float(smooth.max()) - paper:
        g, paper, smooth = 1.0 - g, 1.0 - paper, 1.0 - smooth
    top = float(smooth.max())
    if top - paper < MIN_CONTRAST:
        raise NoDigitError(f"No {n} found: the picture is blank or too faint. "
                           + ("Write the digit darker or larger." if n == "digit" else f"Draw the {n} darker or larger."))
    bg = _background(g, paper, top)
    # Ink as the fraction of the way from the local paper level to white: shadows cancel out.
    ink = np.clip((g - bg) / np.maximum(1.0 - bg, 1e-3), 0.0, 1.0)
    return _digit_components(ink, scale=max(h, w) / max(g.shape), rules=rules)


def _digit_components(ink: np.ndarray, scale: float = 1.0, rules: InkRules = DIGIT) -> np.ndarray:
    """Threshold the ink map (Otsu) and keep the digit's components: border-touching blobs
    (paper edges, shadows, the table) and specks go; the ink is normalised to peak at 1.
    `scale` converts working pixels back to the original picture's, for messages."""
    u8 = (ink * 255).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    strong = float(np.percentile(ink[ink > otsu / 255.0], 90)) if (ink > otsu / 255.0).any() else float(ink.max())
    t = max(otsu / 255.0, 0.35 * strong, MIN_CONTRAST / 2)
    mask = (ink > t).astype(np.uint8)
    mask[ruled_lines(mask)] = 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    d = rules.noun
    if n <= 1:
        raise NoDigitError(f"No {d} found: the picture is blank or too faint. "
                           + ("Write the digit darker or larger." if d == "digit" else f"Draw the {d} darker or larger."))
    area = stats[1:, cv2.CC_STAT_AREA]
    x0, y0 = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
    x1, y1 = x0 + stats[1:, cv2.CC_STAT_WIDTH], y0 + stats[1:, cv2.CC_STAT_HEIGHT]
    H, W = ink.shape
    inner = (x0 > 0) & (y0 > 0) & (x1 < W) & (y1 < H)
    # Prefer components away from the edges, unless the digit itself fills the frame.
    pool = inner if inner.any() and area[inner].max() >= 0.1 * area.max() else np.ones_like(inner)
    main = int(np.argmax(np.where(pool, area, -1)))
    keep = pool & (area >= rules.min_part * area[main])
    if int(keep.sum()) > rules.max_parts:
        raise NoDigitError(f"No single {d} found: the picture holds {int(keep.sum())} separate marks "
                           f"(a texture or several objects). Crop it to one {d}.")
    sel = np.isin(labels, np.flatnonzero(keep) + 1)
    ys, xs = np.nonzero(sel)
    side = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    if side < MIN_DIGIT_SIDE * max(H, W) or len(ys) < MIN_DIGIT_PIXELS:
        raise NoDigitError(f"The mark is too small to read ({side * scale:.0f} px in a {max(H, W) * scale:.0f} px "
                           f"picture): write or draw a larger {d}.")
    if _holes(sel) > rules.max_holes:
        raise NoDigitError(f"No single {d} found: the picture looks like a texture or a pattern. "
                           f"Crop it to one {d} on plain paper.")
    # Keep the antialiased rim of the kept strokes, not just the thresholded core.
    sel = cv2.dilate(sel.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return np.clip(np.where(sel, ink, 0.0) / max(strong, 1e-3), 0.0, 1.0).astype(np.float32)


def ruled_lines(mask: np.ndarray) -> np.ndarray:
    """Boolean mask of the thin straight lines that run across the whole picture: ruled or
    squared paper, a page edge. A line is a run of short straight pieces (1/8 of the side, so
    a line a few degrees off level still counts) spanning 90% of the picture; of it, only the
    pixels in a cross-section at most 2.5% of the picture thick are returned, so a digit's
    stroke that crosses or rides on a line keeps its pixels there."""
    H, W = mask.shape
    out = np.zeros((H, W), bool)
    for horizontal in (True, False):
        side, across = (W, H) if horizontal else (H, W)
        k = (max(3, side // 8), 1) if horizontal else (1, max(3, side // 8))
        run = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, k))
        n, lab, st, _ = cv2.connectedComponentsWithStats(run, connectivity=8)
        span = st[1:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT]
        extent = st[1:, cv2.CC_STAT_HEIGHT if horizontal else cv2.CC_STAT_WIDTH]
        hit = (span >= 0.9 * side) & (extent <= 0.15 * across)
        if hit.any():
            w = max(2, int(0.025 * across)) + 2
            stroke = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(
                cv2.MORPH_RECT, (1, w) if horizontal else (w, 1))).astype(bool)  # runs across the line: strokes
            out |= np.isin(lab, np.flatnonzero(hit) + 1) & ~stroke
    return out


def _holes(sel: np.ndarray) -> int:
    """Background regions enclosed by the ink (4-connected, not touching the frame), ignoring
    pinholes under 0.2% of the ink's box."""
    n, _, st, _ = cv2.connectedComponentsWithStats((~sel).astype(np.uint8), connectivity=4)
    H, W = sel.shape
    x0, y0 = st[1:, cv2.CC_STAT_LEFT], st[1:, cv2.CC_STAT_TOP]
    x1, y1 = x0 + st[1:, cv2.CC_STAT_WIDTH], y0 + st[1:, cv2.CC_STAT_HEIGHT]
    ys, xs = np.nonzero(sel)
    box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
    inner = (x0 > 0) & (y0 > 0) & (x1 < W) & (y1 < H) & (st[1:, cv2.CC_STAT_AREA] >= max(4, 0.002 * box))
    return int(inner.sum())


# --------------------------------------------------------------------------------- layout
def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width (px) of a binary mask: inside a stroke of width w the distance to
    the background averages about w / 4."""
    if not mask.any():
        return 0.0
    d = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    return 4.0 * float(d[mask].mean())


def _normalise_strokes(crop: np.ndarray, target: float) -> np.ndarray:
    """Dilate strokes thinner than `target` px, erode ones over twice as fat (a marker, a
    bold font), so a pen, a finger and MNIST all look alike at 28 px."""
    width = stroke_width(crop > 0.5)
    if width <= 0:
        return crop
    if width < 0.75 * target:
        r = int(round((target - width) / 2))
        if r >= 1:
            return cv2.dilate(crop, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    elif width > 2.0 * target:
        r = int(round((width - 1.4 * target) / 2))
        eroded = cv2.erode(crop, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
        if (eroded > 0.5).sum() > 0.25 * (crop > 0.5).sum():  # never erode a digit away
            return eroded
    return crop


def center_digit(ink: np.ndarray, size: int = 28, box: int = 20, stroke_fraction: float | None = STROKE_FRACTION) -> np.ndarray:
    """Crop to the ink, normalise the stroke width, fit a `box` square keeping aspect and
    put the centre of mass at the centre of a `size` canvas (how MNIST was made).

    Args:
        ink: (H, W) float in [0, 1], ink bright on black.
        stroke_fraction: wanted stroke width as a fraction of `box`; None keeps strokes as is.
    Returns: (size, size) float32 in [0, 1]; all zeros when there is no ink.
    """
    ink = np.asarray(ink, np.float32)
    on = ink > 0.05 * max(float(ink.max()), 1e-6)
    if not on.any():
        return np.zeros((size, size), np.float32)
    rows, cols = np.nonzero(on)
    crop = ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    if stroke_fraction:
        # Strokes are measured at 4x the box, where a 2.4 px MNIST stroke is ~10 px wide.
        big = 4 * box
        h, w = crop.shape
        s = big / max(h, w)
        peak = float(crop.max())
        crop = cv2.resize(crop, (max(1, round(w * s)), max(1, round(h * s))),
                          interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        # Shrinking averages a line thinner than the shrink factor into a faint one (a 1 px pen
        # on a 256 px canvas peaks at ~0.4 here): bring the peak back, so the width is measured
        # on the line and it gets thickened, instead of fading to nothing.
        if 0 < float(crop.max()) < 0.9 * peak:
            crop = np.clip(crop * (peak / float(crop.max())), 0.0, 1.0)
        pad = big // 8  # room for dilation at the edges of the crop
        crop = _normalise_strokes(cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0),
                                  stroke_fraction * big)
        on = crop > 0.05 * max(float(crop.max()), 1e-6)
        rows, cols = np.nonzero(on)
        crop = crop[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    h, w = crop.shape
    s = box / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    total = float(small.sum())
    ys, xs = np.mgrid[:nh, :nw]
    cy = float((ys * small).sum()) / total if total > 0 else nh / 2
    cx = float((xs * small).sum()) / total if total > 0 else nw / 2
    top = min(max(int(round(size / 2 - cy)), 0), size - nh)
    left = min(max(int(round(size / 2 - cx)), 0), size - nw)
    canvas = np.zeros((size, size), np.float32)
    canvas[top: top + nh, left: left + nw] = small
    return np.clip(canvas, 0.0, 1.0)


def prepare_digit(picture, size: int = 28, box: int = 20, stroke_fraction: float | None = STROKE_FRACTION) -> np.ndarray:
    """The whole path: any picture -> (size, size) float32 MNIST-like digit.

    Raises: NoDigitError (see `extract_ink`)."""
    return center_digit(extract_ink(picture), size, box, stroke_fraction)
