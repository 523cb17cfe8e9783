"""The shop's brand as files: its logo and its colours, each at an address that never changes."""
