rule train:
    input:
        train=lambda w: experiment_dataset(w, "train"),
        val=lambda w: experiment_dataset(w, "val"),
        train_masks=lambda w: experiment_masks(w, "train"),
        val_masks=lambda w: experiment_masks(w, "val"),
        weights=pretrained_weights,
        network=lambda w: str(network_source(w.network)),
        code=lib("training", "datasets", "gpus", "losses", "metrics", "models/__init__"),
    output:
        model=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/model.pt",
        history=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/train.json",
    log:
        f"{LOGS}/train/{{experiment}}/{{network}}/seed{{seed}}.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: job("train", "threads")
    resources:
        gpu=job("train", "gpu"),
        mem_mb=job("train", "mem_mb"),
        runtime=job("train", "runtime"),
    params:
        train=lambda w: EXPERIMENTS[w.experiment]["train"],
        color=lambda w: EXPERIMENTS[w.experiment]["color"],
        task=lambda w: EXPERIMENTS[w.experiment]["task"],
        network_options=network_options,
        dataset=dataset_config,
        checkpoint=lambda w: f"{run_dir(w.experiment, w.network, w.seed)}/checkpoint.pt",
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
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/deeplab_weights.py"
