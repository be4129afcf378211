# The user's image folders (image_folders in the config): each split of a folder resized to an
# experiment's image_size and packed, with a record of what it came from (the folder's SHA-256,
# each id's file). Every image file is an input: adding, removing or editing one repacks.
# The folders the enabled experiments read (their layouts read while parsing).
FOLDERS = PLAN.folders()


rule image_folder_pack:
    input:
        images=lambda w: [str(path) for path in FOLDERS[w.folder].layout.files],
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
