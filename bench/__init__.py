"""resolve311's benchmarks, each side by side with the alternative a user would pick.

Run ``python -m bench`` (``make bench``); it writes BENCHMARKS.md. See bench/__main__.py
for the options and docs in BENCHMARKS.md's header for what each benchmark measures.
"""
