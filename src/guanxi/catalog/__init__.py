"""The platform catalog: every Chinese and foreign platform, its audience, reach and APIs."""
