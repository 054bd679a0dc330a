"""Chinese NLP: the sentiment model and text enrichment, from the command line."""

from guanxi.core.capability import Capability
from guanxi.nlp import cli

capability = Capability(name="nlp", cli=cli.register)
