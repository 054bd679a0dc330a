"""Development tools the product never imports: benchmarks and their data.

Only the command line imports these modules, lazily, inside the commands that run them.
"""
