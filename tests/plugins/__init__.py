"""Plugins the tests load by spec (``tests.plugins.<module>:<Class>``)."""
