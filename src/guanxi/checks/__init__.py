"""Chinese-first checks of what is about to be published: language, script, sensitive
words, links unreachable from the mainland, hashtag syntax."""
