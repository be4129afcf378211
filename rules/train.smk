rule train:
    input:
        train=lambda w: experiment_dataset(w, "train"),
        val=monitored_dataset,
        train_masks=lambda w: experiment_masks(w, "train"),
        val_masks=lambda w: experiment_masks(w, "val"),
        palette=experiment_palette,
        weights=pretrained_weights,
        network=network_file,
        folder=folder_records,
        code=lib(
            "engine/training",
            "engine/train_settings",
            "engine/model_inputs",
            "engine/checkpoints",
            "engine/splits",
            "data/datasets",
            "data/colour",
            "engine/gpus",
            "engine/losses",
            "engine/metrics",
            "models/__init__",
        ),
    output:
        model=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/model.pt",
        history=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/train.json",
    log:
        f"{LOGS}/train/{{experiment}}/{{variant}}/seed{{seed}}.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: job("train", "threads")
    resources:
        gpu=job("train", "gpu"),
        mem_mb=job("train", "mem_mb"),
        runtime=job("train", "runtime"),
    params:
        network=lambda w: variant_of(w)["network"],
        train=lambda w: variant_of(w)["train"],
        color=lambda w: EXPERIMENTS[w.experiment]["color"],
        task=lambda w: EXPERIMENTS[w.experiment]["task"],
        network_options=network_options,
        data=data_options,
        dataset=dataset_config,
        checkpoint=lambda w: f"{run_dir(w.experiment, w.variant, w.seed)}/checkpoint.pt",
        gpu=GPU,
    script:
        "../workflow_scripts/train.py"


rule deeplab_weights:
    input:
        code=lib("models/deeplab"),
    output:
        DEEPLAB_WEIGHTS,
    log:
        f"{LOGS}/data/deeplab_weights.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    script:
        "../workflow_scripts/deeplab_weights.py"


rule colour_palette:
    input:
        train=lambda w: experiment_dataset(w, "train"),
        code=lib("data/palette", "data/colour", "data/datasets"),
    output:
        f"{RESULTS}/palettes/{{experiment}}/seed{{palette_seed}}.npz",
    log:
        f"{LOGS}/data/colour_palette_{{experiment}}_seed{{palette_seed}}.log",
    wildcard_constraints:
        experiment=one_of(experiments_of("colorization")),
        palette_seed=r"\d+",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        classes=lambda w: EXPERIMENTS[w.experiment].get("classes", []),
        palette=lambda w: {
            **EXPERIMENTS[w.experiment]["palette"],
            "seed": int(w.palette_seed),
        },
    script:
        "../workflow_scripts/colour_palette.py"
