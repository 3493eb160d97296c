"""Stage 1, inputs: labelled examples and prompts read and checked (data), images decoded (images), config field
checks (checks). No torch."""
