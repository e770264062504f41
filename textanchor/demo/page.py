"""What the Search tab offers for a model: which of the page's inputs it shows, what each says,
and which examples fit. The same page serves a digits model (image + audio branches) and a
things model (sketch, photo, sound and speech branches), so every visitor's page follows the
model they chose; `app.py` turns these views into component updates."""
from __future__ import annotations

from dataclasses import dataclass

from .service import INPUTS

THINGS_MODALITIES = ("sketch", "photo", "sound", "speech")


@dataclass(frozen=True)
class InputView:
    visible: bool
    label: str = ""


def is_things(modalities) -> bool:
    """A model of everyday things (any of the things branches) rather than of digits."""
    return any(m in THINGS_MODALITIES for m in modalities)


def _some(class_names, wanted, n: int = 3) -> str:
    """Up to n of `wanted` that the model knows, as "a cat, a house, a tree"."""
    known = [w for w in wanted if w in set(class_names)][:n]
    return ", ".join(f"a {w}" for w in known) if known else ""


def input_views(modalities, class_names) -> dict[str, InputView]:
    """{page input: InputView} for the inputs of `service.INPUTS` and the text box."""
    mods = set(modalities)
    has = {kind: any(m in mods for m in INPUTS[kind]) for kind in INPUTS}
    if not is_things(mods):
        return {"sketch": InputView(has["sketch"], "Draw a digit"),
                "photo": InputView(has["photo"], "Or upload a photo of a digit (phone, scan, any pen)"),
                "speech": InputView(has["speech"], "Say a digit (or upload a file)"),
                "sound": InputView(False),
                "text": InputView(True, "seven, the number three, nine ...")}
    drawn = _some(class_names, ("cat", "house", "tree", "bicycle", "fish", "car"))
    said = [w for w in ("cat", "dog", "bird", "house", "tree", "bed") if w in set(class_names)]
    heard = _some(class_names, ("dog", "rooster", "rain", "helicopter", "crying baby"))
    return {
        "sketch": InputView(has["sketch"], f"Draw a thing ({drawn} ...)" if drawn else "Draw a thing"),
        "photo": InputView(has["photo"], "Or upload a photo of a thing (phone, webcam, any picture)"),
        "speech": InputView(has["speech"], f"Say a word ({', '.join(said[:5])} ...) or upload a recording"
                            if said else "Say a word (or upload a recording)"),
        "sound": InputView(has["sound"], f"Play or record a sound ({heard} ...)" if heard else "Play or record a sound"),
        "text": InputView(True, "a barking dog, something that flies, a cat ..."),
    }


@dataclass(frozen=True)
class PageView:
    """Everything on the page that depends on the visitor's model."""

    modalities: tuple  # the model's branches (a plugin's input shows when its modality is one)
    inputs: dict  # {page input: InputView} (`input_views`)
    examples: str  # which example set the Search tab shows: "things" or "digits"
    train_choices: list  # the Train tab's data choices (`trainer.data_choices`)
    train_default: list  # the ones ticked to start with: those that work offline


def page_view(modalities, class_names) -> PageView:
    """The page for a model of these modalities and classes."""
    from .trainer import OFFLINE_CHOICES, data_choices

    choices = list(data_choices(modalities))
    return PageView(tuple(modalities), input_views(modalities, class_names), "things" if is_things(modalities) else "digits",
                    choices, [c for c in choices if c in OFFLINE_CHOICES])
