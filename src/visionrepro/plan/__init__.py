"""The plan of a workflow run: what runs (experiments resolved into variants and runs, the data
each reads, one path layout) and what the report judges (headline metrics, references, seed
draws, comparison groups), built once from the config while Snakemake parses the workflow
(plan.load.load_plan).

The rules (rules/common.smk's input functions), `compare` and the report read it; nothing
re-derives it from the raw config. Importable without torch, pandas or scipy. Modules:
tasks (what each task is), networks (network references), layout (paths), draws (what a seed
draws), model (the frozen types), load (checks and resolution), figures (the figure kinds),
outputs (what a run makes), code (each rule's code inputs), writeups (the write-up files).
"""
