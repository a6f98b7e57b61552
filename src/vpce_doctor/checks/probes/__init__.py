"""Probes: the only code that touches the network. Each returns evidence, never raises for
network trouble, and is bounded by the timeout it is handed."""
