"""Development tools the product never imports: benchmarks (``bench``) and the demo (``demo``).

Only the command line imports these modules, lazily, inside the commands that run them; they
and the command line are the only code that imports the platform sandbox.
"""
