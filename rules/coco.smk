# COCO 2017: the annotations, the subset drawn from them, its images (cached at 64x64), and the
# packed images and masks per split. Download settings and URLs reach the rules as a Transfer
# object, outside Snakemake's params trigger: the MD5 and the subset's manifest decide reruns.
from visionrepro.data.transport.fetch import Transfer

COCO_DIR = f"{DATA}/coco"
ANNOTATIONS = expand(
    f"{COCO_DIR}/annotations/instances_{{annotation_set}}.json",
    annotation_set=COCO["annotation_sets"],
)
IMAGE_CACHE = f"{COCO_DIR}/images{COCO['image_size']}"

if DEMO:

    rule demo_mirror:
        input:
            code=code("demo_mirror"),
        output:
            demo_mirror(),
        log:
            f"{LOGS}/data/demo_mirror.log",
        benchmark:
            LAYOUT.benchmark("data/demo_mirror")
        conda:
            "../envs/visionrepro.yaml"
        threads: 1
        resources:
            mem_mb=job("small", "mem_mb"),
            runtime=job("small", "runtime"),
        params:
            root=Path(DEMO["mirror_dir"]),  # a Path: outside the params trigger, as before
            images_per_class=DEMO["images_per_class"],
            seed=DEMO["seed"],
        script:
            "../workflow_scripts/demo_mirror.py"


rule coco_annotations:
    input:
        demo_mirror(),
        code=code("coco_annotations"),
    output:
        ANNOTATIONS,
    log:
        f"{LOGS}/data/coco_annotations.log",
    benchmark:
        LAYOUT.benchmark("data/coco_annotations")
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("data", "runtime"),
    params:
        transfer=Transfer(url=COCO["annotations_url"], **COCO["download"]),
        md5=COCO["annotations_md5"],
        local_dir=COCO["local_dir"],
        archive=f"{COCO_DIR}/downloads/annotations_trainval2017.zip",
    script:
        "../workflow_scripts/coco_annotations.py"


rule coco_subset:
    input:
        annotations=ANNOTATIONS,
        code=code("coco_subset"),
    output:
        manifest=f"{COCO_DIR}/subset/manifest.csv",
        dataset=f"{COCO_DIR}/subset/dataset.json",
    log:
        f"{LOGS}/data/coco_subset.log",
    benchmark:
        LAYOUT.benchmark("data/coco_subset")
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("data", "mem_mb"),
        runtime=job("data", "runtime"),
    params:
        annotation_sets=COCO["annotation_sets"],
        categories=COCO["categories"],
        per_class=COCO["per_class"],
        seed=COCO["split_seed"],
    script:
        "../workflow_scripts/coco_subset.py"


rule coco_images:
    input:
        demo_mirror(),
        manifest=f"{COCO_DIR}/subset/manifest.csv",
        code=code("coco_images"),
    output:
        index=f"{IMAGE_CACHE}/index.csv",
    log:
        f"{LOGS}/data/coco_images.log",
    benchmark:
        LAYOUT.benchmark("data/coco_images")
    conda:
        "../envs/visionrepro.yaml"
    threads: job("data", "threads")
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("data", "runtime"),
    params:
        transfer=Transfer(url=COCO["images_url"], **COCO["download"]),
        local_dir=COCO["local_dir"],
        size=COCO["image_size"],
    script:
        "../workflow_scripts/coco_images.py"


rule coco_pack:
    input:
        manifest=f"{COCO_DIR}/subset/manifest.csv",
        index=f"{IMAGE_CACHE}/index.csv",
        code=code("coco_pack"),
    output:
        train=LAYOUT.packed("coco", "train"),
        val=LAYOUT.packed("coco", "val"),
    log:
        f"{LOGS}/data/coco_pack.log",
    benchmark:
        LAYOUT.benchmark("data/coco_pack")
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        size=COCO["image_size"],
        categories=COCO["categories"],
    script:
        "../workflow_scripts/coco_pack.py"


rule coco_masks:
    input:
        annotations=ANNOTATIONS,
        manifest=f"{COCO_DIR}/subset/manifest.csv",
        code=code("coco_masks"),
    output:
        train=LAYOUT.packed_masks("coco", "train"),
        val=LAYOUT.packed_masks("coco", "val"),
    log:
        f"{LOGS}/data/coco_masks.log",
    benchmark:
        LAYOUT.benchmark("data/coco_masks")
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("data", "mem_mb"),
        runtime=job("data", "runtime"),
    params:
        annotation_sets=COCO["annotation_sets"],
        size=COCO["image_size"],
    script:
        "../workflow_scripts/coco_masks.py"
