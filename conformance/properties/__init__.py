"""The property-based suite: Hypothesis strategies for the contract models and the stateful
machine that drives a plugin through random lifecycles."""
