"""The reporting stage: the result tables, verdicts against the write-ups, where the seeds'
spread comes from, figures, the HTML report (html, views, templates) and RESULTS.md."""
