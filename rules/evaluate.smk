# Score each trained run on its evaluation split. One rule, made twice: for the classification
# experiments, and for those whose runs predict per pixel (segmentation, colorization), which
# also keep their predicted masks.
for _dense in (False, True):

    rule:
        name:
            "evaluate_dense" if _dense else "evaluate"
        input:
            model=LAYOUT.run_pattern("model.pt"),
            history=LAYOUT.run_pattern("train.json"),
            val=pack("eval"),
            val_masks=masks("val"),
            palette=palette_file,
            network=network_file,
            code=code("evaluate"),
        output:
            **({"masks": LAYOUT.run_pattern("predicted_masks.npz")} if _dense else {}),
            metrics=LAYOUT.run_pattern("metrics.json"),
            predictions=LAYOUT.run_pattern("predictions.csv"),
        log:
            f"{LOGS}/evaluate/{{experiment}}/{{variant}}/seed{{seed}}.log",
        benchmark:
            LAYOUT.benchmark("evaluate/{experiment}/{variant}/seed{seed}")
        wildcard_constraints:
            experiment=one_of(
                PLAN.dense() if _dense else PLAN.of_task("classification")
            ),
        conda:
            "../envs/visionrepro.yaml"
        threads: 1
        resources:
            mem_mb=job("small", "mem_mb"),
            runtime=job("small", "runtime"),
        params:
            data=JOB.data,
        script:
            "../workflow_scripts/evaluate.py"
