rule evaluate:
    input:
        model=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/model.pt",
        history=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/train.json",
        val=lambda w: experiment_dataset(w, "eval"),
        network=network_file,
        code=lib(
            "engine/evaluation",
            "engine/training",
            "engine/train_settings",
            "engine/model_inputs",
            "engine/checkpoints",
            "engine/splits",
            "data/datasets",
            "data/colour",
            "engine/losses",
            "engine/metrics",
            "models/__init__",
        ),
    output:
        metrics=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/metrics.json",
        predictions=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/predictions.csv",
    log:
        f"{LOGS}/evaluate/{{experiment}}/{{variant}}/seed{{seed}}.log",
    wildcard_constraints:
        experiment=one_of(experiments_of("classification")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        data=data_options,
    script:
        "../workflow_scripts/evaluate.py"


rule evaluate_dense:
    input:
        model=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/model.pt",
        history=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/train.json",
        val=lambda w: experiment_dataset(w, "eval"),
        val_masks=lambda w: experiment_masks(w, "val"),
        palette=experiment_palette,
        network=network_file,
        code=lib(
            "engine/evaluation",
            "engine/training",
            "engine/train_settings",
            "engine/model_inputs",
            "engine/checkpoints",
            "engine/splits",
            "data/datasets",
            "data/colour",
            "engine/losses",
            "engine/metrics",
            "models/__init__",
        ),
    output:
        metrics=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/metrics.json",
        predictions=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/predictions.csv",
        masks=f"{RESULTS}/runs/{{experiment}}/{{variant}}/seed{{seed}}/predicted_masks.npz",
    log:
        f"{LOGS}/evaluate/{{experiment}}/{{variant}}/seed{{seed}}.log",
    wildcard_constraints:
        experiment=one_of(
            experiments_of("segmentation") + experiments_of("colorization")
        ),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("train", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        data=data_options,
    script:
        "../workflow_scripts/evaluate.py"
