"""Service room: joins engine, store, VidiCore client and callback store to run jobs.

The only room that imports all the others; only the CLI imports it.
"""
