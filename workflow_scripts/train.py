"""Train one variant for one seed (rule train); resumes from its checkpoint if interrupted."""

from pathlib import Path

import torch

from visionrepro.engine.checkpoints import (
    continue_attempt_log,
    discard_evaluation,
    finish_run,
    save_trained,
)
from visionrepro.engine.gpus import gpu_slot
from visionrepro.engine.model_inputs import target_classes
from visionrepro.engine.splits import training_splits
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.engine.training import configure_threads, select_device, train
from visionrepro.fileio import read_json, write_json
from visionrepro.logs import setup_logging
from visionrepro.models import count_parameters
from visionrepro.networks import parse_network
from visionrepro.provenance import (
    data_digests,
    imported_project_files,
    project_digests,
    provenance,
)

setup_logging(snakemake.log[0])
w, params, inputs = snakemake.wildcards, snakemake.params, snakemake.input
data = params.data
checkpoint = Path(params.checkpoint)
attempts = continue_attempt_log(checkpoint)
discard_evaluation(Path(snakemake.output.model).parent)

configure_threads(snakemake.threads)
settings = TrainSettings.from_config(params.train, color=params.color, task=params.task)
train_set, val_set = training_splits(
    inputs.train,
    inputs.val,
    train_masks=inputs.train_masks,
    val_masks=inputs.val_masks,
    palette=inputs.palette,
    classes=data["classes"],
    val_fraction=data["val_fraction"],
    split_seed=data["split_seed"],
)
with gpu_slot(params.gpu):
    device = select_device()
    state = train(
        params.network,
        train_set,
        val_set,
        settings,
        seed=int(w.seed),
        device=device,
        checkpoint=checkpoint,
        network_options=params.network_options,
        monitor=data["monitor"],
        code=[*inputs.code, *inputs.network, Path(snakemake.scriptdir) / "train.py"],
    )

save_trained(snakemake.output.model, state, target_classes(train_set, settings.task))
dataset = {**params.dataset, "train": inputs.train, "val": inputs.val}
folder = [read_json(path) for path in inputs.folder]  # an image folder's pack records
if folder:
    dataset["sha256"] = folder[0]["sha256"]  # of the whole folder, the same in each record
write_json(
    snakemake.output.history,
    {
        "experiment": w.experiment,
        "variant": w.variant,
        "network": parse_network(params.network).name,
        "seed": int(w.seed),
        "params": count_parameters(state.model),
        "eval_split": data["eval_split"],
        "history": state.history,
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
            project_files=project_digests(
                dict.fromkeys([parse_network(params.network).file, *imported_project_files(".")])
            ),
            dataset=dataset,
            data_sha256=data_digests(
                [inputs.train, inputs.val, inputs.train_masks, inputs.val_masks, inputs.palette]
            ),
        ),
    },
)
finish_run(checkpoint, attempts)
