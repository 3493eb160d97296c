"""Stage 10, applications: the command line (cli), best-of-n sampling, the demo on bundled criteria (bundled,
criteria/), and plots."""
