"""Analysis of the brand's own posts: content, best time to post, top and bottom posts."""
