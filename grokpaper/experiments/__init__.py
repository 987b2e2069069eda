"""Experiment families: how a figure's runs are described, batched into ensembles and trained."""
