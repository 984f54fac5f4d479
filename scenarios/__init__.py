"""Bundled lupsim scenarios (TOML files); installed as lupsim._bundled."""
