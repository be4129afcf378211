# Helpers of the report rules (rules/report.smk): which figures, tables and metrics exist.


def with_figure(kind):
    """The experiments whose `figures:` list `kind`."""
    return [name for name, exp in EXPERIMENTS.items() if kind in exp.get("figures", [])]


def first_seed_file(name, experiment, variant):
    """`name` of the variant's first-seed run."""
    seed = VARIANTS[experiment][variant]["seeds"][0]
    return f"{run_dir(experiment, variant, seed)}/{name}"


def headline_metric(experiment):
    """The metric of an experiment's bar chart and seed spread: its first summary metric."""
    task = EXPERIMENTS[experiment]["task"]
    if task == "classification":
        return f"{eval_split(experiment)}_accuracy"
    return {"segmentation": "miou", "colorization": "pixel_accuracy"}[task]


def bar_metrics():
    """The metrics with a bar chart over all experiments: each experiment's headline."""
    return list(dict.fromkeys(headline_metric(name) for name in EXPERIMENTS))


def convergence_histories():
    """The histories of the experiments with a convergence table."""
    return [
        path
        for name, exp in EXPERIMENTS.items()
        if "convergence" in exp
        for path in run_files("train.json", name)
    ]


def dataset_splits():
    """(dataset, split) of every packed split in use: train and each evaluation split."""
    pairs = {
        (exp["dataset"], split)
        for name, exp in EXPERIMENTS.items()
        for split in ("train", eval_split(name))
    }
    return sorted(pairs, key=lambda pair: (pair[0], pair[1] != "train", pair[1]))


METRIC_TITLES = {
    "val_accuracy": "Val accuracy",
    "test_accuracy": "Test accuracy",
    "miou": "Val mIoU",
    "pixel_accuracy": "Pixel accuracy",
}


def experiment_figures(name):
    """(title, path, caption) of an experiment's figures: by task, then its `figures:` kinds."""
    exp, split = EXPERIMENTS[name], eval_split(name)
    figures = f"{RESULTS}/figures/{name}"
    entries = [("Training loss", f"{figures}/loss.png", "loss")]
    if exp["task"] == "segmentation":
        entries += [
            ("IoU per class", f"{figures}/per_class_iou.png", "per_class_iou"),
            ("Val predictions", f"{figures}/predictions.png", "predictions"),
        ]
    elif exp["task"] == "classification":
        entries.append(("Confusion matrices", f"{figures}/confusion.png", "confusion"))
    titles = {
        "grad_mean": "Mean gradient over the first training steps",
        "curves": "Loss and accuracy per epoch",
        "spread": f"{METRIC_TITLES.get(headline_metric(name), headline_metric(name))} "
        "of every seed",
        "colour_examples": f"Grey input, predicted and true colours ({split} images)",
    }
    for kind in exp.get("figures", []):
        if kind == "misclassified":
            entries += [
                (
                    f"First misclassified {split} images: {variant}",
                    f"{figures}/misclassified_{variant}.png",
                    "misclassified",
                )
                for variant in VARIANTS[name]
            ]
        else:
            entries.append((titles[kind], f"{figures}/{kind}.png", kind))
    return entries


def figure_entries():
    """(section, title, path, caption) of every figure in the HTML report; an experiment's
    figures have its name as their section."""
    entries = [
        (name, *entry) for name in EXPERIMENTS for entry in experiment_figures(name)
    ]
    entries += [
        (
            "Summary figures",
            f"{METRIC_TITLES.get(metric, metric)} per variant",
            f"{RESULTS}/figures/{metric}.png",
            "metric_bars",
        )
        for metric in bar_metrics()
    ]
    for dataset in datasets():
        entries.append(
            (
                f"Dataset {dataset}",
                "Training images",
                f"{RESULTS}/figures/{dataset}/samples.png",
                "samples",
            )
        )
    for dataset in datasets("segmentation"):
        entries.append(
            (
                f"Dataset {dataset}",
                "Training images with their masks",
                f"{RESULTS}/figures/{dataset}/masks.png",
                "masks",
            )
        )
    return entries
