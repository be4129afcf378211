"""Pack one split of an image folder at one size, with the record of what it came from."""

import logging

from visionrepro.data.image_folder import folder_record, pack, read_layout
from visionrepro.fileio import write_json
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
log = logging.getLogger("image_folder_pack")
params, w, out = snakemake.params, snakemake.wildcards, snakemake.output
layout = read_layout(params.key, params.path)
data, files = pack(
    layout, w.split, int(w.size), test_fraction=params.test_fraction, seed=params.split_seed
)
data.save(out.pack)
record = folder_record(layout, data, files)
write_json(out.record, record)
log.info(
    "%s %s: %d images %s, per class %s; folder SHA-256 %s",
    params.path,
    w.split,
    len(data),
    data.images.shape,
    record["per_class"],
    record["sha256"],
)
