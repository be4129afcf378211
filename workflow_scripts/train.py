"""Train one variant for one seed (rule train); resumes from its checkpoint if interrupted."""

import logging
from pathlib import Path

import torch

from visionrepro.colour import load_palette, with_colour_targets
from visionrepro.datasets import ArrayDataset
from visionrepro.fileio import atomic_path, write_json
from visionrepro.gpus import gpu_slot
from visionrepro.logs import setup_logging
from visionrepro.models import count_parameters
from visionrepro.provenance import provenance
from visionrepro.training import (
    TrainSettings,
    configure_threads,
    select_device,
    target_classes,
    train,
)

setup_logging(snakemake.log[0])
log = logging.getLogger("train")
w, params, inputs = snakemake.wildcards, snakemake.params, snakemake.input
data = params.data

configure_threads(snakemake.threads)
settings = TrainSettings.from_config(params.train, color=params.color, task=params.task)
train_set = ArrayDataset.load(inputs.train, masks=inputs.train_masks or None)
val_set = ArrayDataset.load(inputs.val, masks=inputs.val_masks or None)
if data["classes"]:
    train_set = train_set.select_classes(data["classes"])
    val_set = val_set.select_classes(data["classes"])
if data["val_fraction"]:
    train_set, val_set = train_set.split(data["val_fraction"], data["split_seed"])
    log.info(
        "held out %d of %d training images for validation",
        len(val_set),
        len(val_set) + len(train_set),
    )
if inputs.palette:
    palette = load_palette(inputs.palette)
    train_set = with_colour_targets(train_set, palette)
    val_set = with_colour_targets(val_set, palette)
checkpoint = Path(params.checkpoint)
with gpu_slot(params.gpu):
    device = select_device()
    model, history = train(
        params.network,
        train_set,
        val_set,
        settings,
        seed=int(w.seed),
        device=device,
        checkpoint=checkpoint,
        network_options=params.network_options,
        monitor=data["monitor"],
    )

with atomic_path(snakemake.output.model) as tmp:
    torch.save(
        {
            "network": params.network,
            "network_options": params.network_options,
            "classes": list(target_classes(train_set, settings.task)),
            "state_dict": model.state_dict(),
        },
        tmp,
    )
write_json(
    snakemake.output.history,
    {
        "experiment": w.experiment,
        "variant": w.variant,
        "network": params.network,
        "seed": int(w.seed),
        "params": count_parameters(model),
        "eval_split": data["eval_split"],
        "history": history,
        "provenance": provenance(
            Path(snakemake.scriptdir).parent,
            seed=int(w.seed),
            device=str(device),
            device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            threads=torch.get_num_threads(),
            train=params.train,
            color=params.color,
            task=params.task,
            network=params.network,
            network_options=params.network_options,
            dataset={**params.dataset, "train": inputs.train, "val": inputs.val},
        ),
    },
)
checkpoint.unlink(missing_ok=True)
