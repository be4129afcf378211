"""Two result sets side by side: which numbers moved beyond seed noise, which stayed
bit-identical, and which settings or code changed between them (`python -m visionrepro.compare`)."""
