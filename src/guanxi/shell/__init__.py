"""The shell: the only code that knows every capability.

It finds the installed capabilities (`guanxi.core.capability.capabilities`) and builds from
them the web app, the workspace's front page, the model registry, the worker's schedule and
the command line.
"""
