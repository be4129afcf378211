from visionrepro.engine.gpus import gpu_resource
from visionrepro.plan.job_params import JobParams

# Params functions of the training, palette and evaluation jobs (named, one per param).
JOB = JobParams(PLAN)


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
    benchmark:
        LAYOUT.benchmark("train/{experiment}/{variant}/seed{seed}")
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
        network=JOB.network,
        train=JOB.train,
        color=JOB.color,
        task=JOB.task,
        network_options=network_options,
        data=JOB.data,
        dataset=JOB.dataset,
        checkpoint=LAYOUT.run_pattern("checkpoint.pt"),
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
    benchmark:
        LAYOUT.benchmark("data/deeplab_weights")
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
    benchmark:
        LAYOUT.benchmark("data/color_palette_{experiment}_seed{palette_seed}")
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
        classes=JOB.classes,
        palette=JOB.palette,
    script:
        "../workflow_scripts/color_palette.py"
