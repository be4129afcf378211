"""The plan of a workflow run: what runs (experiments resolved into variants and runs, the data
each reads, one path layout) and what the report judges (headline metrics, references, seed
draws, comparison groups), built once from the config while Snakemake parses the workflow
(plan.load.load_plan).

The rules (rules/common.smk's input functions), `compare` and the report read it; nothing
re-derives it from the raw config. Importable without torch, pandas or scipy. Modules: layout
(paths), draws (what a seed draws), model (the frozen types), load (checks and resolution),
figures (the figure kinds), outputs (what a run makes), writeups (the write-up files). The
vocabulary it shares with the engine sits one level down: visionrepro.tasks (what each task
is), visionrepro.networks (network references), visionrepro.code_inputs (each rule's code).
"""
