"""Train one network for one seed (rule train); resumes from its checkpoint if interrupted."""

import logging
from pathlib import Path

import torch

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
w, params = snakemake.wildcards, snakemake.params

configure_threads(snakemake.threads)
settings = TrainSettings.from_config(params.train, color=params.color, task=params.task)
inputs = snakemake.input
train_set = ArrayDataset.load(inputs.train, masks=inputs.train_masks or None)
val_set = ArrayDataset.load(inputs.val, masks=inputs.val_masks or None)
checkpoint = Path(params.checkpoint)
with gpu_slot(params.gpu):
    device = select_device()
    model, history = train(
        w.network,
        train_set,
        val_set,
        settings,
        seed=int(w.seed),
        device=device,
        checkpoint=checkpoint,
        network_options=params.network_options,
    )

with atomic_path(snakemake.output.model) as tmp:
    torch.save(
        {
            "network": w.network,
            "classes": list(target_classes(train_set, settings.task)),
            "state_dict": model.state_dict(),
        },
        tmp,
    )
write_json(
    snakemake.output.history,
    {
        "experiment": w.experiment,
        "network": w.network,
        "seed": int(w.seed),
        "params": count_parameters(model),
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
            network_options=params.network_options,
            dataset={**params.dataset, "train": snakemake.input.train, "val": snakemake.input.val},
        ),
    },
)
checkpoint.unlink(missing_ok=True)
