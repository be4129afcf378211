rule evaluate:
    input:
        model=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/model.pt",
        history=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/train.json",
        val=lambda w: experiment_dataset(w, "val"),
        network=lambda w: str(network_source(w.network)),
        code=lib("training", "metrics", "models/__init__"),
    output:
        metrics=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/metrics.json",
        predictions=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/predictions.csv",
    log:
        f"{LOGS}/evaluate/{{experiment}}/{{network}}/seed{{seed}}.log",
    wildcard_constraints:
        experiment=one_of(experiments_of("classification")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/evaluate.py"


rule evaluate_segmentation:
    input:
        model=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/model.pt",
        history=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/train.json",
        val=lambda w: experiment_dataset(w, "val"),
        val_masks=lambda w: experiment_masks(w, "val"),
        network=lambda w: str(network_source(w.network)),
        code=lib("training", "metrics", "models/__init__"),
    output:
        metrics=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/metrics.json",
        predictions=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/predictions.csv",
        masks=f"{RESULTS}/runs/{{experiment}}/{{network}}/seed{{seed}}/predicted_masks.npz",
    log:
        f"{LOGS}/evaluate/{{experiment}}/{{network}}/seed{{seed}}.log",
    wildcard_constraints:
        experiment=one_of(experiments_of("segmentation")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../workflow_scripts/evaluate.py"
