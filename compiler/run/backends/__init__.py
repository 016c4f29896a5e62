"""Where a pod's containers run: ``process`` (host tools in a private mount namespace) or ``container``."""
