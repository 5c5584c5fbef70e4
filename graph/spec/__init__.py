"""The lift-sys IR as the graph serves it, computed in Python (no I/O): its typed holes,
suggestions for the open ones, and the comparison of two drafts.

    holes.py        the holes of an IR, in IR order, and their status from resolutions
    suggestions.py  what to answer an open hole with (a table in docs/ARCHITECTURE.md)
    compare.py      a structured field diff of two IRs, per category, with similarity
"""
