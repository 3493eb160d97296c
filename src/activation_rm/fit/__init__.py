"""Stage 5, fitting: mean head activations over few-shot contexts (activations) and head selection by REINFORCE
(selection)."""
