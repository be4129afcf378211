"""Three training images per class (rules plot_samples, and plot_masks with their masks)."""

from visionrepro.data.datasets import ArrayDataset
from visionrepro.logs import setup_logging
from visionrepro.report import figures

setup_logging(snakemake.log[0])
masks = snakemake.input.get("masks")
dataset = ArrayDataset.load(snakemake.input.train, masks=masks)
figures.save(
    figures.sample_grid(
        dataset, snakemake.wildcards.dataset, per_class=3, with_masks=masks is not None
    ),
    snakemake.output[0],
)
