"""Draw the exclusive-category COCO subset; write the manifest and the reference's JSON."""

import logging

from visionrepro.data.coco_subset import load_coco, reference_json, select_subset
from visionrepro.fileio import atomic_path, write_json
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
log = logging.getLogger("coco_subset")
params = snakemake.params

cocos = {
    name: load_coco(path)
    for name, path in zip(params.annotation_sets, snakemake.input.annotations, strict=True)
}
subset = select_subset(
    cocos, params.categories, params.per_class["train"], params.per_class["val"], params.seed
)
counts = subset.groupby(["category", "split"]).size().unstack()
log.info("subset drawn with seed %d:\n%s", params.seed, counts.to_string())
with atomic_path(snakemake.output.manifest) as tmp:
    subset.to_csv(tmp, index=False)
write_json(snakemake.output.dataset, reference_json(subset, params.categories))
