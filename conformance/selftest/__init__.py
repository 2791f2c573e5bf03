"""The plugin self-test: broken plugins (mutants), each caught by the rule it breaks."""
