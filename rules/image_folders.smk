# The user's image folders (image_folders in the config): each split of a folder resized to an
# experiment's image_size and packed, with a record of what it came from (the folder's SHA-256,
# each id's file). A split's one input is its manifest (each image's path and SHA-256), written
# while parsing only when it changed: adding, removing or editing an image of a split repacks
# that split only (a seeded split: both), and an image new to it that cannot be read is named
# before any job runs.
from visionrepro.data.image_folder import write_manifests

# The folders the enabled experiments read (their layouts read while parsing).
FOLDERS = PLAN.folders()
MANIFESTS = {
    name: write_manifests(folder.layout, Path(LAYOUT.data, name, "manifest"))
    for name, folder in FOLDERS.items()
}


rule image_folder_pack:
    input:
        manifest=lambda w: MANIFESTS[w.folder][
            FOLDERS[w.folder].layout.source_split(w.split)
        ],
        code=code("image_folder_pack"),
    output:
        pack=LAYOUT.packed("{folder}_{size}px", "{split}"),
        record=LAYOUT.folder_record("{folder}_{size}px", "{split}"),
    log:
        f"{LOGS}/data/image_folder_pack_{{folder}}_{{size}}px_{{split}}.log",
    wildcard_constraints:
        folder=one_of(FOLDERS),
        size=r"\d+",
        split="train|val|test",
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("data", "runtime"),
    params:
        key=lambda w: f"image_folders.{w.folder}",
        folder=lambda w: FOLDERS[w.folder].split_settings(),
    script:
        "../workflow_scripts/image_folder_pack.py"
