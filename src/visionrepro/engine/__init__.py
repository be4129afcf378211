"""The training engine: a run's settings, what the network sees (model_inputs), losses,
precision, the training loop and its checkpoints, an experiment's splits, evaluation and its
metrics, GPU slots."""
