"""Debates: the brand's topic campaigns (``#话题#``) and the participation they draw."""
