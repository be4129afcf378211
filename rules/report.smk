include: "report_common.smk"


rule aggregate:
    input:
        metrics=run_files("metrics.json"),
        histories=convergence_histories(),
        code=lib(
            "engine/metrics",
            "report/tables",
            "report/verdicts",
            "report/stats",
            "grid",
            "report/shown_params",
        ),
    output:
        glance=report(
            f"{RESULTS}/tables/glance.csv",
            caption="../report/glance.rst",
            category="Tables",
        ),
        comparisons=report(
            f"{RESULTS}/tables/comparisons.csv",
            caption="../report/comparisons.rst",
            category="Tables",
        ),
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
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        references=shown(
            {name: exp.get("reference", {}) for name, exp in EXPERIMENTS.items()}
        ),
        settings=shown({name: verdict_settings(name) for name in EXPERIMENTS}),
        groups=shown(
            {name: comparison_groups(exp) for name, exp in EXPERIMENTS.items()}
        ),
        paired=shown({name: shares_draws(exp) for name, exp in EXPERIMENTS.items()}),
        headline_references=shown(
            {name: headline_references(name) for name in EXPERIMENTS}
        ),
        metrics=shown({name: headline_metric(name) for name in EXPERIMENTS}),
        convergence=shown(
            {
                name: exp["convergence"]
                for name, exp in EXPERIMENTS.items()
                if "convergence" in exp
            }
        ),
    script:
        "../workflow_scripts/aggregate.py"


rule plot_headline:
    input:
        metrics=lambda w: run_files("metrics.json", w.experiment),
        code=lib(
            "report/figures",
            "report/tables",
            "report/verdicts",
            "report/stats",
            "report/shown_params",
        ),
    output:
        figure_output("headline"),
    log:
        f"{LOGS}/report/plot_headline_{{experiment}}.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        settings=lambda w: shown(verdict_settings(w.experiment)),
    script:
        "../workflow_scripts/plot_headline.py"


rule plot_loss:
    input:
        histories=lambda w: run_files("train.json", w.experiment),
        code=lib("report/figures"),
    output:
        figure_output("loss"),
    log:
        f"{LOGS}/report/plot_loss_{{experiment}}.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    script:
        "../workflow_scripts/plot_loss.py"


rule plot_confusion:
    input:
        metrics=lambda w: run_files("metrics.json", w.experiment),
        code=lib("report/figures"),
    output:
        figure_output("confusion"),
    log:
        f"{LOGS}/report/plot_confusion_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(experiments_of("classification")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        split=lambda w: eval_split(w.experiment),
    script:
        "../workflow_scripts/plot_confusion.py"


rule plot_per_class_iou:
    input:
        metrics=lambda w: run_files("metrics.json", w.experiment),
        code=lib("report/figures"),
    output:
        figure_output("per_class_iou"),
    log:
        f"{LOGS}/report/plot_per_class_iou_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(experiments_of("segmentation")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    script:
        "../workflow_scripts/plot_per_class_iou.py"


rule plot_segmentation:
    input:
        predicted=lambda w: [
            first_seed_file("predicted_masks.npz", *run)
            for run in segmentation_runs(w.dataset)
        ],
        val=lambda w: packed(w.dataset, "val"),
        val_masks=lambda w: packed_masks(w.dataset, "val"),
        code=lib("report/figures", "data/datasets"),
    output:
        figure_output("segmentation"),
    log:
        f"{LOGS}/report/plot_segmentation_{{dataset}}.log",
    wildcard_constraints:
        dataset=one_of(datasets_in_use("segmentation")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        runs=lambda w: segmentation_runs(w.dataset),
        per_class=2,
    script:
        "../workflow_scripts/plot_segmentation.py"


rule plot_misclassified:
    input:
        predictions=lambda w: first_seed_file(
            "predictions.csv", w.experiment, w.variant
        ),
        data=lambda w: experiment_dataset(w, "eval"),
        code=lib("report/figures", "data/datasets"),
    output:
        figure_output("misclassified"),
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
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        n=20,
        split=lambda w: eval_split(w.experiment),
    script:
        "../workflow_scripts/plot_misclassified.py"


rule plot_grad_mean:
    input:
        histories=lambda w: run_files("train.json", w.experiment),
        code=lib("report/figures"),
    output:
        figure_output("grad_mean"),
    log:
        f"{LOGS}/report/plot_grad_mean_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(with_figure("grad_mean")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    script:
        "../workflow_scripts/plot_grad_mean.py"


rule plot_curves:
    input:
        histories=lambda w: run_files("train.json", w.experiment),
        code=lib("report/figures"),
    output:
        figure_output("curves"),
    log:
        f"{LOGS}/report/plot_curves_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(with_figure("curves")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    script:
        "../workflow_scripts/plot_curves.py"


rule plot_colour_examples:
    input:
        data=lambda w: experiment_dataset(w, "eval"),
        palettes=lambda w: [
            palette_file(w.experiment, first_seed(w.experiment, v))
            for v in VARIANTS[w.experiment]
        ],
        predicted=lambda w: first_seed_files("predicted_masks.npz", w.experiment),
        code=lib("report/figures", "data/datasets", "data/colour"),
    output:
        figure_output("colour_examples"),
    log:
        f"{LOGS}/report/plot_colour_examples_{{experiment}}.log",
    wildcard_constraints:
        experiment=one_of(with_figure("colour_examples")),
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        variants=lambda w: list(VARIANTS[w.experiment]),
        classes=lambda w: EXPERIMENTS[w.experiment].get("classes"),
        n=6,
    script:
        "../workflow_scripts/plot_colour_examples.py"


rule plot_samples:
    input:
        train=lambda w: packed(w.dataset, "train"),
        code=lib("report/figures", "data/datasets"),
    output:
        figure_output("samples"),
    log:
        f"{LOGS}/report/plot_samples_{{dataset}}.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    script:
        "../workflow_scripts/plot_samples.py"


rule plot_masks:
    input:
        train=lambda w: packed(w.dataset, "train"),
        masks=lambda w: packed_masks(w.dataset, "train"),
        code=lib("report/figures", "data/datasets"),
    output:
        figure_output("masks"),
    log:
        f"{LOGS}/report/plot_masks_{{dataset}}.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    script:
        "../workflow_scripts/plot_samples.py"


rule report_html:
    input:
        glance=result_table("glance"),
        comparisons=result_table("comparisons"),
        summary=result_table("summary"),
        convergence=result_table("convergence"),
        runs=result_table("runs"),
        per_class=result_table("per_class"),
        packs=[packed(*pair) for pair in dataset_splits()],
        figures=[entry.path for entry in figure_entries()],
        captions=sorted({entry.caption for entry in figure_entries()}),
        notes=f"{REPORT_DIR}/workflow.rst",
        code=lib(
            "report/html",
            "report/views",
            "report/tables",
            "report/verdicts",
            "report/stats",
        ),
        template=str(SRC / "visionrepro" / "report" / "templates" / "report.html.j2"),
    output:
        page=f"{RESULTS}/report/index.html",
        glance=report(
            f"{RESULTS}/report/glance.html",
            caption="../report/glance_page.rst",
            category="At a glance",
            labels={"table": "Reproduction at a glance"},
        ),
    log:
        f"{LOGS}/report/report_html.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        figures=[entry._asdict() for entry in figure_entries()],
        packs=dataset_splits(),
        config=config,
        configfiles=lambda w: config_files(),
        variants=VARIANTS,
    script:
        "../workflow_scripts/report_html.py"


rule results_md:
    input:
        glance=result_table("glance"),
        runs=result_table("runs"),
        code=lib(
            "report/results_markdown",
            "report/verdicts",
            "report/views",
            "report/tables",
            "report/stats",
        ),
    output:
        markdown=f"{RESULTS}/report/RESULTS.md",
        headline=f"{RESULTS}/report/headline.txt",
    log:
        f"{LOGS}/report/results_md.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        descriptions={
            name: " ".join(exp.get("description", "").split())
            for name, exp in EXPERIMENTS.items()
        },
        seed_notes={name: seed_note(exp) for name, exp in EXPERIMENTS.items()},
        # Functions, so that Snakemake reads no {wildcard} in these texts.
        configfiles=lambda w: config_files(),
        note=lambda w: config["results_note"],
    script:
        "../workflow_scripts/results_markdown.py"
