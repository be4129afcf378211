"""Generate the demo's synthetic copy of MNIST, Fashion-MNIST or CIFAR-10 (rule demo_source)."""

from pathlib import Path

from visionrepro.data.demo.source_copies import make_demo_source
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
params = snakemake.params
make_demo_source(
    Path(snakemake.output[0]),
    snakemake.wildcards.dataset,
    idx_images=params.idx_images,
    cifar10_per_class=params.cifar10_per_class,
    seed=params.seed,
)
