"""``guanxi bench ...``: each capability under load, on scratch data it sets up and removes."""
