"""Stage 1, inputs: what a prompt and a response are and how chat / completion formats become them (prompts),
labelled examples read and checked (data), images decoded (images), config field checks (checks), CLI flags from
the config dataclasses (flags), progress bars (progress). No torch."""
