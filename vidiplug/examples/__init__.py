"""Example custom-insight models shipped with vidiplug (README "Bring your own model").

Each is an ordinary plugin: it uses only the contract of pipeline/byom.py and is registered
through the ``vidiplug.models`` entry point group, like a model of your own would be.
"""
