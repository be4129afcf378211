"""An experiment's splits as training and evaluation see them: the packed split with its masks,
only the experiment's classes, per-pixel colour targets for colourization, a held-out val part."""

import logging
import os
from collections.abc import Sequence

from visionrepro.data.color import load_palette, with_color_targets
from visionrepro.data.datasets import ArrayDataset

log = logging.getLogger(__name__)

PathOrNone = str | os.PathLike | None


def load_split(
    pack: str | os.PathLike,
    *,
    masks: PathOrNone = None,
    palette: PathOrNone = None,
    classes: Sequence[str] = (),
) -> ArrayDataset:
    """A packed split (with the masks file if given), reduced to `classes` if any, with each
    pixel's nearest palette colour as its target if a palette file is given."""
    data = ArrayDataset.load(pack, masks=masks or None)
    if classes:
        data = data.select_classes(classes)
    if palette:
        data = with_color_targets(data, load_palette(palette))
    return data


def training_splits(
    train: str | os.PathLike,
    val: str | os.PathLike,
    *,
    train_masks: PathOrNone = None,
    val_masks: PathOrNone = None,
    palette: PathOrNone = None,
    classes: Sequence[str] = (),
    val_fraction: float = 0.0,
    split_seed: int = 0,
) -> tuple[ArrayDataset, ArrayDataset]:
    """(training split, monitored split): with `val_fraction`, a seeded held-out part of the
    training pack (which is then loaded once; `val` is not read), else the pack `val`."""
    train_set = load_split(train, masks=train_masks, palette=palette, classes=classes)
    if not val_fraction:
        return train_set, load_split(val, masks=val_masks, palette=palette, classes=classes)
    rest, held = train_set.split(val_fraction, split_seed)
    log.info("held out %d of %d training images for validation", len(held), len(train_set))
    return rest, held
