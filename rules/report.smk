include: "report_common.smk"


rule aggregate:
    input:
        metrics=run_files("metrics.json"),
        histories=convergence_histories(),
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
        convergence=report(
            f"{RESULTS}/tables/convergence.csv",
            caption="../report/convergence.rst",
            category="Tables",
        ),
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
        convergence={
            name: exp["convergence"]
            for name, exp in EXPERIMENTS.items()
            if "convergence" in exp
        },
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
    params:
        split=lambda w: eval_split(w.experiment),
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
        variants=lambda w: list(VARIANTS[w.experiment]),
        per_class=2,
    script:
        "../workflow_scripts/plot_segmentation.py"


rule plot_loss:
    input:
        histories=lambda w: run_files("train.json", w.experiment),
        code=lib("figures"),
    output:
        loss=report(
            f"{RESULTS}/figures/{{experiment}}/loss.png",
            caption="../report/loss.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/plot_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(experiments_of("colorization")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/plot_loss.py"


rule plot_misclassified:
    input:
        predictions=lambda w: first_seed_file(
            "predictions.csv", w.experiment, w.variant
        ),
        data=lambda w: packed(
            EXPERIMENTS[w.experiment]["dataset"], eval_split(w.experiment)
        ),
        code=lib("figures", "datasets"),
    output:
        report(
            f"{RESULTS}/figures/{{experiment}}/misclassified_{{variant}}.png",
            caption="../report/misclassified.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/plot_misclassified_{{experiment}}_{{variant}}.log",
    wildcard_constraints:
        experiment=one_of(with_figure("misclassified")),
        variant=one_of(
            sorted({v for e in with_figure("misclassified") for v in VARIANTS[e]})
        ),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        n=20,
        split=lambda w: eval_split(w.experiment),
    script:
        "../workflow_scripts/plot_misclassified.py"


rule plot_grad_mean:
    input:
        histories=lambda w: run_files("train.json", w.experiment),
        code=lib("figures"),
    output:
        report(
            f"{RESULTS}/figures/{{experiment}}/grad_mean.png",
            caption="../report/grad_mean.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/plot_grad_mean_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(with_figure("grad_mean")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/plot_grad_mean.py"


rule plot_curves:
    input:
        histories=lambda w: run_files("train.json", w.experiment),
        code=lib("figures"),
    output:
        report(
            f"{RESULTS}/figures/{{experiment}}/curves.png",
            caption="../report/curves.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/plot_curves_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(with_figure("curves")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/plot_curves.py"


rule plot_spread:
    input:
        metrics=lambda w: run_files("metrics.json", w.experiment),
        code=lib("figures"),
    output:
        report(
            f"{RESULTS}/figures/{{experiment}}/spread.png",
            caption="../report/spread.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/plot_spread_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(with_figure("spread")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        metric=lambda w: headline_metric(w.experiment),
        references=lambda w: {
            variant: numbers.get(headline_metric(w.experiment))
            for variant, numbers in EXPERIMENTS[w.experiment]
            .get("reference", {})
            .items()
        },
    script:
        "../workflow_scripts/plot_spread.py"


rule plot_colour_examples:
    input:
        data=lambda w: packed(
            EXPERIMENTS[w.experiment]["dataset"], eval_split(w.experiment)
        ),
        palette=f"{RESULTS}/palettes/{{experiment}}.npz",
        predicted=lambda w: first_seed_files("predicted_masks.npz", w.experiment),
        code=lib("figures", "datasets", "colour"),
    output:
        report(
            f"{RESULTS}/figures/{{experiment}}/colour_examples.png",
            caption="../report/colour_examples.rst",
            category="{experiment}",
        ),
    log:
        f"{LOGS}/report/plot_colour_examples_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(with_figure("colour_examples")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        variants=lambda w: list(VARIANTS[w.experiment]),
        classes=lambda w: EXPERIMENTS[w.experiment].get("classes"),
        n=6,
    script:
        "../workflow_scripts/plot_colour_examples.py"


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
        metric=one_of(bar_metrics()),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
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
        convergence=f"{RESULTS}/tables/convergence.csv",
        runs=f"{RESULTS}/tables/runs.csv",
        per_class=f"{RESULTS}/tables/per_class.csv",
        packs=[packed(*pair) for pair in dataset_splits()],
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
        packs=dataset_splits(),
        config=config,
    script:
        "../workflow_scripts/report_html.py"
