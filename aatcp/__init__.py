"""aatcp toolkit: build, local lab, deploy, experiments and plots for the aatcp TCP stack.

The public API other code should use (see docs/toolkit.md):

- :func:`aatcp.lab.load_lab` -> :class:`aatcp.lab.Lab` (hosts, links, SSH, stack configs)
- :mod:`aatcp.netlab` (local lab up/down/status, test labs)
- :mod:`aatcp.deploy` (ship binaries, verify build-ids)
- :mod:`aatcp.runner` (:class:`aatcp.runner.Experiment`, run and plot experiments)
"""

__version__ = "0.1.0"
