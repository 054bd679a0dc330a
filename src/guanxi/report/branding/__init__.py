"""A workspace's look on its reports (white-label): logo, colours and PowerPoint master."""
