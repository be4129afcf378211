"""Pack one split of an image folder at one size, with the record of what it came from."""

import logging

from visionrepro.data.image_folder import folder_record, pack, read_layout
from visionrepro.fileio import write_json
from visionrepro.logs import setup_logging

setup_logging(snakemake.log[0])
log = logging.getLogger("image_folder_pack")
params, w, out = snakemake.params, snakemake.wildcards, snakemake.output
folder = params.folder  # path, and test_fraction and split_seed for a seeded split
layout = read_layout(params.key, folder["path"])
split_settings = {k: v for k, v in folder.items() if k != "path"}
data, files = pack(layout, w.split, int(w.size), **split_settings)
data.save(out.pack)
record = folder_record(layout, data, files)
write_json(out.record, record)
log.info(
    "%s %s: %d images %s, per class %s; folder SHA-256 %s",
    folder["path"],
    w.split,
    len(data),
    data.images.shape,
    record["per_class"],
    record["sha256"],
)
