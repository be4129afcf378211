include: "report_common.smk"


rule aggregate:
    input:
        metrics=PLAN.run_files("metrics.json"),
        histories=[
            path
            for name, exp in PLAN.experiments.items()
            if exp.reads_histories()
            for path in PLAN.run_files("train.json", name)
        ],
        code=code("aggregate"),
        # in the DAG of every report of the tables: notes their being older than the config
        stale=stale_results_note,
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
        per_class=report(
            f"{RESULTS}/tables/per_class.csv",
            caption="../report/per_class.rst",
            category="Tables",
        ),
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
        experiments=specs(),
    script:
        "../workflow_scripts/aggregate.py"


# Every figure kind (src/visionrepro/plan/figures.py) by one rule, made once per kind and
# named plot_<kind>: its inputs and settings are the kind's, its drawing report/plots.py's.
for _kind in plots.KINDS.values():

    rule:
        name:
            f"plot_{_kind.name}"
        input:
            unpack(figure_inputs(_kind.name)),
            code=code("plot"),
        output:
            report(
                LAYOUT.figure(_kind.path),
                caption=f"../report/{_kind.name}.rst",
                category=_kind.section,
                labels={"figure": _kind.title},
            ),
        log:
            f"{LOGS}/report/plot_{_kind.name}_{plots.LOG_WILDCARDS[_kind.shape]}.log",
        wildcard_constraints:
            **{
                ("dataset" if _kind.shape == plots.DATASET else "experiment"): one_of(
                    plots.drawn_for(PLAN, _kind.name)
                )
            },
        conda:
            "../envs/visionrepro.yaml"
        threads: 1
        resources:
            mem_mb=job("small", "mem_mb"),
            runtime=job("small", "runtime"),
        params:
            kind=_kind.name,
            settings=figure_params(_kind.name),
        script:
            "../workflow_scripts/plot.py"


rule changes:
    input:
        earlier=earlier_input,
        runs=result_table("runs"),
        code=code("changes"),
    output:
        report(
            f"{RESULTS}/tables/changes.csv",
            caption="../report/changes.rst",
            category="Tables",
        ),
    log:
        f"{LOGS}/report/changes.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        compare=comparison_setting(),
        tolerances={name: e.spec()["tolerance"] for name, e in PLAN.experiments.items()},
    script:
        "../workflow_scripts/changes.py"


rule report_html:
    input:
        unpack(changes_input),
        glance=result_table("glance"),
        comparisons=result_table("comparisons"),
        summary=result_table("summary"),
        convergence=result_table("convergence"),
        runs=result_table("runs"),
        per_class=result_table("per_class"),
        packs=[LAYOUT.packed(*pair) for pair in PLAN.packed_splits()],
        figures=[figure.path for figure in plots.all_figures(PLAN)],
        captions=sorted({caption(f.kind) for f in plots.all_figures(PLAN)}),
        notes=f"{REPORT_DIR}/differences.rst",
        code=code("report_html"),
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
        # Shown in snakemake --report (the glance page is a report item): made inert.
        figures=shown([f.entry(caption(f.kind)) for f in plots.all_figures(PLAN)]),
        packs=shown(PLAN.packed_splits()),
        config=shown(config),
        configfiles=config_files,
        experiments=specs(),
        compare=comparison_setting(),
    script:
        "../workflow_scripts/report_html.py"


rule results_md:
    input:
        unpack(changes_input),
        glance=result_table("glance"),
        runs=result_table("runs"),
        code=code("results_md"),
    output:
        markdown=f"{RESULTS}/report/RESULTS.md",
        headline=f"{RESULTS}/report/headline.txt",
        recipe=f"{RESULTS}/report/RESULTS.json",
    log:
        f"{LOGS}/report/results_md.log",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        experiments=specs(),
        compare=comparison_setting(),
        configfiles=config_files,
        note=results_note,
    script:
        "../workflow_scripts/results_markdown.py"
