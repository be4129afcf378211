# MNIST, Fashion-MNIST and CIFAR-10: obtain the official files (or a local copy or mirror) into
# {data_dir}/{dataset}/raw/ (the root torchvision's classes read), then pack each split.
# Download settings and the mirror URL reach source_fetch as a Transfer object, outside
# Snakemake's params trigger: the official MD5s decide what is fetched.
from visionrepro.data.torchvision_config import DATASETS, demo_copy
from visionrepro.data.transport.fetch import Transfer

SOURCES = {name: config[name] for name in DATASETS}
SOURCE_NAMES = one_of(SOURCES)
# Per dataset: the demo's synthetic copy it reads (none outside the demo), and its download.
DEMO_COPIES = {
    name: demo_copy(name, source["local_dir"], DEMO) or []
    for name, source in SOURCES.items()
}
TRANSFERS = {
    name: Transfer(url=source["url"], **source["download"])
    for name, source in SOURCES.items()
}


if DEMO and DEMO.get("sources_dir"):

    rule demo_source:
        input:
            code=code("demo_source"),
        output:
            directory(f"{DEMO['sources_dir']}/{{dataset}}"),
        log:
            f"{LOGS}/data/demo_source_{{dataset}}.log",
        benchmark:
            LAYOUT.benchmark("data/demo_source_{dataset}")
        wildcard_constraints:
            dataset=SOURCE_NAMES,
        conda:
            "../envs/visionrepro.yaml"
        threads: 1
        resources:
            mem_mb=job("small", "mem_mb"),
            runtime=job("small", "runtime"),
        params:
            idx_images=DEMO["idx_images"],
            cifar10_per_class=DEMO["cifar10_per_class"],
            seed=DEMO["seed"],
        script:
            "../workflow_scripts/demo_source.py"


rule source_fetch:
    input:
        demo=lookup(dpath="{dataset}", within=DEMO_COPIES),
        code=code("source_fetch"),
    output:
        directory(f"{DATA}/{{dataset}}/raw"),
    log:
        f"{LOGS}/data/source_fetch_{{dataset}}.log",
    benchmark:
        LAYOUT.benchmark("data/source_fetch_{dataset}")
    wildcard_constraints:
        dataset=SOURCE_NAMES,
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("data", "runtime"),
    params:
        transfer=lookup(dpath="{dataset}", within=TRANSFERS),
        local_dir=lookup(dpath="{dataset}/local_dir", within=SOURCES),
        md5_check=lookup(dpath="{dataset}/md5_check", within=SOURCES),
        downloads=f"{DATA}/{{dataset}}/downloads",
    script:
        "../workflow_scripts/source_fetch.py"


rule source_pack:
    input:
        raw=f"{DATA}/{{dataset}}/raw",
        code=code("source_pack"),
    output:
        train=LAYOUT.packed("{dataset}", "train"),
        test=LAYOUT.packed("{dataset}", "test"),
    log:
        f"{LOGS}/data/source_pack_{{dataset}}.log",
    benchmark:
        LAYOUT.benchmark("data/source_pack_{dataset}")
    wildcard_constraints:
        dataset=SOURCE_NAMES,
    conda:
        "../envs/visionrepro.yaml"
    threads: 1
    resources:
        mem_mb=job("small", "mem_mb"),
        runtime=job("small", "runtime"),
    params:
        md5_check=lookup(dpath="{dataset}/md5_check", within=SOURCES),
    script:
        "../workflow_scripts/source_pack.py"
