"""Generate the synthetic COCO mirror of the offline demo (rule demo_mirror)."""

from pathlib import Path

from visionrepro.data.demo.coco_mirror import make_demo_mirror
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
make_demo_mirror(
    Path(snakemake.params.root),
    images_per_class=snakemake.params.images_per_class,
    seed=snakemake.params.seed,
)
