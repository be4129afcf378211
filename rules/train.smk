from visionrepro.engine.gpus import gpu_resource


rule train:
    input:
        train=pack("train"),
        val=pack("monitored"),
        train_masks=masks("train"),
        val_masks=masks("val"),
        palette=palette_file,
        weights=pretrained_weights,
        network=network_file,
        folder=folder_records,
        code=code("train"),
    output:
        model=LAYOUT.run_pattern("model.pt"),
        history=LAYOUT.run_pattern("train.json"),
    log:
        f"{LOGS}/train/{{experiment}}/{{variant}}/seed{{seed}}.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: job("train", "threads")
    resources:
        # jobs.train.gpu; none on a machine without a GPU unless jobs go to a cluster
        # (gpu.devices: auto counts the GPUs here, an integer pretends; docs/gpus-and-clusters.md).
        gpu=gpu_resource(job("train", "gpu"), GPU.device_count(), workflow),
        mem_mb=job("train", "mem_mb"),
        runtime=job("train", "runtime"),
    params:
        network=lambda w: variant_of(w).network.spec,
        train=lambda w: variant_of(w).train,
        color=lambda w: experiment_of(w).config["color"],
        task=lambda w: experiment_of(w).task.name,
        network_options=network_options,
        data=lambda w: experiment_of(w).data_options(),
        dataset=lambda w: experiment_of(w).data_settings(),
        checkpoint=lambda w: f"{LAYOUT.run_dir(w.experiment, w.variant, w.seed)}/checkpoint.pt",
        gpu=GPU,
    script:
        "../workflow_scripts/train.py"


rule deeplab_weights:
    input:
        code=code("deeplab_weights"),
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


rule color_palette:
    input:
        train=pack("train"),
        code=code("color_palette"),
    output:
        LAYOUT.palette("{experiment}", "{palette_seed}"),
    log:
        f"{LOGS}/data/color_palette_{{experiment}}_seed{{palette_seed}}.log",
    wildcard_constraints:
        experiment=one_of(PLAN.of_task("colorization")),
        palette_seed=r"\d+",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        classes=lambda w: experiment_of(w).config.get("classes", []),
        palette=lambda w: {
            **experiment_of(w).config["palette"],
            "seed": int(w.palette_seed),
        },
    script:
        "../workflow_scripts/color_palette.py"
