"""Where everything lives: one path layout for the rules, `compare` and the report alike.

A run's folder is `<results>/runs/<experiment>/<variant>/seed<seed>`; a dataset's packs are
`<data>/<key>/packed/<split>.npz` (masks beside them as `<split>_masks.npz`); a colorization
run's palette `<results>/palettes/<experiment>/seed<palette seed>.npz`; a job's benchmark
`<results>/benchmarks/<its log's name>.tsv`.
"""

from dataclasses import dataclass
from pathlib import Path

RUN_DIR = "runs/{experiment}/{variant}/seed{seed}"


def run_path(results: str | Path, experiment: str, variant: str, seed: int | str) -> Path:
    """The folder of one run under a results folder."""
    return Path(results) / RUN_DIR.format(experiment=experiment, variant=variant, seed=seed)


@dataclass(frozen=True)
class Layout:
    """The paths of one workflow run, under its results and data folders."""

    results: str
    data: str

    @property
    def logs(self) -> str:
        return f"{self.results}/logs"

    def run_dir(self, experiment: str, variant: str, seed: int | str) -> str:
        return f"{self.results}/{RUN_DIR.format(experiment=experiment, variant=variant, seed=seed)}"

    def run_pattern(self, name: str) -> str:
        """A run's file `name` with Snakemake wildcards for experiment, variant and seed."""
        return self.run_dir("{experiment}", "{variant}", "{seed}") + f"/{name}"

    def packed(self, key: str, split: str) -> str:
        return f"{self.data}/{key}/packed/{split}.npz"

    def packed_masks(self, key: str, split: str) -> str:
        return f"{self.data}/{key}/packed/{split}_masks.npz"

    def folder_record(self, key: str, split: str) -> str:
        """What an image folder's packed split came from (its files and their SHA-256)."""
        return f"{self.data}/{key}/packed/{split}.json"

    def palette(self, experiment: str, seed: int | str) -> str:
        return f"{self.results}/palettes/{experiment}/seed{seed}.npz"

    def table(self, name: str) -> str:
        return f"{self.results}/tables/{name}.csv"

    def report(self, name: str) -> str:
        return f"{self.results}/report/{name}"

    def figure(self, path: str) -> str:
        return f"{self.results}/figures/{path}"

    def benchmark(self, name: str) -> str:
        """A job's Snakemake benchmark (a TSV: wall time, CPU time, peak memory), named like
        its log under logs/."""
        return f"{self.results}/benchmarks/{name}.tsv"
