rule aggregate:
    input:
        metrics=run_files("metrics.json"),
        code=lib("metrics", "tables"),
    output:
        summary=report(
            f"{RESULTS}/tables/summary.csv",
            caption="../report/summary.rst",
            category="Tables",
        ),
        runs=report(
            f"{RESULTS}/tables/runs.csv",
            caption="../report/runs.rst",
            category="Tables",
        ),
        per_class=f"{RESULTS}/tables/per_class.csv",
    log:
        f"{LOGS}/report/aggregate.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        references={name: exp.get("reference", {}) for name, exp in EXPERIMENTS.items()},
    script:
        "../workflow_scripts/aggregate.py"


rule plot_experiment:
    input:
        histories=lambda w: run_files("train.json", w.experiment),
        metrics=lambda w: run_files("metrics.json", w.experiment),
        code=lib("figures"),
    output:
        loss=report(
            f"{RESULTS}/figures/{{experiment}}/loss.png",
            caption="../report/loss.rst",
            category="{experiment}",
        ),
        confusion=report(
            f"{RESULTS}/figures/{{experiment}}/confusion.png",
            caption="../report/confusion.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/plot_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(experiments_of("classification")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/plot_experiment.py"


rule plot_segmentation:
    input:
        histories=lambda w: run_files("train.json", w.experiment),
        metrics=lambda w: run_files("metrics.json", w.experiment),
        predicted=lambda w: first_seed_files("predicted_masks.npz", w.experiment),
        val=lambda w: experiment_dataset(w, "val"),
        val_masks=lambda w: experiment_masks(w, "val"),
        code=lib("figures", "datasets"),
    output:
        loss=report(
            f"{RESULTS}/figures/{{experiment}}/loss.png",
            caption="../report/loss.rst",
            category="{experiment}",
        ),
        per_class=report(
            f"{RESULTS}/figures/{{experiment}}/per_class_iou.png",
            caption="../report/per_class_iou.rst",
            category="{experiment}",
        ),
        predictions=report(
            f"{RESULTS}/figures/{{experiment}}/predictions.png",
            caption="../report/predictions.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/plot_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(experiments_of("segmentation")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        networks=lambda w: EXPERIMENTS[w.experiment]["networks"],
        per_class=2,
    script:
        "../workflow_scripts/plot_segmentation.py"


rule plot_metric:
    input:
        summary=f"{RESULTS}/tables/summary.csv",
        code=lib("figures"),
    output:
        report(
            f"{RESULTS}/figures/{{metric}}.png",
            caption="../report/metric_bars.rst",
            category="Summary",
        ),
    log:
        f"{LOGS}/report/plot_{{metric}}.log",
    wildcard_constraints:
        metric="val_accuracy|miou",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        label=lambda w: {"val_accuracy": "val accuracy (%)", "miou": "val mIoU (%)"}[
            w.metric
        ],
    script:
        "../workflow_scripts/plot_metric.py"


rule plot_samples:
    input:
        train=lambda w: packed(w.dataset, "train"),
        code=lib("figures", "datasets"),
    output:
        report(
            f"{RESULTS}/figures/{{dataset}}/samples.png",
            caption="../report/samples.rst",
            category="Datasets",
        ),
    log:
        f"{LOGS}/report/plot_samples_{{dataset}}.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/plot_samples.py"


rule plot_masks:
    input:
        train=lambda w: packed(w.dataset, "train"),
        masks=lambda w: packed_masks(w.dataset, "train"),
        code=lib("figures", "datasets"),
    output:
        report(
            f"{RESULTS}/figures/{{dataset}}/masks.png",
            caption="../report/masks.rst",
            category="Datasets",
        ),
    log:
        f"{LOGS}/report/plot_masks_{{dataset}}.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/plot_samples.py"


rule report_html:
    input:
        summary=f"{RESULTS}/tables/summary.csv",
        runs=f"{RESULTS}/tables/runs.csv",
        per_class=f"{RESULTS}/tables/per_class.csv",
        manifest=f"{DATA}/coco/subset/manifest.csv",
        figures=[entry[2] for entry in figure_entries()],
        captions=sorted({f"report/{entry[3]}.rst" for entry in figure_entries()}),
        notes="report/workflow.rst",
        code=lib("report", "tables"),
        template=str(SRC / "visionrepro" / "templates" / "report.html.j2"),
    output:
        f"{RESULTS}/report/index.html",
    log:
        f"{LOGS}/report/report_html.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        figures=figure_entries(),
        config=config,
    script:
        "../workflow_scripts/report_html.py"
