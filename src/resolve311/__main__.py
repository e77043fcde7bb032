"""``python -m resolve311`` is the same as the ``resolve311`` command."""

from resolve311.cli import main

main()
