"""docs/results.md is the RESULTS.md of the published real-data run, recomputed from its per-seed
table by one command (issue 21.6): `python -m visionrepro.report.republish docs/published --out
docs/results.md`. A change to the statistics or to RESULTS.md's layout shows up here as a diff to
regenerate and review."""

from workflow_helpers import PROJECT

from visionrepro.report.republish import republish

PUBLISHED = PROJECT / "docs" / "published"


def test_docs_results_is_what_the_published_per_seed_table_gives() -> None:
    assert republish(PUBLISHED) == (PROJECT / "docs" / "results.md").read_text()


def test_the_published_table_has_a_row_per_run_with_its_settings_and_provenance() -> None:
    import pandas as pd

    runs = pd.read_csv(PUBLISHED / "runs.csv")
    assert not runs.duplicated(["experiment", "variant", "seed"]).any()
    for column in ("settings", "data_version", "code_version", "cpu", "torch", "n_eval"):
        assert runs[column].notna().all(), column
