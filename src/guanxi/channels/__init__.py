"""Connected accounts: a brand's official accounts on each platform, and their tokens."""
