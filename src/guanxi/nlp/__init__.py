"""Chinese NLP: the enrichment pipeline's steps and the shipped sentiment model."""
